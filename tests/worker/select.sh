#!/usr/bin/env bash
# Views without aggregation (select = …): rows as they are, keyed by group_by or in source
# order; where and window apply; a duplicate key fails the run naming it; the rows held
# are bounded by max_snapshot_bytes.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"
mkdir -p "$T/snap"
conf() { # conf VIEW-LINES… (extra [tally] lines in $TALLY_EXTRA)
        {
                printf '[tally]\nsnapshot_dir = %s\nkeep = 5\n%s\n' "$T/snap" "${TALLY_EXTRA:-}"
                printf '[source.sc]\ntype = csv\npath = %s\n' "$T/in.csv"
                printf 'columns = region:str, product:str, score:num, n:int, ts:time\n'
                printf '[view.v]\nsource = sc\n'
                printf '%s\n' "$@"
        } >"$T/c.conf"
}
run() { set +e; "$TALLY_WORKER" --config "$T/c.conf" "$@" >"$T/out" 2>"$T/log"; rc=$?; set -e; }
newest() { ls "$T/snap"/snapshot-*.msgpack 2>/dev/null | tail -1; }
dump() { "$SNAPDUMP" "$(newest)" | grep -v '^#'; }

python3 - >"$T/in.csv" <<'PY'
import random
random.seed(7)
print("region,product,score,n,ts")
rows = [(r, p) for r in ("us", "eu", "ap") for p in ("p%02d" % i for i in range(30))]
random.shuffle(rows)
for i, (r, p) in enumerate(rows):
    print("%s,%s,%.3f,%d,2026-01-%02dT00:00:00Z" % (r, p, random.random() * 100, i, 1 + i % 28))
PY

# keyed: one row per (region, product), sorted by key, values as they are
conf "group_by = region, product" "select = score, n"
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "keyed select: exit $rc"; }
"$SNAPDUMP" "$(newest)" | has -x $'#view\tv\t2\tregion:str\tproduct:str\tscore:num\tn:int' ||
        fail "keyed select: columns $("$SNAPDUMP" "$(newest)" | grep '^#view')"
python3 - "$T/in.csv" >"$T/want" <<'PY'
import csv, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: (r["region"], r["product"]))
for r in rows:
    print("v\tregion=%s\tproduct=%s\tscore=%.17g\tn=%s" % (r["region"], r["product"], float(r["score"]), r["n"]))
PY
dump | sed -E 's/score=([0-9.e+-]+)/score=\1/' >"$T/got"
python3 - "$T/want" "$T/got" <<'PY' || fail "keyed select: rows differ from the input"
import sys
w = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
g = [l.split("\t") for l in open(sys.argv[2]).read().split("\n") if l]
assert len(w) == len(g) == 90, (len(w), len(g))
for a, b in zip(w, g):
    assert a[:3] == b[:3] and a[4] == b[4], (a, b)
    assert float(a[3][6:]) == float(b[3][6:]), (a, b)
PY
pass "select keyed by group_by: one row per key, sorted, values as they are (90 rows)"

# in source order, with where
conf "select = product, region, n" 'where = region = "eu"'
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "ordered select: exit $rc"; }
"$SNAPDUMP" "$(newest)" | has -x $'#view\tv\t0\tproduct:str\tregion:str\tn:int' || fail "ordered select: columns"
dump | sed -E 's/.*\tn=//' >"$T/got"
awk -F, 'NR > 1 && $1 == "eu" { print $4 }' "$T/in.csv" >"$T/want"
cmp -s "$T/want" "$T/got" || fail "ordered select: not the eu rows in source order"
pass "select without group_by: the rows where selects, in source order ($(wc -l <"$T/got") rows)"

# window against the newest time: the last 3 days of ts
conf "group_by = region, product" "select = n, ts" "window = ts 72h"
run
[[ $rc == 0 ]] || { cat "$T/log" >&2; fail "windowed select: exit $rc"; }
want=$(awk -F, 'NR > 1 && $5 >= "2026-01-25T00:00:00Z"' "$T/in.csv" | wc -l)
got=$(dump | wc -l)
[[ $got == "$want" ]] || fail "windowed select: $got rows, want $want"
pass "window applies to a select view ($got rows in the last 72 h)"

# a duplicate key fails the run naming the key and the view; nothing published
gen=$(newest)
conf "group_by = region" "select = product"
run
[[ $rc == 65 ]] || { cat "$T/log" >&2; fail "duplicate key: exit $rc, want 65"; }
has -E "view v: two rows share the group_by key \(region=(us|eu|ap)\)" "$T/log" ||
        { cat "$T/log" >&2; fail "duplicate key not named"; }
[[ $(newest) == "$gen" ]] || fail "duplicate key published"
pass "a duplicate group_by key: exit 65 naming the key and the view, nothing published"

# bounded by max_snapshot_bytes
TALLY_EXTRA="max_snapshot_bytes = 1024" conf "select = region, product, score, n, ts"
run
[[ $rc == 65 ]] || { cat "$T/log" >&2; fail "too large: exit $rc, want 65"; }
has "view v: the selected rows exceed max_snapshot_bytes (1024 bytes)" "$T/log" || fail "too large: not said"
[[ $(newest) == "$gen" ]] || fail "too large published"
pass "select rows past max_snapshot_bytes: exit 65, said so, nothing published"

# config: select and aggregates together, or select of an unknown column: 78 with FILE:LINE
conf "group_by = region" "select = product" "aggregates = count"
run --check-config
[[ $rc == 78 ]] || fail "select + aggregates: exit $rc"
has -F "[view.v] select: a view has aggregates or select, not both" "$T/log" || fail "select + aggregates: message"
conf "select = nope"
run --check-config
[[ $rc == 78 ]] || fail "unknown select column: exit $rc"
line=$(grep -n '^select' "$T/c.conf" | cut -d: -f1)
has -F "c.conf:$line: [view.v] select: source 'sc' has no column 'nope'" "$T/log" || { cat "$T/log"; fail "unknown column: message"; }
pass "select config mistakes: 78 with FILE:LINE"
