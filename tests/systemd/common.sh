# tally under a real systemd: what every test of the suite sets up. Source it first.
#
#   tally_boot          install (meson install --destdir), boot, write the config and one
#                       input file, shorten the timer and watchdog by drop-ins, as an
#                       operator would; nothing is started yet
#   put_input NAME ARGS write a tally-gen CSV (ARGS = tally-gen options) as input/NAME
#   written_gens        generations of the worker's "snapshot written" entries, in order
#   view_json           GET /v1/views/sales through tallyd.socket, from inside
#   json_get FIELD      a top-level field of the JSON on stdin
#   wait_served GEN     wait until tallyd serves generation GEN
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/systemd/nspawn.sh"
ct_skip_unless_possible

MSGID_WRITTEN=$(sed -n 's/^#define MSGID_SNAPSHOT_WRITTEN[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h")
MSGID_LOADED=$(sed -n 's/^#define MSGID_SNAPSHOT_LOADED[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h")
MSGID_REJECTED=$(sed -n 's/^#define MSGID_SNAPSHOT_REJECTED[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h")
MSGID_FAILED=$(sed -n 's/^#define MSGID_WORKER_FAILED[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h")
MSGID_BAD_ROWS=$(sed -n 's/^#define MSGID_BAD_ROWS[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h")
# Seconds since the test started on every line: slow steps show up in the log.
pass() { echo "ok [${SECONDS}s]: $*"; }

# wait_for with a calmer poll: every probe here forks nsenter and systemctl, and the
# suite's containers share two cores with the rest of the tests.
poll() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@" >/dev/null 2>&1; do
                ((SECONDS < deadline)) || return 1
                sleep 0.25
        done
}

SNAPDIR=/var/lib/tally/snapshots
INPUT=/var/lib/tally/input
ROWS=400 # rows in the default input file

tally_boot() {
        [[ -x $TALLY_GEN ]] || fail "tally-gen not built"
        ct_install
        ct_up
        ct mkdir -p "$(dirname "$CT_CONF")"
        config_text "$SNAPDIR" 127.0.0.1:8080 "$INPUT/events-*.csv" 1s "max_bad_ratio = 5%" |
                ct tee "$CT_CONF" >/dev/null
        put_input events-1.csv --rows "$ROWS" --regions 3 --products 4 --seed 7
        # The operator's way to change the interval: a drop-in. Short here so the suite
        # stays quick; the watchdog likewise.
        ct mkdir -p /etc/systemd/system/tally-worker.timer.d /etc/systemd/system/tallyd.service.d
        ct tee /etc/systemd/system/tally-worker.timer.d/50-test.conf >/dev/null <<'EOF'
[Timer]
OnBootSec=
OnUnitActiveSec=
OnActiveSec=1s
OnUnitActiveSec=2s
RandomizedDelaySec=0
AccuracySec=100ms
EOF
        ct tee /etc/systemd/system/tallyd.service.d/50-test.conf >/dev/null <<'EOF'
[Service]
WatchdogSec=5s
TimeoutAbortSec=1s
LimitCORE=0
RestartSec=200ms
EOF
        ct systemctl daemon-reload
        echo "booted and installed [${SECONDS}s]"
}

put_input() {
        local name=$1
        shift
        "$TALLY_GEN" "$@" >"$T/$name"
        ct tee "$INPUT/$name.tmp" >/dev/null <"$T/$name"
        ct chgrp tally "$INPUT/$name.tmp"
        ct chmod 0640 "$INPUT/$name.tmp"
        ct mv "$INPUT/$name.tmp" "$INPUT/$name"
}

# The worker's own entries are matched by SYSLOG_IDENTIFIER, which the worker sends itself.
# `-u tally-worker` also works, but journald 252 attributes a datagram to a unit by reading
# the sender's /proc/PID/cgroup, and a oneshot that logs and exits at once can be gone by
# then (under load): that entry then lacks _SYSTEMD_UNIT. Fixed upstream in v256 (pidfds).
WORKER_ENTRIES=SYSLOG_IDENTIFIER=tally-worker

written_gens() {
        ct journalctl "$WORKER_ENTRIES" MESSAGE_ID="$MSGID_WRITTEN" -o json --no-pager |
                python3 -c 'import json, sys
for line in sys.stdin:
    if line.strip():
        print(json.loads(line)["TALLY_GENERATION"])'
}

view_json() { ct curl -sS --fail --max-time 10 http://127.0.0.1:8080/v1/views/sales; }

json_get() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Sum of the "count" column over all rows of the view on stdin.
json_count_total() {
        python3 -c 'import json, sys; print(sum(int(r["count"]) for r in json.load(sys.stdin)["rows"]))'
}

_served_is() { [[ $(view_json | json_get generation) == "$1" ]]; }
wait_served() { poll "${2:-20}" _served_is "$1"; }

unit_prop() { ct systemctl show -P "$2" "$1"; }
