#!/bin/bash
# Suite cluster: snapshots to many serving hosts over a real NATS JetStream cluster of
# three nodes, every host a network namespace (topology.sh), torn down on exit.
# Needs root (skips with 77 otherwise). TALLY_CLUSTER_LONG=1: the leader-kill and
# partition cases repeat (by hand; minutes).
if [[ $(id -u) != 0 ]]; then
        echo "skipped: network namespaces need root"
        exit 77
fi
# Its own parent directory: the suite runs for minutes on machines where other runs may
# sweep stale /tmp/tally-test.* directories. Removed by cluster_cleanup.
CLUSTER_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tc-suite.XXXXXX")
export TMPDIR=$CLUSTER_TMP
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
for c in ip nats-server curl; do
        command -v "$c" >/dev/null || { echo "skipped: no $c"; exit 77; }
done
LONG=${TALLY_CLUSTER_LONG:-0}
REPEAT=1
((LONG)) && REPEAT=${TALLY_CLUSTER_REPEAT:-10}

"$TALLY_GEN" --rows 100000 --regions 12 --products 2000 >"$T/events.csv"
source "$TALLY_SOURCE_ROOT/tests/cluster/topology.sh"

for h in s1 s2; do start_serving "$h"; done
for h in s1 s2; do
        monitor "$h" &
        PID[$h-monitor]=$!
done

# --- a run is served by both serving hosts, with the same generation
run_worker 60s
((WRC == 0)) || fail "first worker run exited $WRC"
G=$(newest_local)
for h in s1 s2; do wait_for 30 serves "$h" "$G" || fail "$h does not serve generation $G"; done
pass "generation $G from the worker host is served by s1 and s2"
rss() { awk '/^VmRSS/ {print $2}' "/proc/${PID[$1-sync]}/status"; }
RSS0=$(rss s1)
has -E "published to NATS bucket tally: [0-9]+ bytes \([0-9]+ on the wire\) in ([2-9]|[1-9][0-9]+) chunks" "$T/w.log" ||
        fail "the snapshot did not need several chunks; the test would not test chunking"
has -E "installed snapshot $G from NATS bucket tally: [0-9]+ bytes \([0-9]+ deflated per chunk\)" "$T/s1-sync.log" ||
        fail "the snapshot did not travel deflated per chunk"

# --- kill -9 of the chunk stream's leader while the worker publishes
leader_kill() {
        local before leader
        before=$(newest_local)
        leader=$(on w "$TOOL" "$URLS" tally leader tally-chunks-tally)
        [[ $leader == n[123] ]] || fail "no leader for the chunk stream ('$leader')"
        run_worker 40s &
        local wpid=$!
        # the publish starts right after the local rename: kill then
        wait_for 30 test -e "$T/w/snap/$(printf 'snapshot-%020d.msgpack' $((before + 1)))" ||
                fail "worker wrote no snapshot"
        kill -9 "${PID[$leader]}"
        wait "${PID[$leader]}" 2>/dev/null || true
        wait "$wpid" || true
        G=$(newest_local)
        if ! grep -q "snapshot $G published to NATS" "$T/w.log"; then
                # the run may have ended 75 (deadline); the next one publishes the newest
                run_worker 40s
                ((WRC == 0)) || fail "worker after leader kill exited $WRC"
                G=$(newest_local)
        fi
        local t0=$SECONDS
        for h in s1 s2; do wait_for 30 serves "$h" "$G" || fail "$h does not serve $G after killing $leader"; done
        pass "killed leader $leader during a publish: generation $G everywhere within $((SECONDS - t0 + 1)) s"
        start_nats "$leader"
        wait_for 90 nats_healthy "$leader" || fail "$leader did not come back"
}
for ((i = 0; i < REPEAT; i++)); do leader_kill; done

# --- one serving host cut off across three runs, then healed
partition() {
        local old=$G
        link s1 down
        for _ in 1 2 3; do
                run_worker 40s
                ((WRC == 0)) || fail "worker run with s1 cut off exited $WRC"
        done
        G=$(newest_local)
        wait_for 30 serves s2 "$G" || fail "s2 does not serve $G"
        serves s1 "$old" || fail "s1 stopped serving $old while cut off (serves '$(served s1)')"
        link s1 up
        local t0=$SECONDS
        wait_for 60 serves s1 "$G" || fail "s1 did not catch up to $G after healing"
        pass "s1 served $old while cut off for three runs, then jumped to $G within $((SECONDS - t0 + 1)) s"
        [[ ! -e $T/s1/snap/$(printf 'snapshot-%020d.msgpack' $((G - 1))) ]] ||
                fail "s1 installed an intermediate generation instead of jumping to the newest"
}
for ((i = 0; i < REPEAT; i++)); do partition; done

