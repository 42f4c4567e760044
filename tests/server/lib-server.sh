# Helpers for tallyd's shell tests; sources tests/lib.sh (scratch dir $T, start_bg, ...).
# shellcheck source=../lib.sh
source "$TALLY_SOURCE_ROOT/tests/lib.sh"

MKSNAP=${MKSNAP:-$TALLY_BUILD_ROOT/tests/server/mksnap}

# server_config PORT [extra lines for [server]...]: writes $T/tally.conf, snapshots in $T/snap.
server_config() {
        local port=$1; shift
        mkdir -p "$T/snap"
        {
                printf '[tally]\nsnapshot_dir = %s\nkeep = 3\n\n[server]\nlisten = 127.0.0.1:%s\n' \
                        "${SNAPDIR:-$T/snap}" "$port"
                printf 'max_age = 1h\npoll_interval = 1s\n'
                local l; for l in "$@"; do printf '%s\n' "$l"; done
                printf '\n[source.events]\ntype = csv\npath = %s/none.csv\n' "$T"
                printf 'columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str\n'
                printf '\n[view.sales]\nsource = events\ngroup_by = region, product\naggregates = count, sum(amount)\n'
        } >"$T/tally.conf"
}

# start_tallyd [args...]: starts tallyd on $T/tally.conf, logs to $T/tallyd.log, waits for
# /healthz; sets TALLYD_PID and URL.
start_tallyd() {
        local port
        port=$(sed -n 's/^listen = 127.0.0.1:\([0-9]*\)$/\1/p' "$T/tally.conf")
        URL="http://127.0.0.1:$port"
        start_bg "$TALLYD" --config "$T/tally.conf" "$@" 2>>"$T/tallyd.log"
        TALLYD_PID=$BG_PID
        wait_for 10 curl -sf "$URL/healthz" || { cat "$T/tallyd.log" >&2; fail "tallyd did not come up"; }
}

# generation_is N [URL path]: true when the served generation is N.
generation_is() {
        local g
        g=$(curl -s -o /dev/null -D - "$URL/v1/views" | tr -d '\r' | sed -n 's/^X-Tally-Generation: //Ip')
        [[ $g == "$1" ]]
}

# jq-free JSON field access through python: json_get FILE EXPR (EXPR on `d`).
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# status_of CURL-ARGS...: prints the HTTP status code.
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"; }

# header_of NAME CURL-ARGS...: prints one response header's value.
header_of() {
        local name=$1; shift
        curl -s -o /dev/null -D - --max-time 5 "$@" | tr -d '\r' | sed -n "s/^$name: //Ip" | head -1
}

# metric NAME: prints the value of one unlabelled (or fully labelled) series from /metrics.
metric() { curl -s --max-time 5 "$URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# metric_is NAME VALUE: true when it reads VALUE now.
metric_is() { [[ $(metric "$1") == "$2" ]]; }

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

# listen_notify: catches sd_notify messages on $T/notify.sock (for NOTIFY_SOCKET), one
# per line in $T/notify.log, once the socket exists.
listen_notify() {
        cat >"$T/notify.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        for line in s.recv(4096).decode().splitlines():
            out.write(line + "\n")
PY
        start_bg python3 "$T/notify.py" "$T/notify.sock" "$T/notify.log"
        wait_for 20 test -S "$T/notify.sock" || fail "notify socket"
}

# stop_tallyd: SIGTERM, expect exit 0 and a log free of sanitizer reports.
stop_tallyd() {
        kill -TERM "$TALLYD_PID"
        local rc=0
        wait "$TALLYD_PID" || rc=$?
        if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$T/tallyd.log"; then
                cat "$T/tallyd.log" >&2
                fail "sanitizer report in tallyd's log"
        fi
        ((rc == 0)) || fail "tallyd exited with $rc on SIGTERM"
        pass "clean exit on SIGTERM"
}
