#!/usr/bin/env bash
# End to end with the real binaries: tallyd starts on an empty snapshot directory, the
# worker publishes a snapshot from a CSV, tallyd picks it up through inotify and serves
# the aggregates; the CSV changes, the worker runs again, and tallyd serves the new
# values under a higher generation.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"

port=$(free_port)
write_config "$T/events.csv" "$port"
base=http://127.0.0.1:$port

cat >"$T/events.csv" <<'CSV'
ts,region,product,user_id,amount,latency_ms,status
2026-01-01T00:00:00Z,eu-west,p1,1,10.5,3,ok
2026-01-01T00:01:00Z,eu-west,p1,2,2.25,4,ok
2026-01-01T00:02:00Z,eu-west,p2,1,100,5,error
2026-01-01T00:03:00Z,us-east,p1,3,7,6,ok
CSV

start_bg "$TALLYD" --config "$T/tally.conf"
tallyd_pid=$BG_PID
wait_for 10 curl -sf "$base/healthz" || fail "tallyd did not come up"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/views/sales")
[[ $code == 503 ]] || fail "expected 503 before the first snapshot, got $code"
pass "503 before the first snapshot"

# check_view GEN-MIN EXPECTED-JSON: the view's rows (region, product, count, sum) match.
check_view() {
        http_get "$base/v1/views/sales" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
want = json.loads(sys.argv[2])
got = sorted([r["region"], r["product"], r["count"], r["sum(amount)"]] for r in doc["rows"])
sys.exit(0 if doc["generation"] >= int(sys.argv[1]) and got == sorted(want) else 1)
' "$1" "$2"
}

"$TALLY_WORKER" --config "$T/tally.conf" || fail "worker run 1 failed ($?)"
want1='[["eu-west","p1",2,12.75],["eu-west","p2",1,100.0],["us-east","p1",1,7.0]]'
wait_for 10 check_view 1 "$want1" || { http_get "$base/v1/views/sales"; fail "view never showed run 1"; }
gen1=$(http_get "$base/v1/views/sales" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])')
pass "serves run 1 at generation $gen1"

cat >>"$T/events.csv" <<'CSV'
2026-01-01T00:04:00Z,us-east,p1,4,3,7,ok
2026-01-01T00:05:00Z,ap-south,p9,5,0.5,8,ok
CSV
"$TALLY_WORKER" --config "$T/tally.conf" || fail "worker run 2 failed ($?)"
want2='[["eu-west","p1",2,12.75],["eu-west","p2",1,100.0],["us-east","p1",2,10.0],["ap-south","p9",1,0.5]]'
wait_for 10 check_view $((gen1 + 1)) "$want2" || { http_get "$base/v1/views/sales"; fail "view never showed run 2"; }
pass "serves run 2 at a higher generation"

kill -0 "$tallyd_pid" || fail "tallyd died"
