#!/usr/bin/env bash
# Run when input lands, under a real systemd: with tally-worker.path enabled and the
# timer's interval an hour, a CSV moved into /var/lib/tally/input starts a worker run and
# tallyd serves the new generation within seconds; a burst of files coalesces into fewer
# runs, and the data served includes all of them. Then tallyctl as the operator uses it
# on the installed system: run through systemd, list with tallyd's served generation, pin
# and unpin seen in tallyd's StatusText.
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh"

tally_boot
[[ -f $CT_STAGE$CT_UNITDIR/tally-worker.path ]] || fail "tally-worker.path not installed"
[[ $(unit_prop tally-worker.path UnitFileState) == disabled ]] || ct_fail "tally-worker.path is enabled by default"
# the timer exists but would only fire in an hour
ct tee /etc/systemd/system/tally-worker.timer.d/60-long.conf >/dev/null <<'EOF2'
[Timer]
OnActiveSec=
OnUnitActiveSec=
OnActiveSec=1h
OnUnitActiveSec=1h
EOF2
ct systemctl daemon-reload
ct systemctl enable --now tally-worker.timer tally-worker.path tallyd.socket >/dev/null 2>&1 ||
        ct_fail "systemctl enable --now failed"
[[ $(unit_prop tally-worker.path ActiveState) == active ]] || ct_fail "tally-worker.path not active"
[[ $(unit_prop tally-worker.path TriggerLimitBurst) -gt 0 ]] || ct_fail "no trigger limit"

# drop NAME ROWS SEED...: files written outside the input dir and moved in together, as
# the unit's comments tell operators to.
drop() {
        local names=() n
        while (($#)); do
                n=$1
                "$TALLY_GEN" --rows "$2" --regions 3 --products 4 --seed "$3" >"$T/$n"
                ct tee "/var/lib/tally/$n" >/dev/null <"$T/$n"
                ct chgrp tally "/var/lib/tally/$n"
                ct chmod 0640 "/var/lib/tally/$n"
                names+=("/var/lib/tally/$n")
                shift 3
        done
        ct mv "${names[@]}" "$INPUT/"
}
served_total() { view_json | json_count_total; }
_total_is() { [[ $(served_total) == "$1" ]]; }

# nothing has run yet: events-1.csv was there before the path unit watched
(($(written_gens | wc -l) == 0)) || ct_fail "a worker ran before any input landed"
t0=$SECONDS
drop events-2.csv 100 11
poll 30 _total_is $((ROWS + 100)) || ct_fail "dropped file not served within 30 s (serving $(served_total))"
((SECONDS - t0 < 30)) || ct_fail "too slow"
[[ $(written_gens | wc -l) == 1 ]] || ct_fail "expected exactly one run, got: $(written_gens | xargs)"
G1=$(written_gens | tail -1)
last=$(unit_prop tally-worker.timer LastTriggerUSecMonotonic)
[[ $last == 0 || -z $last ]] || ct_fail "the timer triggered ($last): the run was not the path unit's"
pass "file landed -> generation $G1 served after $((SECONDS - t0)) s; the timer (1h) never fired"

# a burst of five files: coalesced, all of them served
runs0=$(written_gens | wc -l)
drop events-3.csv 10 21 events-4.csv 20 22 events-5.csv 30 23 events-6.csv 40 24 events-7.csv 50 25
poll 30 _total_is $((ROWS + 100 + 150)) || ct_fail "burst not served (serving $(served_total))"
ct_wait 30 sh -c '! systemctl is-active -q tally-worker.service' || ct_fail "worker still running"
runs=$(($(written_gens | wc -l) - runs0))
((runs >= 1 && runs < 5)) || ct_fail "5 files made $runs runs, expected them to coalesce"
[[ $(unit_prop tally-worker.path ActiveState) == active ]] || ct_fail "path unit no longer active after the burst"
pass "burst of 5 files: $runs run(s), all rows served"

# --- tallyctl on the installed system
out=$(ct tallyctl --config "$CT_CONF" run) || ct_fail "tallyctl run failed: $out"
G2=$(written_gens | tail -1)
[[ $out == *"Worker run succeeded (tally-worker.service): generation $G2 written"* ]] ||
        ct_fail "tallyctl run said: $out"
wait_served "$G2" || ct_fail "generation $G2 from tallyctl run not served"
ct tallyctl --config "$CT_CONF" list | has -E "^ +$G2 .* yes +no " || ct_fail "tallyctl list: $G2 not served"
pass "tallyctl run through systemd wrote generation $G2; list shows it served"

out=$(ct tallyctl --config "$CT_CONF" pin "$G1") || ct_fail "tallyctl pin failed: $out"
wait_served "$G1" || ct_fail "pinned generation $G1 not served"
_status_pinned() { [[ $(unit_prop tallyd.service StatusText) == *"pinned to generation $G1" ]]; }
poll 10 _status_pinned || ct_fail "StatusText while pinned: $(unit_prop tallyd.service StatusText)"
drop events-8.csv 5 31
_newer() { (($(written_gens | tail -1) > G2)); }
poll 30 _newer || ct_fail "no run after a file landed while pinned"
ct_wait 30 sh -c '! systemctl is-active -q tally-worker.service' || ct_fail "worker still running"
wait_served "$G1" || ct_fail "a new snapshot displaced the pin"
ct test -f "$SNAPDIR/snapshot-$(printf %020d "$G1").msgpack" || ct_fail "pinned snapshot pruned"
ct tallyctl --config "$CT_CONF" unpin >/dev/null || ct_fail "tallyctl unpin failed"
G3=$(written_gens | tail -1)
wait_served "$G3" || ct_fail "unpin: newest $G3 not served"
pass "pin $G1 under systemd: StatusText says so, new input does not displace it; unpin serves $G3"
