#!/usr/bin/env bash
# The documented outcomes of a run: exit codes, what is (not) published, what is logged.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"

conf() { # conf PATH [extra source lines] -> $T/c.conf
        cat >"$T/c.conf" <<CONF
[tally]
snapshot_dir = $T/snap
keep = 3
[source.ev]
type = csv
path = $1
columns = ts:time, region:str, amount:num
${2:-}
[view.global]
source = ev
group_by =
aggregates = count, sum(amount), avg(amount), min(amount)
[view.recent]
source = ev
group_by = region
aggregates = count
window = ts 24h
CONF
}
run() { set +e; "$TALLY_WORKER" --config "$T/c.conf" "$@" >"$T/out" 2>"$T/log"; rc=$?; set -e; }
newest() { ls "$T/snap"/snapshot-*.msgpack 2>/dev/null | tail -1; }
count_snaps() { ls "$T/snap" | grep -c '^snapshot-' || true; }
no_tmp() { ! ls -A "$T/snap" | has '^\.tmp-'; }
mkdir -p "$T/snap"

"$TALLY_WORKER" --help | has "65  a source had more malformed rows" || fail "--help lacks exit codes"
pass "--help documents exit codes"

printf 'ts,region,amount\n2026-01-01T00:00:00Z,eu,1.5\n' >"$T/ok.csv"
conf "$T/ok.csv"
run --check-config
[[ $rc == 0 ]] || fail "--check-config on a good config: $rc"
grep -qx "$T/c.conf: OK (1 sources, 2 views)" "$T/out" || fail "--check-config output: $(cat "$T/out")"
[[ $(count_snaps) == 0 ]] || fail "--check-config wrote a snapshot"
printf '[view.x]\nsource = nope\naggregates = count\n[tally]\nkeep = none\n' >>"$T/c.conf"
run --check-config
[[ $rc == 78 ]] || fail "bad config: exit $rc, want 78"
grep -q "c.conf:19: \[view.x\] source: unknown source 'nope'" "$T/log" || fail "first mistake: $(cat "$T/log")"
grep -q "c.conf:22: \[tally\] keep: 'none' is not a whole number" "$T/log" || fail "second mistake"
[[ $(grep -c "c.conf:" "$T/log") == 2 ]] || fail "each mistake once: $(cat "$T/log")"
pass "--check-config: 0 and OK for good, 78 and every mistake once for bad"

set +e
"$TALLY_WORKER" --no-such-option 2>/dev/null; rc=$?
"$TALLY_WORKER" -c "$T/c.conf" extra 2>/dev/null; rc2=$?
"$TALLY_WORKER" --deadline soon 2>/dev/null; rc3=$?
set -e
[[ $rc == 64 && $rc2 == 64 && $rc3 == 64 ]] || fail "usage errors: exit $rc $rc2 $rc3, want 64"
[[ $("$TALLY_WORKER" -V) == "tally-worker "* && $("$TALLY_WORKER" --version) == "$("$TALLY_WORKER" -V)" ]] ||
        fail "-V/--version"
"$TALLY_WORKER" -h | has -- "-c, --config PATH" || fail "-h"
run_short() { set +e; "$TALLY_WORKER" -c "$T/c.conf" --check-config >/dev/null 2>&1; rc=$?; set -e; }
run_short
[[ $rc == 78 ]] || fail "-c PATH not read: exit $rc"
pass "usage errors exit 64; -c, -h, -V as in tallyd"

conf "$T/missing.csv"
run
[[ $rc == 1 ]] || fail "missing file: exit $rc, want 1"
grep -q "missing.csv: cannot open input" "$T/log" || fail "missing file not named"
conf "$T/none-*.csv"
run
[[ $rc == 1 ]] || fail "glob without match: exit $rc, want 1"
grep -q "no input file matches" "$T/log" || fail "unmatched glob not reported"
mkdir -p "$T/adir.csv"
conf "$T/adir.csv"
run
[[ $rc == 1 ]] || fail "directory as input: exit $rc"
[[ $(count_snaps) == 0 ]] || fail "a failed run published"
pass "missing, unmatched and unreadable inputs fail with 1 and publish nothing"

: >"$T/empty.csv"
conf "$T/empty.csv"
run
[[ $rc == 0 ]] || fail "empty file: exit $rc"
"$SNAPDUMP" "$(newest)" >"$T/dump"
grep -q $'^global\tcount=0\tsum(amount)=0\tavg(amount)=nil\tmin(amount)=nil$' "$T/dump" ||
        { cat "$T/dump"; fail "empty file: global row"; }
! grep -q '^recent' "$T/dump" || fail "empty file: grouped view has rows"
grep -q "empty file" "$T/log" || fail "empty file not logged"
printf 'ts,region,amount\r\n' >"$T/header.csv"
conf "$T/header.csv"
run
[[ $rc == 0 ]] || fail "header only: exit $rc"
"$SNAPDUMP" "$(newest)" | has $'^global\tcount=0' || fail "header only: global row"
pass "empty file and header only publish empty views (count 0, nil avg/min)"

printf 'ts,amount\n2026-01-01T00:00:00Z,1\n' >"$T/nocol.csv"
conf "$T/nocol.csv"
before=$(count_snaps)
run
[[ $rc == 78 ]] || fail "column missing from header: exit $rc, want 78"
grep -q "column 'region' declared in \[source.ev\] columns is missing from the CSV header" "$T/log" ||
        fail "missing column not named"
grep -q "nocol.csv" "$T/log" || fail "file of the missing column not named"
[[ $(count_snaps) == "$before" ]] || fail "published despite a bad header"
pass "declared column missing from the header: 78, naming column and file"

