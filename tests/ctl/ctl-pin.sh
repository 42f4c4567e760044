#!/usr/bin/env bash
# tallyctl pin/unpin against a running tallyd fed by the real worker: the pinned
# generation is served (X-Tally-Generation, /v1/snapshot, /metrics, STATUS=) even as
# newer snapshots arrive and across a restart; the worker's pruning keeps it; unpinning
# serves the newest again; a pinned file that disappears or a pin file that does not
# parse leaves tallyd serving what it serves, with the reason logged; pinning a missing
# or invalid generation is refused. Also tallyctl list's "served" column, `tallyctl run`
# without systemd, and dump's rows against tallyd's own rendering of the same view.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"
TALLYCTL=${TALLYCTL:-$TALLY_BUILD_ROOT/ctl/tallyctl}

port=$(free_port)
"$TALLY_GEN" --rows 500 --seed 3 >"$T/in.csv"
# poll_interval is long: what makes tallyd notice the pin is its inotify watch (or SIGHUP)
config_text "$T/snap" "127.0.0.1:$port" "$T/in.csv" 1h >"$T/tally.conf"
mkdir -p "$T/snap"
ctl() { "$TALLYCTL" --config "$T/tally.conf" "$@"; }
work() { "$TALLY_WORKER" --config "$T/tally.conf" 2>>"$T/worker.log" || fail "worker run failed"; }
snap() { printf '%s/snapshot-%020d.msgpack' "$T/snap" "$1"; }
metric() { curl -s --max-time 5 "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
snapinfo() { curl -s --max-time 5 "$URL/v1/snapshot" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
scans() { metric tally_reload_scans_total; }
# settled: tallyd finished at least one whole scan after this call (scans are serial, so
# a second one starting means the first ended), nudged by SIGHUP.
settled() {
        local s0 deadline=$((SECONDS + 10))
        s0=$(scans)
        until (($(scans) >= s0 + 2)); do
                ((SECONDS < deadline)) || fail "tallyd does not rescan"
                kill -HUP "$TALLYD_PID"
                sleep 0.05
        done
}

notify=""
if ldd "$TALLYD" | has libsystemd; then
        listen_notify
        notify=$T/notify.sock
fi

work
work
NOTIFY_SOCKET=$notify start_tallyd
wait_for 10 generation_is 2 || fail "tallyd does not serve generation 2"
ctl list >"$T/list.txt"
has -E '^ +2 .* yes +no ' "$T/list.txt" || { cat "$T/list.txt"; fail "list: generation 2 not shown as served"; }
has -E '^ +1 .* no +no ' "$T/list.txt" || fail "list: generation 1 shown as served"
[[ $(ctl list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["served_generation"])') == 2 ]] ||
        fail "list --json: served_generation"
[[ $(snapinfo 'd["pinned"], d["pinned_generation"]') == "False None" ]] || fail "/v1/snapshot before pinning"
[[ $(metric tally_snapshot_pinned) == 0 ]] || fail "tally_snapshot_pinned before pinning"
pass "list shows what tallyd serves; not pinned"

# --- pin an older generation
ctl pin 1 >"$T/pin.out" || fail "pin 1 failed"
has -xF 'tallyd serves generation 1' "$T/pin.out" || { cat "$T/pin.out"; fail "pin did not confirm"; }
wait_for 10 generation_is 1 || fail "tallyd does not serve the pinned generation"
[[ $(cat "$T/snap/pin") == 1 ]] || fail "pin file content"
[[ $(snapinfo 'd["generation"], d["pinned"], d["pinned_generation"]') == "1 True 1" ]] ||
        fail "/v1/snapshot while pinned: $(curl -s "$URL/v1/snapshot")"
[[ $(metric tally_snapshot_pinned) == 1 && $(metric tally_pinned_generation) == 1 &&
   $(metric tally_snapshot_generation) == 1 ]] || fail "metrics while pinned"
if [[ -n $notify ]]; then
        wait_for 10 grep -Eq '^STATUS=generation 1, [0-9]+ rows, age [0-9]+ s, pinned to generation 1$' "$T/notify.log" ||
                fail "STATUS while pinned: $(tail -2 "$T/notify.log")"
fi
has -F 'Pinned to generation 1' "$T/tallyd.log" || fail "tallyd did not log the pin"
pass "pin 1: served, /v1/snapshot, /metrics${notify:+, STATUS=} say so"

# --- newer snapshots arrive; pruning (keep = 3) keeps the pinned one
for _ in 1 2 3 4; do work; done
[[ -f $(snap 1) && ! -e $(snap 2) && ! -e $(snap 3) && -f $(snap 4) && -f $(snap 6) ]] ||
        fail "pruning: $(ls "$T/snap")"
settled
generation_is 1 || fail "a newer snapshot displaced the pinned one"
has -E '^ +1 .* yes +yes ' <(ctl list) || fail "list: generation 1 not served+pinned"
pass "4 newer generations: still serving 1; pruning kept 1 beside the newest 3"

# --- the pin survives a restart
stop_tallyd
: >"$T/tallyd.log"
start_tallyd
wait_for 10 generation_is 1 || fail "after a restart the pin is not honoured"
pass "restart: serves the pinned generation from the start"

# --- unpin: the newest again; the old one is pruned by the next run
ctl unpin >"$T/unpin.out" || fail "unpin failed"
has -xF 'tallyd serves generation 6' "$T/unpin.out" || { cat "$T/unpin.out"; fail "unpin did not confirm"; }
[[ ! -e $T/snap/pin ]] || fail "pin file still there"
[[ $(metric tally_snapshot_pinned) == 0 && $(metric tally_pinned_generation) == 0 ]] || fail "metrics after unpin"
[[ $(snapinfo 'd["pinned"], d["pinned_generation"]') == "False None" ]] || fail "/v1/snapshot after unpin"
work
wait_for 10 generation_is 7 || fail "generation 7 not served after unpinning"
[[ ! -e $(snap 1) ]] || fail "unpinned generation 1 was not pruned"
[[ $(ctl unpin) == "Not pinned" ]] || fail "unpin when not pinned"
pass "unpin: serves the newest; the formerly pinned generation is pruned like any other"

# --- the pinned file disappears: keep serving it, say why
ctl pin 5 >/dev/null || fail "pin 5"
wait_for 10 generation_is 5 || fail "pin 5 not served"
rm "$(snap 5)"
wait_for 10 grep -q 'Pinned generation 5 is not in .*; keeping generation 5' "$T/tallyd.log" ||
        fail "missing pinned file not logged"
settled
generation_is 5 || fail "tallyd stopped serving generation 5"
# --- a pin file that does not parse: keep serving, say why
printf 'latest\n' >"$T/snap/pin"
wait_for 10 grep -q 'Ignoring .*/pin: not a generation number; keeping generation 5' "$T/tallyd.log" ||
        fail "unusable pin file not logged"
settled
generation_is 5 || fail "an unusable pin file changed what is served"
[[ $(metric tally_snapshot_pinned) == 1 && $(metric tally_pinned_generation) == 0 ]] ||
        fail "metrics with an unusable pin file"
[[ $(snapinfo 'd["pinned"], d["pinned_generation"]') == "True None" ]] || fail "/v1/snapshot with an unusable pin"
has -F 'pin file unusable (not a generation number)' <(ctl list) || fail "list: unusable pin not reported"
ctl unpin | has -F 'Removed an unusable pin file' || fail "unpin of an unusable pin"
wait_for 10 generation_is 7 || fail "not back to the newest after removing the unusable pin"
pass "pinned file removed / garbage pin file: tallyd keeps serving and logs why"

# --- pinning a missing or invalid generation is refused
rc=0; ctl pin 5 2>"$T/err" || rc=$?
((rc == 1)) && has -F 'Refusing to pin generation 5: cannot open' "$T/err" || fail "pin of a missing generation: $rc $(cat "$T/err")"
head -c 100 "$(snap 7)" >"$(snap 8)"
rc=0; ctl pin 8 2>"$T/err" || rc=$?
((rc == 1)) && has -F 'Refusing to pin generation 8:' "$T/err" || fail "pin of an invalid generation: $rc"
[[ ! -e $T/snap/pin ]] || fail "a refused pin left a pin file"
has -E '^ +8 .* invalid: .+' <(ctl list) || fail "list: generation 8 not invalid"
pass "pin of a missing or invalid generation refused, nothing written"

# --- tallyctl run (no systemd unit here: tally-worker directly)
ctl run --worker-path "$TALLY_WORKER" >"$T/run.out" 2>>"$T/worker.log" || fail "tallyctl run failed"
has -xF 'Worker run succeeded: generation 9 written' "$T/run.out" || { cat "$T/run.out"; fail "run output"; }
wait_for 10 generation_is 9 || fail "generation from tallyctl run not served"
rm "$T/in.csv"
rc=0; ctl run --worker-path "$TALLY_WORKER" >/dev/null 2>"$T/err" || rc=$?
((rc == 1)) && has -F 'failed with exit status 1' "$T/err" || fail "failed run: $rc $(cat "$T/err")"
pass "run: new generation reported and served; a failing run reported with its status"

# --- dump renders the rows tallyd serves, cell for cell
curl -s "$URL/v1/views/sales" >"$T/served.json"
ctl dump 9 --view sales >"$T/dump.json"
python3 - "$T" <<'PY' || fail "dump differs from tallyd's view"
import json, sys
t = sys.argv[1]
s, d = (json.load(open(f"{t}/{n}.json")) for n in ("served", "dump"))
assert s["generation"] == d["generation"] == 9
for k in ("view", "keys", "columns", "total_rows", "rows"):
    assert s[k] == d[k], k
# the same text too, not only the same values
raw_s = open(f"{t}/served.json").read(); raw_d = open(f"{t}/dump.json").read()
rows = lambda raw: raw[raw.index('"rows":['):].rstrip().rstrip("}")
assert rows(raw_s) == rows(raw_d)
PY
pass "dump --view sales: the same rows, byte for byte, as GET /v1/views/sales"
stop_tallyd
