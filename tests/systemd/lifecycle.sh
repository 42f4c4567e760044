#!/usr/bin/env bash
# The normal life of an installation under a real systemd: the timer runs the worker again
# and again, tallyd comes up through its socket, serves the worker's data, reports the
# generation to systemd, follows new snapshots, and the journal can be queried by field
# and explains itself through the catalog. Both services run as the sysusers users.
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh"

tally_boot
ct systemctl enable --now tally-worker.timer tallyd.socket >/dev/null 2>&1 ||
        ct_fail "systemctl enable --now failed"
ct systemctl list-timers --all --no-legend tally-worker.timer | has tally-worker.service ||
        ct_fail "tally-worker.timer not listed by list-timers"

# --- the timer fires the worker at least twice; every run succeeds, generations increase
_two_runs() { (($(written_gens | wc -l) >= 2)); }
poll 30 _two_runs || ct_fail "the timer did not run the worker twice in 30 s"
ct systemctl stop tally-worker.timer
ct_wait 30 sh -c '! systemctl is-active -q tally-worker.service' || ct_fail "worker run did not end"
mapfile -t gens < <(written_gens)
for ((i = 1; i < ${#gens[@]}; i++)); do
        ((gens[i] > gens[i - 1])) || ct_fail "generations not increasing: ${gens[*]}"
done
[[ $(unit_prop tally-worker.service Result) == success ]] || ct_fail "worker Result is not success"
pass "timer ran the worker ${#gens[@]} times, generations ${gens[*]}"
G=${gens[-1]}

# a hung run must not block every later one
[[ $(unit_prop tally-worker.service TimeoutStartUSec) != infinity ]] || ct_fail "worker has no start timeout"

# --- tallyd: started by the first connection, READY=1, serves the worker's data
[[ $(unit_prop tallyd.service ActiveState) == inactive ]] || ct_fail "tallyd started before any connection"
json=$(view_json) || ct_fail "GET /v1/views/sales through tallyd.socket failed"
# Type=notify: "active" only after tallyd sent READY=1
[[ $(unit_prop tallyd.service Type) == notify ]] || ct_fail "tallyd.service is not Type=notify"
[[ $(unit_prop tallyd.service ActiveState) == active ]] || ct_fail "tallyd not active (no READY=1?) after a request"
[[ $(echo "$json" | json_get view) == sales ]] || ct_fail "wrong view in $json"
[[ $(echo "$json" | json_get generation) == "$G" ]] || ct_fail "served generation is not the newest ($G): $json"
total=$(echo "$json" | json_count_total)
[[ $total == "$ROWS" ]] || ct_fail "count over all groups is $total, want $ROWS"
pass "request through tallyd.socket served generation $G with all $ROWS rows"
ct curl -sS --fail --max-time 5 http://127.0.0.1:8080/healthz >/dev/null || ct_fail "/healthz failed"

status=$(unit_prop tallyd.service StatusText)
[[ $status =~ (^|[^0-9])$G([^0-9]|$) ]] || ct_fail "StatusText '$status' does not show generation $G"
pass "StatusText: $status"

# --- hardened units run as the sysusers users, on the tmpfiles directories
pid=$(unit_prop tallyd.service MainPID)
[[ $(ct ps -o user= -p "$pid") == tallyd ]] || ct_fail "tallyd runs as $(ct ps -o user= -p "$pid")"
[[ $(ct ps -o group= -p "$pid") == tally ]] || ct_fail "tallyd's group is not tally"
[[ $(ct stat -c '%U:%G %a' "$SNAPDIR") == "tally-worker:tally 2750" ]] ||
        ct_fail "snapshot dir is $(ct stat -c '%U:%G %a' "$SNAPDIR")"
files=$(ct find "$SNAPDIR" -type f -printf '%u:%g %m %f\n')
[[ -n $files ]] || ct_fail "no snapshot files"
if echo "$files" | grep -v '^tally-worker:tally 640 '; then ct_fail "snapshot files with other owner or mode"; fi
# the server's network namespace has nothing but loopback: its only socket came from systemd
links=$(ct nsenter -t "$pid" -n cat /proc/net/dev | tail -n +3 | awk -F: '{ gsub(/ /, "", $1); print $1 }')
[[ $links == lo ]] || ct_fail "tallyd sees network interfaces: $links"
pass "tallyd runs as tallyd:tally without network; snapshots tally-worker:tally 0640"

# --- a new snapshot is picked up without any signal
ct systemctl start tally-worker.service || ct_fail "manual worker run failed"
G2=$(written_gens | tail -n 1)
((G2 > G)) || ct_fail "manual run did not write a newer generation"
wait_served "$G2" || ct_fail "tallyd did not pick up generation $G2"
pass "tallyd follows new snapshot $G2"

# --- journal: by field, with the run's fields, and explained by the catalog
# The operator's query, -u plus the field, for the newest run journald attributed to the
# unit (see WORKER_ENTRIES in common.sh for why one may lack it under load).
GU=$(ct journalctl -u tally-worker.service MESSAGE_ID="$MSGID_WRITTEN" -o json --no-pager |
        python3 -c 'import json, sys; print([json.loads(l)["TALLY_GENERATION"] for l in sys.stdin if l.strip()][-1])') ||
        ct_fail "no snapshot-written entry found with journalctl -u tally-worker"
lost=$(($(written_gens | wc -l) - $(ct journalctl -u tally-worker.service MESSAGE_ID="$MSGID_WRITTEN" -o cat --no-pager | wc -l)))
((lost == 0)) || echo "note: $lost snapshot-written entries without _SYSTEMD_UNIT (journald 252 race)"
entry=$(ct journalctl -u tally-worker.service TALLY_GENERATION="$GU" -o json --no-pager)
[[ $(echo "$entry" | grep -c .) == 1 ]] || ct_fail "want one entry for TALLY_GENERATION=$GU, got: $entry"
echo "$entry" | python3 -c '
import json, sys
e = json.load(sys.stdin)
want = {"MESSAGE_ID": sys.argv[1], "TALLY_GENERATION": sys.argv[2], "TALLY_ROWS_READ": sys.argv[3],
        "TALLY_ROWS_REJECTED": "0", "_SYSTEMD_UNIT": "tally-worker.service"}
for k, v in want.items():
    if e.get(k) != v:
        sys.exit(f"{k}={e.get(k)!r}, want {v!r}")
int(e["TALLY_DURATION_MS"])
' "$MSGID_WRITTEN" "$GU" "$ROWS" || ct_fail "journal entry of generation $GU lacks its fields: $entry"
ct journalctl -x "$WORKER_ENTRIES" MESSAGE_ID="$MSGID_WRITTEN" --no-pager |
        grep -q "tally-worker finished a run and published snapshot generation $G2" ||
        ct_fail "journalctl -x shows no catalog text for the snapshot-written entries"
ct journalctl -x -u tallyd.service MESSAGE_ID="$MSGID_LOADED" --no-pager | has "validated snapshot generation" ||
        ct_fail "no catalog-explained snapshot-loaded entry from tallyd"
pass "journal: -u tally-worker TALLY_GENERATION=$GU entry has its fields; catalog text shown by journalctl -x"

# --- reload: SIGHUP to the same process, which rescans
_rescans() { ct journalctl -u tallyd.service -o cat --no-pager | grep -c 'SIGHUP: rescanning' || true; }
before=$(_rescans)
ct systemctl reload tallyd.service || ct_fail "systemctl reload tallyd failed"
_rescanned() { (($(_rescans) > before)); }
poll 10 _rescanned || ct_fail "tallyd logged no rescan after systemctl reload"
[[ $(unit_prop tallyd.service MainPID) == "$pid" ]] || ct_fail "reload restarted tallyd"
[[ $(unit_prop tallyd.service NRestarts) == 0 ]] || ct_fail "tallyd restarted during the test"
wait_served "$G2" || ct_fail "tallyd stopped serving $G2 after reload"
pass "systemctl reload tallyd rescans in the same process and serves $G2"

# the sandboxing took nothing away the programs use: no EPERM/EACCES anywhere
denied=$({ ct journalctl -u tallyd.service -u tally-worker.service -o cat --no-pager
        ct journalctl "$WORKER_ENTRIES" -o cat --no-pager; } |
        grep -E 'Operation not permitted|Permission denied|Read-only file system' || true)
[[ -z $denied ]] || ct_fail "hardening denied something: $denied"
pass "no permission errors under the hardened units"
