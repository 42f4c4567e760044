#!/usr/bin/env bash
# The engine against an independent reference (reference.py, Python's standard library
# only) on generated data with malformed rows: every aggregate, where operator, window and
# group-by shape, over quoted fields, CRLF, gzip, a glob of files and every time format.
# Files are also split into many small tasks so task seams (and quoted line breaks across
# them) are exercised.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
REF="$TALLY_SOURCE_ROOT/tests/worker/reference.py"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"

mkdir -p "$T/in" "$T/snap"
"$TALLY_GEN" --rows 6000 --bad-rate 0.01 --seed 11 --products 40 --users 3000 >"$T/a.csv"
"$TALLY_GEN" --rows 6000 --bad-rate 0.01 --seed 12 --products 40 --users 3000 --crlf >"$T/b.csv"
"$TALLY_GEN" --rows 6000 --bad-rate 0.01 --seed 13 --products 40 --users 3000 >"$T/c.csv"
python3 "$REF" mutate "$T/a.csv" "$T/in/events-1.csv" 1
python3 "$REF" mutate "$T/b.csv" "$T/in/events-2.csv" 2 --crlf
python3 "$REF" mutate "$T/c.csv" "$T/in/events-3.csv.gz" 3 --gzip
"$TALLY_GEN" --rows 30000 --bad-rate 0.005 --seed 14 --products 200 >"$T/big.csv"

cat >"$T/tally.conf" <<CONF
[tally]
snapshot_dir = $T/snap
keep = 2

[worker]
threads = 2
max_bad_ratio = 5%

[source.ev]
type = csv
path = $T/in/events-*
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str

[source.big]
type = csv
path = $T/big.csv
columns = status:str, ts:time, region:str, amount:num, user_id:int, latency_ms:num

; the same file with only region and amount read: a bad ts, user_id or latency_ms does
; not reject a row there (unused columns are not converted)
[source.narrow]
type = csv
path = $T/big.csv
columns = status:str, ts:time, region:str, amount:num, user_id:int, latency_ms:num

[view.all]
source = ev
group_by =
aggregates = count, sum(amount), avg(amount), min(amount), max(amount), p50(latency_ms), p90(latency_ms), p95(latency_ms), p99(latency_ms), distinct(user_id), distinct(region), approx_p50(latency_ms), approx_p99(amount), approx_distinct(user_id), sum(user_id), avg(user_id), min(user_id), max(user_id), min(ts), max(ts), p95(user_id)

[view.by_region]
source = ev
group_by = region
aggregates = count, sum(amount), avg(latency_ms), min(latency_ms), max(amount), p95(latency_ms), distinct(user_id), distinct(product), approx_p95(latency_ms), approx_distinct(product)

[view.by_three]
source = ev
group_by = region, product, status
aggregates = count, sum(amount), p50(amount), distinct(user_id)

[view.ok_last_day]
source = ev
group_by = region
aggregates = count, sum(amount), avg(amount), p95(latency_ms), distinct(user_id)
where = status = ok
window = ts 24h

[view.filters]
source = ev
group_by = status
aggregates = count, sum(amount), min(latency_ms)
where = amount >= 100 and amount < 900.5 and latency_ms > 5 and latency_ms <= 80 and region != eu-west and product in (p00001, p00002, p00003, p00017)

[view.by_user_bucket]
source = ev
group_by = status, user_id
aggregates = count, max(ts)
where = user_id <= 40

[view.empty]
source = ev
group_by = region
aggregates = count, avg(amount), min(amount)
where = status = nosuchstatus

[view.empty_global]
source = ev
group_by =
aggregates = count, sum(amount), sum(user_id), avg(amount), min(ts), p95(amount), distinct(user_id), approx_p50(amount), approx_distinct(user_id)
where = status in (nosuch, other)

[view.big_q1]
source = big
group_by = region, status
aggregates = count, sum(amount), avg(amount), min(amount), max(amount), p95(latency_ms), distinct(user_id)

[view.narrow_sum]
source = narrow
group_by = region
aggregates = count, sum(amount), max(amount)

[view.big_q2]
source = big
group_by = region
aggregates = count, sum(amount), avg(amount), p95(latency_ms), distinct(user_id)
where = status = ok
window = ts 6h
CONF

check_run() {
        local what=$1
        "$TALLY_WORKER" --config "$T/tally.conf" 2>"$T/log" || { cat "$T/log"; fail "$what: worker failed"; }
        local snap
        snap=$(ls "$T/snap"/snapshot-*.msgpack | tail -1)
        "$SNAPDUMP" "$snap" >"$T/dump" || fail "$what: snapdump"
        python3 "$REF" compare "$T/tally.conf" "$T/dump" || fail "$what: differs from the reference"
        pass "$what"
}

check_run "one task per file"
TALLY_WORKER_TASK_BYTES=4096 check_run "files split into 4 KiB tasks"
# the fast record paths cut 16, 32 or 64 bytes at a time, as the CPU allows (csv_simd.h)
TALLY_WORKER_SIMD=sse2 TALLY_WORKER_TASK_BYTES=4096 check_run "16-byte blocks"
TALLY_WORKER_SIMD=avx2 check_run "at most 32-byte blocks"
grep -q "malformed row skipped" "$T/log" || fail "malformed rows are not logged"
grep -Eq 'events-[0-9]\.csv(\.gz)?:[0-9]+: malformed' "$T/log" || fail "no file:line in the log"
pass "malformed rows logged with file and line"
