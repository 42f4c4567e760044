#!/bin/bash
# --spawn-worker: runs the worker on an interval, logs exit statuses, kills a hung run.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

server_config "$(free_port)"
printf '\n[worker]\nmax_runtime = 3s\n' >>"$T/tally.conf"
cat >"$T/fake-worker" <<'SH'
#!/bin/bash
# stands in for tally-worker: behaviour chosen by the file $FAKE_DIR/mode
[[ $1 == --config && -f $2 ]] || exit 64
case $(cat "$FAKE_DIR/mode") in
ok) "$MKSNAP" "$FAKE_DIR/snap" --rows 5 --seed "$RANDOM" >/dev/null ;;
fail) exit 3 ;;
hang) exec sleep 100 ;;
esac
SH
chmod +x "$T/fake-worker"
echo ok >"$T/mode"
export FAKE_DIR=$T MKSNAP
start_tallyd --spawn-worker=3s --worker-path "$T/fake-worker"

served() { [[ $(status_of "$URL/v1/views") == 200 ]]; }
wait_for 30 served || fail "spawned worker's snapshot not served"
wait_for 30 grep -q "tally-worker (pid [0-9]*) finished in" "$T/tallyd.log" || fail "success not logged"
pass "worker spawned at start, its snapshot served"

echo fail >"$T/mode"
wait_for 20 grep -q "failed with exit status 3" "$T/tallyd.log" || fail "exit status not logged"
pass "failed run logged with its exit status"

echo hang >"$T/mode"
wait_for 30 grep -q "exceeded its timeout; sending SIGTERM" "$T/tallyd.log" || fail "hung worker not timed out"
wait_for 20 grep -q "was killed by signal 15" "$T/tallyd.log" || fail "kill not logged"
pass "hung run killed after its timeout"

echo ok >"$T/mode"
g=$(curl -s -D - -o /dev/null "$URL/v1/views" | tr -d '\r' | sed -n 's/^X-Tally-Generation: //p')
wait_for 30 bash -c "! curl -s -D - -o /dev/null '$URL/v1/views' | has 'X-Tally-Generation: $g'" || fail "runs did not resume"
curl -s "$URL/metrics" >"$T/m"
grep -Eq 'tally_worker_runs_total\{result="ok"\} [1-9]' "$T/m" || fail "ok runs not counted"
grep -Eq 'tally_worker_runs_total\{result="failed"\} [2-9]' "$T/m" || fail "failed runs not counted"
pass "runs resume after failures and are counted"

stop_tallyd
