#!/usr/bin/env bash
# kill -9 of the worker during writes, tallyd watching (see kill9.py for the properties).
# Short mode: 200 trials; FAULT_MODE=long: 1000.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/fault/faultlib.sh"

trials=${KILL9_TRIALS:-200}
fault_long && trials=${KILL9_TRIALS:-1000}

port=$(free_port)
# ~40k groups: a snapshot of ~1.2 MB, so writing it takes a measurable while. A sanitizer
# build runs several times slower: fewer rows keep 200 trials within CI's budget.
rows=40000
built_with_asan && rows=15000
"$TALLY_GEN" --rows "$rows" --users 50000 --seed 9 >"$T/in.csv"
write_config "$T/in.csv" "$port"
sed -i 's/^group_by = .*/group_by = region, product, user_id/' "$T/tally.conf"

start_tallyd "$T/tallyd.log"
wait_for 10 curl -sf "http://127.0.0.1:$port/healthz" || fail "tallyd did not come up"

python3 "$FAULT_DIR/kill9.py" --worker "$TALLY_WORKER" --config "$T/tally.conf" \
        --snapdir "$T/snap" --snapcheck "$SNAPCHECK" --port "$port" --trials "$trials" \
        --seed "${KILL9_SEED:-$RANDOM}" --log "$T/worker.log" ||
        { tail -5 "$T/tallyd.log"; fail "kill -9 trials"; }
kill -0 "$TALLYD_PID" || fail "tallyd died"
grep -q "Rejected snapshot" "$T/tallyd.log" && fail "tallyd rejected a snapshot: $(grep Rejected "$T/tallyd.log" | head -1)"
pass "tallyd never saw a bad file"
