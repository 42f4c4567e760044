#!/usr/bin/env bash
# The installed units pass `systemd-analyze verify` (inside a real systemd, where the
# binaries exist), both services stay at an exposure of at most 2.0 under
# `systemd-analyze security --offline=yes` (our own bar is tighter, see below), and the
# catalog has an entry for every MESSAGE_ID the code defines.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/systemd/nspawn.sh"
ct_skip_unless_possible

# Issue 5 asks for <= 2.0; the units score 0.2 (worker) and 0.3 (tallyd) today. Fail
# well before the issue's bar so a loosened directive shows up in review, not in
# production.
MAX_EXPOSURE=${TALLY_MAX_EXPOSURE:-0.5}

ct_install
units=(tally-worker.service tally-worker.timer tally-worker.path tallyd.service tallyd.socket)
for u in "${units[@]}"; do
        [[ -f $CT_STAGE$CT_UNITDIR/$u ]] || fail "$u not installed into $CT_UNITDIR"
done
grep -q '@[a-z]*@' "$CT_STAGE$CT_UNITDIR"/* && fail "unsubstituted @var@ in installed units"

for svc in tally-worker.service tallyd.service; do
        out=$(systemd-analyze security --offline=yes --threshold=20 "$CT_STAGE$CT_UNITDIR/$svc" 2>&1) ||
                { echo "$out" | grep -E '✗|Overall' >&2; fail "$svc: exposure above 2.0"; }
        score=$(echo "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
        [[ -n $score ]] || { echo "$out" >&2; fail "$svc: no exposure score in the output"; }
        awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
                { echo "$out" | grep -E '✗|Overall' >&2; fail "$svc: exposure $score > $MAX_EXPOSURE (regression)"; }
        pass "$svc exposure $score (limit $MAX_EXPOSURE, issue bar 2.0)"
done

# Every MSGID_* in common/log.h has a catalog entry, and nothing else does.
code_ids=$(sed -n 's/^#define MSGID_[A-Z_]*[[:space:]]*"\([0-9a-f]\{32\}\)".*/\1/p' "$TALLY_SOURCE_ROOT/common/log.h" | sort)
cat_ids=$(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$TALLY_SOURCE_ROOT/systemd/tally.catalog" | sort)
[[ -n $code_ids ]] || fail "no MSGID_ in common/log.h"
[[ $code_ids == "$cat_ids" ]] || { diff <(echo "$code_ids") <(echo "$cat_ids") >&2; fail "catalog ids differ from common/log.h"; }
pass "catalog covers all $(echo "$code_ids" | wc -l) MESSAGE_IDs"

ct_up
paths=()
for u in "${units[@]}"; do paths+=("$CT_UNITDIR/$u"); done
out=$(ct systemd-analyze verify "${paths[@]}" 2>&1) || { echo "$out" >&2; fail "systemd-analyze verify failed"; }
[[ -z $out ]] || { echo "$out" >&2; fail "systemd-analyze verify is not clean"; }
pass "systemd-analyze verify clean"

# the installed catalog compiled into journald's database (journalctl --update-catalog)
for id in $code_ids; do
        ct journalctl --list-catalog "$id" | has "$id" || fail "catalog entry $id not in the installed catalog"
done
pass "catalog installed"
