# Shared helpers for the shell tests. Source it; it expects TALLY_BUILD_ROOT and
# TALLY_SOURCE_ROOT (set by meson) and gives every test a scratch directory that is
# removed on exit, along with any process started through start_bg.
set -euo pipefail

# `cmd | grep -q` is a trap under pipefail: grep -q exits at the first match, cmd's next
# write gets SIGPIPE and the pipeline fails although the text was there. has reads all.
has() { grep "$@" >/dev/null; }
export -f has

: "${TALLY_BUILD_ROOT:?run through meson test}"
: "${TALLY_SOURCE_ROOT:?run through meson test}"
TALLY_WORKER=${TALLY_WORKER:-$TALLY_BUILD_ROOT/worker/tally-worker}
TALLYD=${TALLYD:-$TALLY_BUILD_ROOT/server/tallyd}
TALLY_GEN=${TALLY_GEN:-$TALLY_BUILD_ROOT/tools/tally-gen}

T=$(mktemp -d "${TMPDIR:-/tmp}/tally-test.XXXXXX")
_bg_pids=()
_cleanup() {
        local p
        for p in "${_bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${_bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
        if [[ ${KEEP_TEST_DIR:-} == 1 ]]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap _cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# Starts a command in the background, remembers it for cleanup; sets BG_PID.
start_bg() { "$@" & BG_PID=$!; _bg_pids+=("$BG_PID"); }

# A TCP port nobody listens on now (the kernel picks; tiny race accepted in tests).
free_port() {
        python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# wait_for SECONDS CMD...: runs CMD until it succeeds or the deadline passes.
wait_for() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                ((SECONDS < deadline)) || return 1
                sleep 0.05
        done
}

# Prints a test config: snapshot dir $1, listen address $2, source path or glob $3, poll
# interval $4; further arguments are lines of a [worker] section.
config_text() {
        local snap=$1 listen=$2 path=$3 poll=$4
        shift 4
        printf '[tally]\nsnapshot_dir = %s\nkeep = 3\n\n' "$snap"
        if (($#)); then
                printf '[worker]\n'
                printf '%s\n' "$@"
                printf '\n'
        fi
        cat <<CONF
[server]
listen = $listen
max_age = 1h
poll_interval = $poll

[source.events]
type = csv
path = $path
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str

[view.sales]
source = events
group_by = region, product
aggregates = count, sum(amount)
CONF
}

# Writes $T/tally.conf: snapshot dir $T/snap, port $2, source path $1.
write_config() {
        mkdir -p "$T/snap"
        config_text "$T/snap" "127.0.0.1:$2" "$1" 2s >"$T/tally.conf"
}

# Skips the calling test (meson counts exit 77 as skipped) in sanitizer builds.
skip_if_sanitized() {
        if [[ -n ${TALLY_SANITIZE:-} && ${TALLY_SANITIZE} != none ]]; then
                echo "skipped: $* is not meaningful under -Db_sanitize=$TALLY_SANITIZE"
                exit 77
        fi
}

http_get() { curl -sS --max-time 5 "$@"; }