# --- a pin applies per host: s1 pinned to an older generation it holds serves that one
# while tally-sync installs newer ones past keep (3), and those installs do not prune
# the pinned file; s2 goes on with the newest
pin_case() {
        local p snap i
        p=$(ls "$T/s1/snap" | sed -n 's/^snapshot-0*\([0-9][0-9]*\)\.msgpack$/\1/p' | sort -n | head -1)
        ((p < G)) || fail "s1 holds no generation older than $G to pin"
        echo PIN >>"$T/s1.served"
        on s1 "$TALLYCTL" --config "$T/s1/tally.conf" pin "$p" >>"$T/ctl.log" 2>&1 ||
                fail "tallyctl pin $p on s1 failed: $(tail -1 "$T/ctl.log")"
        wait_for 10 serves s1 "$p" || fail "s1 does not serve its pin $p"
        for i in 1 2 3 4; do
                run_worker 40s
                ((WRC == 0)) || fail "worker run $i with s1 pinned exited $WRC"
                G=$(newest_local)
                snap=$T/s1/snap/$(printf 'snapshot-%020d.msgpack' "$G")
                wait_for 30 test -e "$snap" || fail "tally-sync on s1 did not install $G while pinned"
        done
        wait_for 30 serves s2 "$G" || fail "unpinned s2 does not serve $G"
        serves s1 "$p" || fail "pinned s1 serves '$(served s1)', not its pin $p"
        [[ -e $T/s1/snap/$(printf 'snapshot-%020d.msgpack' "$p") ]] ||
                fail "tally-sync's installs pruned s1's pinned generation $p"
        # pruning follows each install's rename under the same lock
        count() { ls "$T/s1/snap" | grep -c '^snapshot-.*\.msgpack$'; }
        wait_for 10 eval '(( $(count) == 4 ))' ||
                fail "s1 holds $(count) snapshots, not keep (3) plus the pinned one"
        local n
        n=$(count)
        pass "s1 pinned back to $p kept serving it across four installs up to $G (pinned file kept, $n files); s2 serves $G"
        on s1 "$TALLYCTL" --config "$T/s1/tally.conf" unpin >>"$T/ctl.log" 2>&1 || fail "tallyctl unpin on s1 failed"
        wait_for 30 serves s1 "$G" || fail "s1 does not serve $G after unpin"
        echo UNPIN >>"$T/s1.served"
        pass "s1 unpinned serves the newest, $G"
}
pin_case

# --- a serving host restarted with an empty directory catches up
echo RESTART >>"$T/s2.served"
stop_serving s2
rm -rf "$T/s2/snap"
start_serving s2
wait_for 30 serves s2 "$G" || fail "restarted s2 did not catch up to $G"
echo STARTED >>"$T/s2.served"
pass "s2 restarted with an empty directory serves $G"

