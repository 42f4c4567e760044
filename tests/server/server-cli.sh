#!/bin/bash
# tallyd's command line: help, version, config checking and its exit codes.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

"$TALLYD" --help | has -- '--spawn-worker' || fail "--help"
[[ $("$TALLYD" --version) == "tallyd "* && $("$TALLYD" -V) == "$("$TALLYD" --version)" ]] || fail "--version"
"$TALLYD" -h | has -- "-c, --config PATH" || fail "-h"
server_config 1
[[ $("$TALLYD" -c "$T/tally.conf" --check-config) == "$T/tally.conf: OK ("*" sources, "*" views)" ]] ||
        fail "--check-config on a good file"
printf '[server]\nbogus = 1\n' >"$T/bad.conf"
set +e
"$TALLYD" --config "$T/bad.conf" --check-config 2>"$T/err"; rc=$?
"$TALLYD" --config "$T/missing.conf" 2>/dev/null; rc2=$?
"$TALLYD" --config "$T/tally.conf" --spawn-worker=nonsense 2>/dev/null; rc3=$?
"$TALLYD" --no-such-option 2>/dev/null; rc4=$?
"$TALLYD" --config "$T/tally.conf" extra 2>/dev/null; rc5=$?
set -e
((rc == 78)) || fail "bad config exit $rc"
grep -q "bad.conf:2: \[server\] bogus: unknown key" "$T/err" ||
        fail "error does not name file, line and key: $(cat "$T/err")"
((rc2 == 78)) || fail "missing config exit $rc2"
((rc3 == 64)) || fail "bad --spawn-worker interval exit $rc3"
((rc4 == 64)) || fail "unknown option exit $rc4"
((rc5 == 64)) || fail "extra argument exit $rc5"
pass "exit codes: 0, 78 (EX_CONFIG), 64 (EX_USAGE)"

# Port taken (by another tallyd): a clear startup failure, not a hang.
server_config "$(free_port)"
start_tallyd
set +e
timeout 5 "$TALLYD" --config "$T/tally.conf" 2>"$T/err"; rc=$?
set -e
((rc == 1)) || fail "listen failure exit $rc"
grep -q "Cannot listen on 127.0.0.1:" "$T/err" || fail "listen failure message: $(cat "$T/err")"
pass "listen failure reported"
