#!/usr/bin/env bash
# A tallyd whose event loop stops (SIGSTOP: no more WATCHDOG=1) is killed by systemd's
# watchdog and restarted; the new process comes back through the same socket and serves
# the newest snapshot again.
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh"

tally_boot
ct systemctl enable --now tallyd.socket >/dev/null 2>&1 || ct_fail "enable tallyd.socket failed"
ct systemctl start tally-worker.service || ct_fail "worker run failed"
G=$(written_gens | tail -n 1)
[[ -n $G ]] || ct_fail "no snapshot written"
wait_served "$G" || ct_fail "tallyd does not serve generation $G"
pid=$(unit_prop tallyd.service MainPID)
[[ $(unit_prop tallyd.service WatchdogUSec) != 0 ]] || ct_fail "tallyd has no watchdog"

ct kill -STOP "$pid"
_restarted() {
        local n p s
        n=$(unit_prop tallyd.service NRestarts) p=$(unit_prop tallyd.service MainPID)
        s=$(unit_prop tallyd.service ActiveState)
        ((n >= 1)) && [[ $s == active && $p != "$pid" && $p != 0 ]]
}
poll 30 _restarted || ct_fail "tallyd was not restarted after its loop stopped"
ct journalctl -u tallyd.service --no-pager -o cat | has 'Watchdog timeout' ||
        ct_fail "no 'Watchdog timeout' in tallyd's journal"
[[ $(ct journalctl -u tallyd.service --no-pager -o cat | grep -c "Failed with result 'watchdog'") -ge 1 ]] ||
        ct_fail "tallyd did not fail with result 'watchdog'"
ct test -d "/proc/$pid" && ct_fail "the stopped tallyd ($pid) is still there"
pass "watchdog killed stopped tallyd $pid; NRestarts=$(unit_prop tallyd.service NRestarts), new pid $(unit_prop tallyd.service MainPID)"

wait_served "$G" || ct_fail "restarted tallyd does not serve generation $G"
ct systemctl start tally-worker.service || ct_fail "worker run after the restart failed"
G2=$(written_gens | tail -n 1)
wait_served "$G2" || ct_fail "restarted tallyd does not follow generation $G2"
pass "restarted tallyd serves $G, then the newest $G2"