# --- damaged snapshots put into the bucket directly are refused everywhere. The first
# four are sent as is; the others deflated: a truncated stream, a manifest announcing more
# than the stream inflates to, a deflate bomb announced as a small file, an honest bomb
# over max_snapshot_bytes, a raw size deflate cannot reach, and (deflate-chunks) a chunk
# that inflates to one byte less than its slice. Each is refused with its
# reason (the pattern after the colon), never installed, and never a crash.
D=$((G + 1))
file=$T/w/snap/$(printf 'snapshot-%020d.msgpack' "$G")
for spec in garbage xxh3 flip missing "ratio:0 .*cannot inflate to" \
        "truncated:$D .*not a complete deflate stream" \
        "raw-over:$D .*inflate to [0-9]+ bytes, [0-9]+ announced" \
        "bomb:$D .*inflate to more than the [0-9]+ announced" \
        "bomb-big:$D .*314572800 bytes, max_snapshot_bytes is" \
        "chunk-lie:$D .*chunk 0 at sequence [0-9]+: the deflated bytes inflate to [0-9]+ bytes, [0-9]+ announced"; do
        mode=${spec%%:*} want=${spec#*:}
        [[ $spec == *:* ]] || want=$D
        on w "$TOOL" "$URLS" tally damage "$mode" "$file" "$D" >/dev/null || fail "cluster-tool damage $mode"
        for h in s1 s2; do
                if [[ $spec == *:* ]]; then
                        wait_for 20 eval "grep -qE 'refused snapshot $want' '$T/$h-sync.log'" ||
                                fail "$h did not refuse the damaged ($mode) snapshot with its reason"
                else
                        wait_for 20 eval "(( \$(grep -c 'refused snapshot $D' '$T/$h-sync.log') >= ${n_refused:-1} ))" ||
                                fail "$h did not refuse the damaged ($mode) snapshot"
                fi
                kill -0 "${PID[$h-sync]}" || fail "tally-sync on $h died on the damaged ($mode) snapshot"
                serves "$h" "$G" || fail "$h no longer serves $G after a damaged ($mode) one"
                [[ ! -e $T/$h/snap/$(printf 'snapshot-%020d.msgpack' "$D") ]] || fail "$h installed the damaged ($mode) one"
        done
        [[ $spec == *:* ]] || n_refused=$((${n_refused:-1} + 1))
done
pass "damaged snapshots (garbage, wrong xxh3, flipped byte, missing chunk; deflated: lying raw size, truncated stream, short stream, deflate bombs; per chunk: a chunk inflating short) refused on s1 and s2; $G kept serving"
# The bucket now names generation D: the worker's next run (also D) is superseded and
# says so with 75; the run after publishes.
run_worker 40s
((WRC == 75)) || fail "a worker run whose generation the bucket already names exited $WRC, not 75"
has "not published to NATS bucket tally (exit 75): the bucket already names generation $D" "$T/w.log" ||
        fail "no log line for the superseded run"
run_worker 40s
((WRC == 0)) || fail "the next worker run exited $WRC"
G=$(newest_local)
for h in s1 s2; do wait_for 30 serves "$h" "$G" || fail "$h does not serve $G after the damage"; done
pass "a superseded run exits 75; the next one publishes $G, served everywhere"

# --- one NATS node of three down: publishing and serving go on
kill -9 "${PID[n3]}"
wait "${PID[n3]}" 2>/dev/null || true
run_worker 40s
((WRC == 0)) || fail "worker with n3 down exited $WRC"
G=$(newest_local)
for h in s1 s2; do wait_for 30 serves "$h" "$G" || fail "$h does not serve $G with n3 down"; done
pass "with n3 down generation $G is published and served"

# --- NATS unreachable: the local snapshot stays, exit 75, the next run publishes
kill -9 "${PID[n1]}" "${PID[n2]}"
wait "${PID[n1]}" "${PID[n2]}" 2>/dev/null || true
run_worker 12s # computing takes seconds under ASan on a busy machine; the rest is retries
((WRC == 75)) || fail "worker with NATS down exited $WRC, not 75"
L=$(newest_local)
((L == G + 1)) || fail "the local snapshot was not written with NATS down"
has "snapshot $L written locally but not published" "$T/w.log" || fail "no log line for exit 75"
for n in n1 n2 n3; do start_nats "$n"; done
for n in n1 n2 n3; do wait_for 90 nats_healthy "$n" || fail "$n did not come back"; done
run_worker 60s
((WRC == 0)) || fail "worker after NATS came back exited $WRC"
G=$(newest_local)
for h in s1 s2; do wait_for 30 serves "$h" "$G" || fail "$h does not serve $G after NATS came back"; done
pass "NATS down: exit 75 and the local snapshot kept; the next run publishes $G"

# --- an older worker's manifest (the whole file deflated, encoding deflate) is still
# read: a run without [nats] writes the next generation locally, cluster-tool puts it
# into the bucket that way, and both hosts install it
sed '/^\[nats\]/,$d' "$T/w/tally.conf" >"$T/w/local.conf"
on w "$TALLY_WORKER" --config "$T/w/local.conf" --deadline 40s >>"$T/w.log" 2>&1 || fail "a local run failed"
G=$(newest_local)
on w "$TOOL" "$URLS" tally damage whole "$T/w/snap/$(printf 'snapshot-%020d.msgpack' "$G")" "$G" >/dev/null ||
        fail "cluster-tool damage whole"
for h in s1 s2; do
        wait_for 30 serves "$h" "$G" || fail "$h does not serve $G published as a whole deflated file"
        has -E "installed snapshot $G from NATS bucket tally: [0-9]+ bytes \([0-9]+ deflated\)" "$T/$h-sync.log" ||
                fail "$h did not install $G as a whole deflated file"
done
pass "an older worker's whole-file deflate manifest is read: $G served everywhere"

# --- nothing partial or older was ever served, and every served file is the worker's
for h in s1 s2; do
        kill "${PID[$h-monitor]}"
        wait "${PID[$h-monitor]}" 2>/dev/null || true
        unset "PID[$h-monitor]"
        awk -v h="$h" '
                # from RESTART (before the stop) to STARTED (serving again) requests may
                # fail, and the old tallyd may still answer right after RESTART
                $1 == "RESTART" { restarting = 1; next }
                $1 == "STARTED" { restarting = 0; next }
                $1 == "SLOW" { slow++; next }
                $1 == "PIN" { pinned = 1; next }
                $1 == "UNPIN" { pinned = 0; next }
                $1 == "ERR" { if (seen && !restarting) { print h ": a request failed after serving " last; bad = 1 } next }
                { if (seen && $1 < last && !pinned) { print h ": went back from " last " to " $1; bad = 1 }
                  seen = 1; last = $1 }
                END { if (slow) print h ": " slow " requests took over 5 s (busy machine)"; exit bad }' "$T/$h.served" ||
                        fail "$h served something older, or failed"
        for f in "$T/$h"/snap/snapshot-*.msgpack; do
                cmp -s "$f" "$T/w/snap/${f##*/}" || fail "$h holds ${f##*/} that differs from the worker's"
        done
done
pass "s1 and s2 never went back a generation nor failed a request; their files are the worker's bytes"
# Memory: one snapshot in flight, returned after each install. In the long mode (dozens
# of installs) the resident size must stay flat; the short mode only reports it.
RSS1=$(rss s1)
echo "tally-sync on s1: VmRSS ${RSS0} KiB after the first install, ${RSS1} KiB after $(grep -c 'installed snapshot' "$T/s1-sync.log")"
if ((LONG)) && ((RSS1 > RSS0 + 4096)); then fail "tally-sync grew from $RSS0 to $RSS1 KiB"; fi
for h in s1 s2; do stop_serving "$h"; done
pass "tally-sync stops cleanly on SIGTERM"
