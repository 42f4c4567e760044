#!/usr/bin/env bash
# HTTP abuse against the real tallyd; the checks live in abuse.py.
#   http.sh requests|slowloris|conn-limit|limit-reserve|header-deadline
# tallyd runs with timeout = 2s, max_header_bytes = 16384 and max_connections = 1024
# (50 for the limit checks), serving a snapshot of 24k rows.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/fault/faultlib.sh"

what=$1
max_conns=1024
[[ $what == conn-limit || $what == limit-reserve ]] && max_conns=50
seconds=5
fault_long && seconds=60

port=$(free_port)
"$TALLY_GEN" --rows 30000 --seed 6 >"$T/in.csv"
write_config "$T/in.csv" "$port"
sed -i "s/^poll_interval = .*/poll_interval = 60s\ntimeout = 2s\nmax_header_bytes = 16384\nmax_connections = $max_conns/" "$T/tally.conf"
"$TALLY_WORKER" --config "$T/tally.conf" 2>"$T/worker.log" || fail "worker failed"
start_tallyd "$T/tallyd.log"
wait_for 10 curl -sf "http://127.0.0.1:$port/v1/views/sales" || fail "tallyd did not come up"

python3 "$FAULT_DIR/abuse.py" "$what" --port "$port" --pid "$TALLYD_PID" --conns 300 \
        --seconds "$seconds" --timeout 2 --max-conns "$max_conns" --worker "$TALLY_WORKER" \
        --config "$T/tally.conf" --log "$T/tallyd.log" ||
        fail "$what: see FAIL lines above (tallyd misbehaves; reported, not hidden)"
