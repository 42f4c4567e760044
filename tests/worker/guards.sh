#!/usr/bin/env bash
# Publish guards (min_rows, max_shrink): an empty upstream and a 90 % drop are refused with
# exit 66, the previous snapshot stays the newest; --force publishes once.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"
mkdir -p "$T/snap"
cat >"$T/c.conf" <<CONF
[tally]
snapshot_dir = $T/snap
keep = 5
[source.ev]
type = csv
path = $T/in.csv
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str
[view.by_product]
source = ev
group_by = product
aggregates = count, sum(amount)
min_rows = 10
max_shrink = 50%
[view.global]
source = ev
group_by =
aggregates = count
CONF
run() { set +e; "$TALLY_WORKER" --config "$T/c.conf" "$@" >"$T/out" 2>"$T/log"; rc=$?; set -e; }
newest() { ls "$T/snap"/snapshot-*.msgpack 2>/dev/null | tail -1; }
rows_of() { "$SNAPDUMP" "$(newest)" | grep -c $'^by_product\t' || true; }

"$TALLY_WORKER" --help | has -- "--force" || fail "--help lacks --force"
"$TALLY_WORKER" --help | has "66  a view broke a publish guard" || fail "--help lacks exit 66"

"$TALLY_GEN" --rows 3000 --products 500 --seed 4 >"$T/in.csv"
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "first run: exit $rc"; }
first=$(newest)
full=$(rows_of)
((full > 100)) || fail "first run: only $full products"
pass "no previous snapshot: the guards pass ($full rows)"

head -1 "$T/in.csv" >"$T/header-only.csv"
cp "$T/header-only.csv" "$T/in.csv"
run
[[ $rc == 66 ]] || { cat "$T/log" >&2; fail "empty upstream: exit $rc, want 66"; }
has "view by_product: 0 rows, fewer than min_rows 10; no snapshot written" "$T/log" ||
        { cat "$T/log" >&2; fail "empty upstream: min_rows break not logged with both numbers"; }
has "MESSAGE_ID\|TALLY_GUARD=min_rows" "$T/log" || fail "no TALLY_GUARD field"
[[ $(newest) == "$first" ]] || fail "empty upstream published"
pass "an empty upstream: exit 66, view and both numbers logged, the previous snapshot stays"

"$TALLY_GEN" --rows 3000 --products 500 --seed 4 | awk -F, 'NR == 1 || $3 < "p00050"' >"$T/in.csv"
run
[[ $rc == 66 ]] || { cat "$T/log" >&2; fail "90 % drop: exit $rc, want 66"; }
has -E "view by_product: [0-9]+ rows against $full in snapshot 1, shrunk more than max_shrink 50%" "$T/log" ||
        { cat "$T/log" >&2; fail "90 % drop: max_shrink break not logged"; }
[[ $(newest) == "$first" ]] || fail "90 % drop published"
pass "a 90 % drop: exit 66, both numbers and the snapshot compared logged, nothing published"

run --force
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "--force: exit $rc"; }
has "publishing anyway (--force)" "$T/log" || fail "--force not logged"
[[ $(newest) != "$first" ]] || fail "--force did not publish"
small=$(rows_of)
((small < full / 5)) || fail "--force published $small rows, not the small set"
pass "--force publishes the smaller set once ($small rows)"

# the next run compares against the forced snapshot: the same small set passes
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "after --force: exit $rc"; }
pass "after --force the smaller set is the reference"

# a corrupt newest snapshot does not block every run: max_shrink is skipped, with a warning
printf 'garbage' >"$T/snap/snapshot-00000000000000000099.msgpack"
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "unreadable previous snapshot: exit $rc"; }
has "is unreadable" "$T/log" || fail "unreadable previous snapshot: no warning"
rm "$T/snap/snapshot-00000000000000000099.msgpack"
pass "an unreadable previous snapshot: max_shrink skipped with a warning"

sed -i 's/^max_shrink = 50%$/max_shrink = 150%/' "$T/c.conf"
run --check-config
[[ $rc == 78 ]] || fail "max_shrink = 150%: exit $rc, want 78"
line=$(grep -n '^max_shrink' "$T/c.conf" | cut -d: -f1)
has -F "c.conf:$line: [view.by_product] max_shrink:" "$T/log" || fail "bad max_shrink not named with FILE:LINE"
pass "a bad max_shrink: 78 with FILE:LINE"