conf "$T/unread.csv"
sed -i 's/^type = csv$/type = postgres/' "$T/c.conf"
gen=$(newest)
run
[[ $rc == 78 ]] || fail "type = postgres with path: exit $rc, want 78"
line=$(grep -n '^path = ' "$T/c.conf" | cut -d: -f1)
has -F "$T/c.conf:$line: [source.ev] path: not a key of type = postgres sources" "$T/log" ||
        fail "path on a postgres source not refused with FILE:LINE: $(cat "$T/log")"
has -F "[source.ev]: no 'dsn' given (type = postgres)" "$T/log" || fail "missing dsn not named"
has -F "[source.ev]: no 'query' given (type = postgres)" "$T/log" || fail "missing query not named"
[[ $(newest) == "$gen" ]] || fail "type = postgres with path published"
pass "keys validated per source type: path refused on postgres, dsn and query required (78)"

"$TALLY_GEN" --rows 2000 --bad-rate 0.2 --seed 3 >"$T/bad.csv"
conf "$T/bad.csv"
sed -i 's/^columns = .*/columns = ts:time, region:str, amount:num, user_id:int, latency_ms:num, status:str, product:str/' "$T/c.conf"
gen=$(newest)
run
[[ $rc == 65 ]] || fail "bad rows over the ratio: exit $rc, want 65"
grep -q "above max_bad_ratio" "$T/log" || fail "bad-row failure not logged"
grep -Eq "bad.csv:[0-9]+: malformed row skipped: (wrong field count|bad num|bad time|bad quoting)" "$T/log" ||
        fail "malformed rows not logged with file and line"
[[ $(newest) == "$gen" ]] || fail "a snapshot was published despite bad rows"
echo "max_bad_ratio = 25%" >>"$T/c.conf"
sed -i 's/^\(\[view.global\]\)/max_bad_ratio = 25%\n\1/' "$T/c.conf"
sed -i '$d' "$T/c.conf"
run
[[ $rc == 0 ]] || { cat "$T/log"; fail "bad rows under a raised ratio: exit $rc"; }
pass "malformed rows above max_bad_ratio: 65, nothing published; a higher ratio accepts them"

"$TALLY_GEN" --rows 300000 --seed 5 >"$T/big.csv"
conf "$T/big.csv"
sed -i 's/^columns = .*/columns = ts:time, region:str, amount:num/' "$T/c.conf"
gen=$(newest)
run --deadline 1ms
[[ $rc == 1 ]] || fail "deadline: exit $rc, want 1"
grep -q "deadline passed" "$T/log" || fail "deadline not logged"
no_tmp || fail "deadline left a temp file"
[[ $(newest) == "$gen" ]] || fail "published after the deadline"
printf '[worker]\nmax_runtime = 1ms\n' >>"$T/c.conf"
run
[[ $rc == 1 ]] || fail "max_runtime: exit $rc, want 1"
no_tmp || fail "max_runtime left a temp file"
pass "--deadline and max_runtime stop cleanly: 1, no temp file, previous snapshot kept"

now=$(date -u +%s)
{
        echo "ts,region,amount"
        echo "$((now - 3600)),recent,1"
        echo "$(date -u -d @$((now - 7200)) +%Y-%m-%dT%H:%M:%SZ),recent,2"
        echo "$((now - 3 * 86400)),old,4"
        echo "$(((now + 3 * 86400) * 1000)),future,8"
} >"$T/now.csv"
conf "$T/now.csv" "time_reference = now"
run
[[ $rc == 0 ]] || fail "time_reference = now: exit $rc"
"$SNAPDUMP" "$(newest)" >"$T/dump"
grep -q $'^recent\tregion=recent\tcount=2$' "$T/dump" || { cat "$T/dump"; fail "now: recent rows"; }
! grep -q 'region=old' "$T/dump" || fail "now: old rows inside the window"
conf "$T/now.csv"
run
"$SNAPDUMP" "$(newest)" >"$T/dump"
! grep -q 'region=recent' "$T/dump" || fail "newest: window should end at the future row"
grep -q $'^recent\tregion=future\tcount=1$' "$T/dump" || fail "newest: the newest row"
pass "windows against now and against the newest time"

grep -q "TALLY_GENERATION=" "$T/log" && grep -q "TALLY_ROWS_READ=4" "$T/log" &&
        grep -q "TALLY_VIEW=recent" "$T/log" || fail "run log lacks its fields"
pass "one entry per run with generation, rows and duration, one per view"

# A view whose serving-ready bodies (contract version 2) would pass max_snapshot_bytes is
# published as version 1, which tallyd renders at load; a small one stays version 2.
version() { python3 -c 'import sys; d=open(sys.argv[1],"rb").read(17); print(d[16])' "$1"; }
python3 -c 'import sys
print("ts,region,amount")
for i in range(3000): print("2026-01-01T00:00:00Z,r%d,%d" % (i, i))' >"$T/many.csv"
conf "$T/many.csv"
run
[[ $rc == 0 ]] || fail "bodies within the bound: exit $rc"
v2_bytes=$(stat -c %s "$(newest)")
[[ $(version "$(newest)") == 2 ]] || fail "a small snapshot should be version 2"
conf "$T/many.csv" "" && sed -i "s/^keep = 3$/keep = 3\nmax_snapshot_bytes = $((v2_bytes - 1))/" "$T/c.conf"
run
[[ $rc == 0 ]] || fail "bodies past max_snapshot_bytes: exit $rc"
[[ $(version "$(newest)") == 1 ]] || fail "bodies past max_snapshot_bytes: not version 1"
(($(stat -c %s "$(newest)") < v2_bytes)) || fail "the version 1 file is not smaller"
has "written as version 1" "$T/log" || fail "the fallback is not logged"
pass "bodies past max_snapshot_bytes: published as version 1 (tallyd renders it), logged"
