#!/usr/bin/env bash
# A worker run over input with too many bad rows fails: the unit is failed with exit
# status 65, the journal explains why, no snapshot is written, tallyd keeps serving the
# previous generation, the timer goes on, and the first good run after the fix recovers.
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh"

tally_boot
ct systemctl enable --now tallyd.socket >/dev/null 2>&1 || ct_fail "enable tallyd.socket failed"
ct systemctl start tally-worker.service || ct_fail "first worker run failed"
G=$(written_gens | tail -n 1)
wait_served "$G" || ct_fail "tallyd does not serve generation $G"
before=$(ct ls "$SNAPDIR")

# 50% malformed rows, the source allows 5%
put_input events-2.csv --rows 400 --bad-rate 0.5 --seed 9
ct systemctl start tally-worker.service && ct_fail "worker run over bad input succeeded"
[[ $(unit_prop tally-worker.service ActiveState) == failed ]] || ct_fail "worker unit not failed"
[[ $(unit_prop tally-worker.service Result) == exit-code ]] || ct_fail "worker Result is not exit-code"
[[ $(unit_prop tally-worker.service ExecMainStatus) == 65 ]] ||
        ct_fail "worker exit status $(unit_prop tally-worker.service ExecMainStatus), want 65"
[[ $(ct ls "$SNAPDIR") == "$before" ]] || ct_fail "the failed run changed the snapshot directory"
ct journalctl -x "$WORKER_ENTRIES" MESSAGE_ID="$MSGID_BAD_ROWS" --no-pager | has 'too many bad rows' ||
        ct_fail "no catalog-explained bad-rows entry"
ct journalctl -x "$WORKER_ENTRIES" MESSAGE_ID="$MSGID_FAILED" --no-pager | has 'aggregation run failed' ||
        ct_fail "no catalog-explained worker-failed entry"
[[ $(view_json | json_get generation) == "$G" ]] || ct_fail "tallyd does not serve the previous generation $G"
[[ $(unit_prop tallyd.service ActiveState) == active ]] || ct_fail "tallyd not active"
pass "bad input: unit failed (65), journal explains it, tallyd still serves $G"

# a corrupt snapshot file (not the worker's doing) is rejected, explained, not served
newest=$(ct ls "$SNAPDIR" | grep '^snapshot-[0-9]*\.msgpack$' | sort | tail -n 1)
digits=${newest#snapshot-}
digits=${digits%.msgpack}
bad=$(printf 'snapshot-%0*d.msgpack' "${#digits}" $((10#$digits + 100)))
ct sh -c "head -c 4096 /dev/urandom >$SNAPDIR/.planted && chgrp tally $SNAPDIR/.planted && chmod 0640 $SNAPDIR/.planted && mv $SNAPDIR/.planted $SNAPDIR/$bad"
_rejected() { ct journalctl -x -u tallyd.service MESSAGE_ID="$MSGID_REJECTED" --no-pager | has 'could not accept'; }
poll 20 _rejected || ct_fail "tallyd did not reject the corrupt $bad with a catalog-explained entry"
[[ $(view_json | json_get generation) == "$G" ]] || ct_fail "tallyd does not serve $G after the corrupt file"
ct rm "$SNAPDIR/$bad"
pass "corrupt $bad rejected and explained; tallyd still serves $G"

# the timer keeps trying while the input is bad...
_failed_twice() { (($(ct journalctl "$WORKER_ENTRIES" MESSAGE_ID="$MSGID_FAILED" -o cat --no-pager | wc -l) >= 2)); }
ct systemctl start tally-worker.timer
poll 30 _failed_twice || ct_fail "the timer did not run the worker again after a failure"
# ...and the first run after the fix publishes and is served
ct rm "$INPUT/events-2.csv"
_recovered() { (($(written_gens | tail -n 1) > G)); }
poll 30 _recovered || ct_fail "no successful timer run after the input was fixed"
ct systemctl stop tally-worker.timer
ct_wait 30 sh -c '! systemctl is-active -q tally-worker.service' || ct_fail "worker run did not end"
G2=$(written_gens | tail -n 1)
wait_served "$G2" || ct_fail "tallyd does not serve the recovered generation $G2"
[[ $(unit_prop tally-worker.service ActiveState) != failed ]] || ct_fail "worker still failed after a good run"
pass "timer ran on after the failure; fixed input published and served generation $G2"

# a hung run (a source that never delivers: a FIFO nobody writes to) is ended by
# TimeoutStartSec= and cannot block later runs; shortened by drop-in
ct mkdir -p /etc/systemd/system/tally-worker.service.d
ct tee /etc/systemd/system/tally-worker.service.d/50-test.conf >/dev/null <<'CONF'
[Service]
TimeoutStartSec=2s
TimeoutStopSec=2s
CONF
ct systemctl daemon-reload
ct mkfifo "$INPUT/events-9.csv"
start=$SECONDS
ct systemctl start tally-worker.service && ct_fail "a run reading a silent FIFO succeeded"
[[ $(unit_prop tally-worker.service Result) == timeout ]] ||
        ct_fail "hung run: Result=$(unit_prop tally-worker.service Result), want timeout"
((SECONDS - start < 15)) || ct_fail "hung run took $((SECONDS - start)) s to be stopped"
ct rm "$INPUT/events-9.csv"
ct systemctl start tally-worker.service || ct_fail "the run after a hung one failed"
G3=$(written_gens | tail -n 1)
((G3 > G2)) || ct_fail "the run after a hung one wrote no newer generation"
wait_served "$G3" || ct_fail "tallyd does not serve $G3"
pass "hung run stopped by TimeoutStartSec (Result=timeout); the next run published $G3"
