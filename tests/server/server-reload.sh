#!/bin/bash
# Reloading: inotify, a rejected snapshot keeping the old one, SIGHUP, a directory that
# appears late (poll), two event loops, and reloads under load failing no request.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

# The snapshot directory does not exist at start: tallyd polls until it does.
SNAPDIR=$T/late/snap server_config "$(free_port)" 'workers = 2'
start_tallyd
[[ $(status_of "$URL/v1/views/sales") == 503 ]] || fail "503 before any snapshot"
mkdir -p "$T/late/snap"
g1=$("$MKSNAP" "$T/late/snap" --rows 50 --seed 1)
wait_for 10 generation_is "$g1" || fail "late directory not picked up"
pass "directory created after start is polled and watched"

# inotify picks a new snapshot up well within the 1 s poll interval... and so does poll;
# what tells them apart is that the watch is in place now: many renames in a row.
for i in 2 3 4 5 6; do
        g=$("$MKSNAP" "$T/late/snap" --rows 50 --seed "$i")
        wait_for 10 generation_is "$g" || fail "generation $g not loaded"
done
pass "successive snapshots loaded ($g)"

# Both loops serve the new generation: many requests, all must see it.
for _ in $(seq 40); do
        [[ $(header_of X-Tally-Generation "$URL/v1/views/sales/rows/eu-west/p00000") == "$g" ]] ||
                fail "a loop still serves an older generation"
done
pass "every event loop swapped"

# A corrupt snapshot is rejected (logged with reason and file) and the old one serves on.
bad=$("$MKSNAP" "$T/late/snap" --corrupt)
wait_for 10 grep -q "Rejected snapshot.*snapshot-0*$bad.msgpack" "$T/tallyd.log" || fail "no rejection logged"
grep -q "TALLY_FILE=snapshot-0*$bad.msgpack TALLY_REASON=" "$T/tallyd.log" || fail "rejection fields"
generation_is "$g" || fail "old snapshot not serving after a rejection"
[[ $(status_of "$URL/v1/views/sales") == 200 ]] || fail "data endpoint after rejection"
curl -s "$URL/metrics" | has 'tally_reloads_total{result="rejected"} 1' || fail "rejection not counted"
# two more scans (poll ticks) must pass without retrying and re-logging the bad file
scans=$(metric tally_reload_scans_total)
wait_for 10 bash -c "(( \$(curl -s '$URL/metrics' | awk '\$1 == \"tally_reload_scans_total\" {print \$2}') >= $scans + 2 ))" ||
        fail "no further scans after the rejection"
[[ $(grep -c "Rejected snapshot" "$T/tallyd.log") == 1 ]] || fail "rejected file retried"
curl -s "$URL/metrics" | has 'tally_reloads_total{result="rejected"} 1' || fail "rejected file counted again"
pass "rejected snapshot keeps generation $g serving"

# The next good one (numbered past the bad one) loads.
g=$("$MKSNAP" "$T/late/snap" --rows 60 --seed 9)
wait_for 10 generation_is "$g" || fail "good snapshot after a bad one"
pass "good snapshot after a bad one"

# SIGHUP rescans: roll back by deleting the newest file, then HUP.
prev=$(ls "$T/late/snap" | grep -v "0*$bad.msgpack" | sort | tail -2 | head -1)
rm -f "$T/late/snap/$(ls "$T/late/snap" | sort | tail -1)"
kill -HUP "$TALLYD_PID"
pg=$((10#$(echo "$prev" | sed 's/snapshot-0*\([0-9]*\).msgpack/\1/')))
wait_for 10 generation_is "$pg" || fail "rollback to $pg after delete + SIGHUP"
grep -q "SIGHUP" "$T/tallyd.log" || fail "SIGHUP not logged"
pass "SIGHUP rescan (rolled back to $pg)"

# Reloads under load: 4 client loops hammer rows and the whole view while 20 new snapshots
# land; no request may fail or see anything but 200.
cat >"$T/load.sh" <<'SH'
url=$1; out=$2; until [[ -e $out.stop ]]; do
  curl -s -w '%{http_code}\n' --max-time 5 -o /dev/null "$url/v1/views/sales" -o /dev/null "$url/v1/views/sales/rows/us-east/p00002" -o /dev/null "$url/v1/views/sales?offset=5&limit=3" >>"$out" || echo curlfail >>"$out"
done
SH
load_pids=()
for i in 1 2 3 4; do start_bg bash "$T/load.sh" "$URL" "$T/load.$i"; load_pids+=("$BG_PID"); done
for i in $(seq 20); do
        g=$("$MKSNAP" "$T/late/snap" --rows 2000 --q1 --seed $((100 + i)))
        wait_for 20 generation_is "$g" || fail "generation $g under load"
done
for i in 1 2 3 4; do touch "$T/load.$i.stop"; done
for p in "${load_pids[@]}"; do wait "$p" || true; done
total=$(cat "$T"/load.? | wc -l)
bad_lines=$(cat "$T"/load.? | grep -vc '^200$' || true)
((total > 100)) || fail "load loop made only $total requests"
((bad_lines == 0)) || fail "$bad_lines of $total requests failed under reload: $(cat "$T"/load.? | sort | uniq -c)"
pass "20 reloads under load, $total requests, none failed"

# Memory of old snapshots is released: only the serving one stays alive.
wait_for 10 bash -c "curl -s '$URL/metrics' | has '^tally_served_snapshots 1$'" || fail "old snapshots still alive"
pass "old snapshots released"
stop_tallyd
