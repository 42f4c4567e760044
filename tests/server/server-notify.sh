#!/bin/bash
# systemd integration without systemd: sd_notify messages caught on a socket of our own
# (READY=1, STATUS=, WATCHDOG=1 at half WATCHDOG_USEC) and socket activation through
# systemd-socket-activate. Skipped (77) when tallyd is built without libsystemd.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"
ldd "$TALLYD" | has libsystemd || { echo "built without systemd"; exit 77; }

listen_notify

port=$(free_port)
server_config "$port"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 start_tallyd
wait_for 20 grep -q "^READY=1$" "$T/notify.log" || fail "no READY=1"
grep -q '^STATUS=no snapshot yet$' "$T/notify.log" || fail "no initial STATUS"
# pings every 0.2 s (half of 0.4 s): five more take about 1 s, at the full interval 2 s
pings() { grep -c '^WATCHDOG=1$' "$T/notify.log" || true; }
n0=$(pings)
t0=$EPOCHREALTIME
wait_for 10 bash -c "(( \$(grep -c '^WATCHDOG=1$' '$T/notify.log') >= $n0 + 5 ))" || fail "watchdog pings stopped at $(pings)"
ms=$(python3 -c "import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))" "$t0" "$EPOCHREALTIME")
((ms < 1600)) || fail "five watchdog pings took $ms ms: not at half the 400 ms interval"
pass "READY=1, initial STATUS, WATCHDOG=1 at half the interval"

"$MKSNAP" "$T/snap" --rows 40 >/dev/null
wait_for 10 grep -Eq '^STATUS=generation 1, 40 rows, age [0-9]+ s$' "$T/notify.log" || fail "STATUS after load: $(tail -3 "$T/notify.log")"
pass "STATUS follows the snapshot"
stop_tallyd
grep -q '^STOPPING=1$' "$T/notify.log" || fail "no STOPPING=1"
pass "STOPPING=1 on SIGTERM"

# Socket activation: the configured port is not used; the passed socket is.
: >"$T/tallyd.log"
aport=$(free_port)
start_bg systemd-socket-activate -l "127.0.0.1:$aport" "$TALLYD" --config "$T/tally.conf"
act=$BG_PID
wait_for 10 curl -sf "http://127.0.0.1:$aport/healthz" || fail "no answer on the activated socket"
[[ $(curl -s "http://127.0.0.1:$aport/v1/views/sales/rows/eu-west/p00000" | python3 -c 'import json,sys; print(json.load(sys.stdin)["row"]["product"])') == p00000 ]] ||
        fail "data over the activated socket"
[[ $(status_of "http://127.0.0.1:$port/healthz") == 000 ]] || fail "configured port should stay unbound"
kill -TERM "$act"; wait "$act" || fail "activated tallyd exit status"
pass "socket activation via sd_listen_fds"
