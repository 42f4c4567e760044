#!/bin/bash
# Freshness under load (issue 12): with tallyd's core saturated by a closed-loop load of
# single rows, each of 3 new 24k-row snapshots renamed into the directory is served within
# 1 s, and no request fails. The first snapshot is version 1 (still loaded, rendered at
# idle priority); the renamed ones are version 2, as the worker writes them.
# bench/freshness is the full-size version (c50, 10 renames, p99 against steady).
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

skip_if_sanitized "a 1 s freshness bar"
command -v wrk >/dev/null || { echo "skipped: wrk not installed"; exit 77; }
pin_server=() pin_client=()
if (($(nproc) >= 2)) && command -v taskset >/dev/null; then
        pin_server=(taskset -c 0) pin_client=(taskset -c 1)
fi

# staged: generation 1 (v1) and 2..4 (v2), all 24,000 rows
mkdir -p "$T/stage"
"$MKSNAP" "$T/stage" --q1 --rows 24000 --keep 10 --v1 --seed 1 >/dev/null
for s in 2 3 4; do "$MKSNAP" "$T/stage" --q1 --rows 24000 --keep 10 --seed "$s" >/dev/null; done
port=$(free_port)
server_config "$port"
mv "$T/stage/snapshot-00000000000000000001.msgpack" "$T/snap/"

URL="http://127.0.0.1:$port"
start_bg "${pin_server[@]}" "$TALLYD" --config "$T/tally.conf" 2>>"$T/tallyd.log"
TALLYD_PID=$BG_PID
wait_for 20 generation_is 1 || { cat "$T/tallyd.log" >&2; fail "tallyd did not serve the v1 snapshot"; }
[[ $(status_of "$URL/v1/views/sales/rows/eu-west/p00000") == 200 ]] || fail "v1 row"
pass "a version 1 snapshot is served"

# the load: 10 connections asking for one row as fast as tallyd answers, on the other CPU
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$TALLYD_PID/stat"; }
c0=$(ticks) t0=$SECONDS
start_bg "${pin_client[@]}" wrk -t1 -c10 -d12s --latency "$URL/v1/views/sales/rows/eu-west/p00000" \
        >"$T/wrk.out" 2>&1
wrk_pid=$BG_PID
# renames once wrk is connected and running; each waits for its generation (deadline 1 s)
"${pin_client[@]}" python3 "$TALLY_SOURCE_ROOT/tests/server/freshness.py" "$port" "$T/stage" \
        "$T/snap" --count 3 --gap 1 --deadline 1 --start-after 2 >"$T/fresh.out" || rc=$?
cat "$T/fresh.out"
c1=$(ticks) t1=$SECONDS
wait "$wrk_pid" || fail "wrk failed: $(cat "$T/wrk.out")"
[[ ${rc:-0} == 0 ]] || { cat "$T/tallyd.log" >&2; fail "a snapshot was not served within 1 s of its rename"; }
[[ $(wc -l <"$T/fresh.out") == 3 ]] || fail "expected 3 renames"
pass "3 renames under load, each served within 1 s"
! has -E "Non-2xx|Socket errors" "$T/wrk.out" || fail "failed requests: $(grep -E 'Non-2xx|Socket' "$T/wrk.out")"
grep -E "requests in|Requests/sec|99%" "$T/wrk.out"
pass "no request failed"
awk -v t=$((c1 - c0)) -v hz="$hz" -v s=$((t1 - t0)) 'BEGIN { if (s) printf "tallyd used %.0f%% of a CPU meanwhile\n", 100 * t / hz / s }'
