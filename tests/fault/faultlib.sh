# Helpers the fault tests share; source after tests/lib.sh.
SNAPCHECK=${SNAPCHECK:-$TALLY_BUILD_ROOT/tests/fault/fault-snapcheck}
MKHOSTILE=${MKHOSTILE:-$TALLY_BUILD_ROOT/tests/fault/fault-mkhostile}
FAULT_DIR=$TALLY_SOURCE_ROOT/tests/fault

# FAULT_MODE=long (bench/fault-long) selects the long trial counts.
fault_long() { [[ ${FAULT_MODE:-short} == long ]]; }

skip() { echo "SKIP: $*"; exit 77; }

# served_gen BASE: the generation tallyd serves now (X-Tally-Generation of /v1/snapshot).
served_gen() {
        curl -sS --max-time 2 -o /dev/null -D - "$1/v1/snapshot" |
                tr -d '\r' | awk -F': ' 'tolower($1) == "x-tally-generation" { print $2 }'
}

# snap_name GEN: the file name of a generation.
snap_name() { printf 'snapshot-%020d.msgpack' "$1"; }

# start_tallyd LOG: starts tallyd on $T/tally.conf with stderr to LOG; sets TALLYD_PID.
start_tallyd() {
        start_bg "$TALLYD" --config "$T/tally.conf" 2>"$1"
        TALLYD_PID=$BG_PID
}

# A build with AddressSanitizer reserves terabytes of address space: `ulimit -v` and
# the like cannot work there.
# meson passes -Db_sanitize as TALLY_SANITIZE; without it, look for the ASan runtime
# (grep -c reads all of nm's output, so pipefail sees no SIGPIPE).
built_with_asan() {
        [[ ${TALLY_SANITIZE:-none} == *address* ]] && return 0
        [[ $(nm -an "$TALLY_WORKER" 2>/dev/null | grep -c __asan_init) -gt 0 ]]
}
