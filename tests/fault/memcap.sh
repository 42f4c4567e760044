#!/usr/bin/env bash
# The worker under a memory cap (ulimit -v), swept from "cannot even start" to "enough":
# at every cap the run either publishes a valid snapshot or fails cleanly -- an exit
# status below 128 (no crash), an error message, no temp file, the previous snapshot
# untouched. Failures land at different points (reading, aggregating, encoding,
# publishing) as the cap rises. Short mode: 1 MiB steps; FAULT_MODE=long: 128 KiB steps.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/fault/faultlib.sh"

built_with_asan && skip "AddressSanitizer reserves terabytes of address space; ulimit -v cannot apply"

"$TALLY_GEN" --rows 40000 --users 50000 --seed 4 >"$T/in.csv"
write_config "$T/in.csv" "$(free_port)"
sed -i 's/^group_by = .*/group_by = region, product, user_id/' "$T/tally.conf"
"$TALLY_WORKER" --config "$T/tally.conf" 2>"$T/worker.log" || fail "uncapped run failed"

step=1024
fault_long && step=128
failed=0 succeeded=0 unstarted=0
problems=()
declare -A where_failed=()
# problem MSG: a violation; the sweep goes on so one run shows every bad cap.
problem() { echo "FAIL: $*"; problems+=("$*"); }
for ((kb = 4096; kb <= 65536; kb += step)); do
        before=$("$SNAPCHECK" "$T/snap") || fail "before cap $kb KiB: $before"
        rc=0
        (ulimit -v "$kb" && exec "$TALLY_WORKER" --config "$T/tally.conf") 2>"$T/run.log" || rc=$?
        after=$("$SNAPCHECK" "$T/snap") || fail "cap $kb KiB (exit $rc): bad snapshot: $after"
        [[ $after == *" tmp=0" ]] || fail "cap $kb KiB (exit $rc): temp file left: $after"
        if ((rc == 0)); then
                succeeded=$((succeeded + 1))
                [[ ${after%% *} != "${before%% *}" ]] || fail "cap $kb KiB: exit 0 but no new snapshot"
        elif ((rc == 127)) && grep -q "error while loading shared libraries" "$T/run.log"; then
                unstarted=$((unstarted + 1)) # the dynamic loader itself ran out
        elif ((rc < 128)); then
                failed=$((failed + 1))
                [[ $after == "$before" ]] || fail "cap $kb KiB: failed run changed the directory"
                grep -qiE "memory|alloc" "$T/run.log" ||
                        problem "cap $kb KiB: exit $rc without a memory error message" \
                                "(stderr: '$(head -c 200 "$T/run.log")')"
                rows=$(sed -n 's/.*TALLY_ROWS_READ=\([0-9]*\).*/\1/p' "$T/run.log" | tail -1)
                where_failed["rows_read=${rows:-?}"]=1
        else
                head -c 2000 "$T/run.log"
                problem "cap $kb KiB: worker killed by signal $((rc - 128))"
        fi
done
((failed > 0)) || fail "no cap made the worker fail: the sweep proved nothing"
((succeeded > 0)) || fail "no cap let the worker succeed"
echo "caps 4..64 MiB in $step KiB steps: $failed failures, $succeeded valid snapshots, $unstarted too small to start"
((${#problems[@]} == 0)) || fail "${#problems[@]} caps misbehaved (see FAIL lines)"
pass "caps 4..64 MiB in $step KiB steps: $failed clean failures (at ${!where_failed[*]}), $succeeded valid snapshots, $unstarted too small to start"
