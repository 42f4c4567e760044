#!/usr/bin/env bash
# Hostile files in the snapshot directory while tallyd serves: damaged snapshots (each
# newer by name than the good one), a zero-length file, a directory, a FIFO and a symlink
# to /dev/zero with snapshot names, a sparse file beyond max_snapshot_bytes and a file that
# keeps growing. tallyd must log a rejection with a reason for each, keep serving the good
# snapshot with unchanged content, and answer promptly throughout (never block on a
# FIFO, never read /dev/zero, never stall while a file grows). A fresh tallyd started
# among all of them serves the good one, and a real worker run afterwards is picked up.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/fault/faultlib.sh"

port=$(free_port)
base=http://127.0.0.1:$port
"$TALLY_GEN" --rows 2000 --seed 5 >"$T/in.csv"
write_config "$T/in.csv" "$port"
"$TALLY_WORKER" --config "$T/tally.conf" 2>"$T/worker.log" || fail "first worker run failed"
good=$(ls "$T/snap" | grep '^snapshot-' | tail -1)
snap_ok=$("$SNAPCHECK" "$T/snap") || fail "first snapshot invalid: $snap_ok"

start_tallyd "$T/tallyd.log"
wait_for 10 curl -sf "$base/v1/views/sales" || fail "tallyd did not serve the first snapshot"
good_gen=$(served_gen "$base")
[[ $good_gen == 1 ]] || fail "expected generation 1, got '$good_gen'"
curl -sS --max-time 2 "$base/v1/views/sales" >"$T/good.json"

worst_ms=0
# probe: tallyd answers the view with the good generation and content, within 1 s.
probe() {
        local out code ms
        out=$(curl -sS --max-time 2 -o "$T/probe.json" -D "$T/probe.hdr" \
                -w '%{http_code} %{time_total}' "$base/v1/views/sales") || fail "$1: request failed"
        code=${out% *}
        ms=$(awk -v t="${out#* }" 'BEGIN { printf "%d", t * 1000 }')
        ((ms > worst_ms)) && worst_ms=$ms
        [[ $code == 200 ]] || fail "$1: HTTP $code"
        ((ms < 1000)) || fail "$1: answer took ${ms} ms"
        grep -qi "^x-tally-generation: $good_gen" "$T/probe.hdr" || fail "$1: generation changed"
        cmp -s "$T/probe.json" "$T/good.json" || fail "$1: served content changed"
        kill -0 "$TALLYD_PID" 2>/dev/null || fail "$1: tallyd died"
}

# rejected NAME: the log shows NAME rejected with a non-empty reason.
rejected() { grep -E "Rejected snapshot .*$1: [^;]+" "$T/tallyd.log"; }

gen=100
expect_rejection() {
        local what=$1 name=$2
        wait_for 10 rejected "$name" || { cat "$T/tallyd.log"; fail "$what: no rejection logged"; }
        probe "$what"
        pass "$what rejected: $(rejected "$name" | tail -1 | sed 's/.*msgpack: //; s/; keeping.*//')"
}

# Damaged snapshots, each published the way a writer would (rename into place).
for kind in truncated truncated-end bitflip trailing wrong-version bad-bodies huge-views huge-rows \
        huge-bin deep not-msgpack; do
        gen=$((gen + 1))
        name=$(snap_name $gen)
        "$MKHOSTILE" "$kind" "$T/snap/$good" "$T/snap/.hostile" || fail "mkhostile $kind"
        mv "$T/snap/.hostile" "$T/snap/$name"
        expect_rejection "$kind" "$name"
        mv "$T/snap/$name" "$T/$name.$kind" # kept for the restart check below
done

gen=$((gen + 1)) name=$(snap_name $gen)
: >"$T/snap/$name"
expect_rejection "zero-length file" "$name"
mv "$T/snap/$name" "$T/$name.empty"

gen=$((gen + 1)) name=$(snap_name $gen)
mkdir "$T/snap/$name"
expect_rejection "directory" "$name"
rmdir "$T/snap/$name"

gen=$((gen + 1)) name=$(snap_name $gen)
mkfifo "$T/snap/$name"
expect_rejection "FIFO" "$name"
rm "$T/snap/$name"

gen=$((gen + 1)) name=$(snap_name $gen)
ln -s /dev/zero "$T/snap/$name"
expect_rejection "symlink to /dev/zero" "$name"
rm "$T/snap/$name"

gen=$((gen + 1)) name=$(snap_name $gen)
hwm_before=$(awk '/^VmHWM/ { print $2 }' "/proc/$TALLYD_PID/status")
truncate -s 2G "$T/snap/$name.part"
mv "$T/snap/$name.part" "$T/snap/$name"
expect_rejection "sparse 2 GiB file" "$name"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$TALLYD_PID/status")
((hwm - hwm_before < 65536)) || fail "tallyd peak RSS grew from $hwm_before to $hwm kB on the 2 GiB file"
rm "$T/snap/$name"

# A file that keeps growing (a writer that ignores the temp-file rule): appended to
# every 20 ms for ~3 s while we keep asking tallyd for data.
gen=$((gen + 1)) name=$(snap_name $gen)
head -c 4096 "$T/snap/$good" >"$T/snap/$name"
python3 - "$T/snap/$name" "$T/snap/$good" <<'PY' &
import sys, time
data = open(sys.argv[2], "rb").read()
with open(sys.argv[1], "ab", buffering=0) as f:
    for _ in range(150):
        f.write(data[:65536] if len(data) > 65536 else data)
        time.sleep(0.02)
PY
grower=$!
probes=0
while kill -0 "$grower" 2>/dev/null; do
        probe "while a file grows"
        probes=$((probes + 1))
done
wait "$grower"
expect_rejection "growing file ($probes probes during growth)" "$name"
mv "$T/snap/$name" "$T/$name.growing"

# A fresh tallyd among all the bad files at once: it starts from the newest valid one.
kill "$TALLYD_PID"
wait "$TALLYD_PID" 2>/dev/null || true
for f in "$T"/snapshot-*.msgpack.*; do
        mv "$f" "$T/snap/$(basename "${f%.*}")"
done
mkfifo "$T/snap/$(snap_name 900)"
ln -s /dev/zero "$T/snap/$(snap_name 901)"
mkdir "$T/snap/$(snap_name 902)"
start_tallyd "$T/tallyd2.log"
wait_for 10 curl -sf "$base/v1/views/sales" || { cat "$T/tallyd2.log"; fail "restarted tallyd serves nothing"; }
probe "restart among hostile files"
pass "a fresh tallyd among $(ls "$T/snap" | wc -l) entries serves generation $good_gen"

# The worker still publishes (newest name + 1) and tallyd picks that up.
"$TALLY_WORKER" --config "$T/tally.conf" 2>>"$T/worker.log" || fail "worker run among hostile files failed"
wait_for 10 bash -c "[[ \$(curl -sS --max-time 2 -o /dev/null -D - '$base/v1/snapshot' | tr -d '\r' | awk -F': ' 'tolower(\$1)==\"x-tally-generation\"{print \$2}') -gt 902 ]]" ||
        fail "tallyd did not move to the worker's new snapshot"
pass "new worker snapshot served at generation $(served_gen "$base"); worst probe latency ${worst_ms} ms"
