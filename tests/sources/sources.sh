#!/usr/bin/env bash
# The source types through the worker binary, against a PostgreSQL cluster of its own
# (pgcluster.sh) and real programs: the same rows through CSV, PostgreSQL, a command (cat,
# and a Python script printing NDJSON) and NDJSON files give byte-identical views; each
# failure happens for real and publishes nothing.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/sources/pgcluster.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"
COLS="ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str"
SMALL="ts:time, region:str, amount:num"

pg_cluster_start >&2

"$TALLY_GEN" --rows 4000 --seed 11 >"$T/events.csv"
pgsql -c "CREATE TABLE events (ts timestamptz, region text, product text, user_id bigint,
                               amount numeric(12,2), latency_ms float8, status text)"
pgsql -c "\\copy events FROM '$T/events.csv' WITH (FORMAT csv, HEADER true)"
python3 - "$T/events.csv" >"$T/events.ndjson" <<'PY'
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    r["user_id"] = int(r["user_id"])
    r["amount"] = float(r["amount"])
    r["latency_ms"] = float(r["latency_ms"])
    print(json.dumps(r))
PY
cat >"$T/emit.py" <<'PY'
import csv, json, sys
for r in csv.DictReader(open(sys.argv[1])):
    r["user_id"] = int(r["user_id"])
    r["amount"] = float(r["amount"])
    r["latency_ms"] = float(r["latency_ms"])
    sys.stdout.write(json.dumps(r) + "\n")
PY

# conf NAME SOURCE-LINES… -> $T/NAME.conf, snapshots into $T/snap-NAME
conf() {
        local name=$1
        shift
        mkdir -p "$T/snap-$name"
        {
                printf '[tally]\nsnapshot_dir = %s\nkeep = 3\n[worker]\nmax_runtime = %s\n' \
                        "$T/snap-$name" "${MAX_RUNTIME:-60s}"
                printf '[source.ev]\n'
                printf '%s\n' "$@"
                printf 'columns = %s\n' "${COLUMNS_LINE:-$COLS}"
                if [[ ${COLUMNS_LINE:-} == "$SMALL" ]]; then
                        printf '[view.v]\nsource = ev\ngroup_by = region\naggregates = count, sum(amount)\n'
                        return 0
                fi
                cat <<'VIEWS'
[view.by_region]
source = ev
group_by = region
aggregates = count, sum(amount), avg(latency_ms), min(ts), max(amount), p95(latency_ms), distinct(user_id)
[view.global]
source = ev
group_by =
aggregates = count, sum(amount), approx_distinct(user_id), p50(amount)
[view.recent]
source = ev
group_by = status, region
aggregates = count, avg(amount)
window = ts 12h
where = status != "error"
VIEWS
        } >"$T/$name.conf"
}
run() { # run NAME [worker options]
        local name=$1
        shift
        set +e
        "$TALLY_WORKER" --config "$T/$name.conf" "$@" >"$T/$name.out" 2>"$T/$name.log"
        rc=$?
        set -e
}
views() { # the views of the newest snapshot of NAME, without the per-source lines
        "$SNAPDUMP" "$(ls "$T/snap-$1"/snapshot-*.msgpack | tail -1)" | grep -v '^#source'
}
count_snaps() { ls "$T/snap-$1" | grep -c '^snapshot-' || true; }
no_leftovers() { ! ls -A "$T/snap-$1" | has -v '^snapshot-'; }

# ---- the same rows through every source type ----
conf csv "type = csv" "path = $T/events.csv"
conf pg "type = postgres" "dsn = dbname=postgres" "query = SELECT * FROM events"
conf cat "type = command" "command = cat $T/events.csv"
conf py "type = command" "command = python3 $T/emit.py $T/events.csv" "format = ndjson"
conf nd "type = ndjson" "path = $T/events.ndjson"
for n in csv pg cat py nd; do
        run $n
        [[ $rc == 0 ]] || { cat "$T/$n.log" >&2; fail "$n: exit $rc"; }
        views $n >"$T/$n.views"
done
[[ $(grep -c $'^by_region\t' "$T/csv.views") -ge 4 ]] || fail "csv: too few groups"
has $'^#rows_read\t4000$' "$T/csv.views" || fail "csv: not 4000 rows"
for n in pg cat py nd; do
        cmp -s "$T/csv.views" "$T/$n.views" ||
                { diff "$T/csv.views" "$T/$n.views" | head >&2; fail "$n views differ from csv"; }
done
pass "the same rows through csv, postgres, command (cat, python ndjson) and ndjson: identical views"

gzip -c "$T/events.ndjson" >"$T/events.ndjson.gz"
conf ndgz "type = ndjson" "path = $T/events.ndjson.gz"
run ndgz
[[ $rc == 0 ]] || { cat "$T/ndgz.log" >&2; fail "ndjson.gz: exit $rc"; }
cmp -s "$T/csv.views" <(views ndgz) || fail "ndjson.gz views differ"
# split between threads at LF: the same again
split -n l/3 -d "$T/events.ndjson" "$T/part-"
conf ndsplit "type = ndjson" "path = $T/part-*"
TALLY_WORKER_TASK_BYTES=4096 run ndsplit
[[ $rc == 0 ]] || { cat "$T/ndsplit.log" >&2; fail "ndjson split: exit $rc"; }
cmp -s "$T/csv.views" <(views ndsplit) || fail "ndjson split into tasks: views differ"
pass "ndjson: gzip and a glob split into many tasks give the same views"

# malformed rows: the same lines named through a file and through a command; NDJSON too
"$TALLY_GEN" --rows 3000 --bad-rate 0.003 --seed 5 >"$T/bad.csv"
conf badcsv "type = csv" "path = $T/bad.csv" "max_bad_ratio = 50%"
conf badcmd "type = command" "command = cat $T/bad.csv" "max_bad_ratio = 50%"
run badcsv
run badcmd
sed -n 's/.*bad.csv:\([0-9]*\): malformed row skipped: \(.*\) TALLY_SOURCE.*/\1 \2/p' "$T/badcsv.log" >"$T/badcsv.lines"
sed -n 's/.*line \([0-9]*\) of command cat: malformed row skipped: \(.*\) TALLY_SOURCE.*/\1 \2/p' "$T/badcmd.log" >"$T/badcmd.lines"
[[ -s $T/badcsv.lines ]] || { cat "$T/badcsv.log" >&2; fail "no malformed rows logged"; }
cmp -s "$T/badcsv.lines" "$T/badcmd.lines" || fail "file and command name other lines: $(paste "$T/badcsv.lines" "$T/badcmd.lines")"
{ head -3 "$T/events.ndjson"; echo '{"ts": "2026-01-01T00:00:00Z", "user_id": 1.5}'; echo 'not json';
  sed -n '4,10p' "$T/events.ndjson"; } >"$T/bad.ndjson"
conf badnd "type = ndjson" "path = $T/bad.ndjson" "max_bad_ratio = 50%"
run badnd
has "bad.ndjson:4: malformed row skipped: bad int in column user_id" "$T/badnd.log" ||
        { cat "$T/badnd.log" >&2; fail "ndjson: line 4 not named"; }
has "bad.ndjson:5: malformed row skipped: bad JSON" "$T/badnd.log" || fail "ndjson: line 5 not named"
pass "malformed rows: a file and a command name the same lines; NDJSON names line and column"

# NDJSON through a pipe: lines across the 4 MiB window, a line longer than the window
cat >"$T/long.py" <<'PY'
import sys
w = sys.stdout.write
for i in range(60000):
    w('{"ts": "2026-01-01T00:00:00Z", "region": "r%d", "amount": %d, "pad": "%s"}\n' % (i % 7, i, "x" * (i % 300)))
w('{"region": "' + "y" * (5 << 20) + '", "amount": 1}\n')
for i in range(1000):
    w('{"ts": 1767225600, "region": "r%d", "amount": 1}\n' % (i % 7))
PY
python3 "$T/long.py" >"$T/long.ndjson"
COLUMNS_LINE=$SMALL conf longcmd "type = command" "command = python3 $T/long.py" "format = ndjson" "max_bad_ratio = 50%"
COLUMNS_LINE=$SMALL conf longfile "type = ndjson" "path = $T/long.ndjson" "max_bad_ratio = 50%"
run longcmd
[[ $rc == 0 ]] || { cat "$T/longcmd.log" >&2; fail "long ndjson through a pipe: exit $rc"; }
run longfile
[[ $rc == 0 ]] || { cat "$T/longfile.log" >&2; fail "long ndjson file: exit $rc"; }
has "line 60001 of command python3: malformed row skipped: record too long" "$T/longcmd.log" ||
        { cat "$T/longcmd.log" >&2; fail "the 5 MiB line through a pipe not rejected at line 60001"; }
has "long.ndjson:60001: malformed row skipped: record too long" "$T/longfile.log" ||
        { cat "$T/longfile.log" >&2; fail "the 5 MiB line in a file not rejected at line 60001"; }
has $'^#rows_read\t61001$' <(views longcmd) || fail "pipe: not 61001 rows read"
cmp -s <(views longcmd) <(views longfile) || fail "ndjson through a pipe and from a file differ"
pass "NDJSON through a pipe across the window and a 5 MiB line: as from the file"

# expect NAME STATUS PATTERN WHAT: a failed run with its log line, nothing published
expect() {
        local name=$1 want=$2 pattern=$3 what=$4 before
        before=$(count_snaps "$name")
        run "$name"
        [[ $rc == "$want" ]] || { cat "$T/$name.log" >&2; fail "$what: exit $rc, want $want"; }
        has -E "$pattern" "$T/$name.log" || { cat "$T/$name.log" >&2; fail "$what: no '$pattern' in the log"; }
        [[ $(count_snaps "$name") == "$before" ]] || fail "$what: published"
        no_leftovers "$name" || fail "$what: left a temp file"
        pass "$what: exit $want, '$pattern', nothing published"
}

# ---- PostgreSQL failures ----
pgsql -c "CREATE ROLE tally_pw LOGIN PASSWORD 'right-pw'; GRANT SELECT ON events TO tally_pw"
printf '*:*:*:tally_pw:wrong-pw-from-pgpass\n' >"$T/pgpass"
chmod 0600 "$T/pgpass"
conf pgpw "type = postgres" "dsn = dbname=postgres user=tally_pw" "query = SELECT * FROM events"
PGPASSFILE=$T/pgpass expect pgpw 1 "authentication failed" "a wrong password (.pgpass)"
has "wrong-pw-from-pgpass" "$T/pgpw.log" && fail "the password was logged"
conf pgpw2 "type = postgres" "dsn = dbname=postgres user=tally_pw password=wrong-pw-in-dsn" \
        "query = SELECT * FROM events"
expect pgpw2 1 "authentication failed" "a wrong password (in the DSN)"
has "wrong-pw-in-dsn" "$T/pgpw2.log" && fail "the DSN's password was logged"
has -F "password=***" "$T/pgpw2.log" || fail "the DSN is not named, redacted"
conf pgpwok "type = postgres" "dsn = dbname=postgres user=tally_pw" "query = SELECT * FROM events"
printf '*:*:*:tally_pw:right-pw\n' >"$T/pgpass"
PGPASSFILE=$T/pgpass run pgpwok
[[ $rc == 0 ]] || { cat "$T/pgpwok.log" >&2; fail "the right password from .pgpass: exit $rc"; }
pass "the right password through PGPASSFILE reads"

conf pgtab "type = postgres" "dsn = dbname=postgres" "query = SELECT * FROM no_such_table"
expect pgtab 1 "no_such_table.*SQLSTATE 42P01" "an unknown table"

conf pgnohost "type = postgres" "dsn = host=$T/nowhere dbname=postgres" "query = SELECT * FROM events"
expect pgnohost 1 "cannot connect" "no server at the socket"

COLUMNS_LINE="ts:time, region:int, product:str, user_id:int, amount:num, latency_ms:num, status:str" \
        conf pgtype "type = postgres" "dsn = dbname=postgres" "query = SELECT * FROM events"
expect pgtype 78 "region" "a column of another type than declared"

MAX_RUNTIME=2s conf pgslow "type = postgres" "dsn = dbname=postgres" \
        "query = SELECT e.* FROM events e, (SELECT pg_sleep(30)) s"
t0=$SECONDS
expect pgslow 1 "statement timeout" "max_runtime shorter than pg_sleep: statement timeout"
((SECONDS - t0 < 15)) || fail "statement timeout took $((SECONDS - t0)) s"

long="SELECT '2026-01-01'::timestamptz + g * interval '1 ms' AS ts, 'r' || (g % 7) AS region,
 'p' AS product, g AS user_id, g::numeric AS amount, 1.5::float8 AS latency_ms, 'ok' AS status
 FROM generate_series(1, 500000000) g"
conf pgkill "type = postgres" "dsn = dbname=postgres" "query = ${long//$'\n'/}"
start_bg "$TALLY_WORKER" --config "$T/pgkill.conf" 2>"$T/pgkill.log" >/dev/null
wpid=$BG_PID
streaming() {
        [[ $(pgsql -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%' AND state = 'active'") -ge 1 ]]
}
wait_for 30 streaming || fail "the COPY never started"
pgsql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT%'" >/dev/null
set +e
wait "$wpid"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$T/pgkill.log" >&2; fail "pg_terminate_backend: exit $rc, want 1"; }
has "the server ended the stream after" "$T/pgkill.log" || { cat "$T/pgkill.log" >&2; fail "pg_terminate_backend: not named"; }
[[ $(count_snaps pgkill) == 0 ]] || fail "pg_terminate_backend: published"
pass "pg_terminate_backend during the stream: exit 1, 'the server ended the stream', nothing published"

# ---- command failures ----
COLUMNS_LINE=$SMALL conf exit3 "type = command" \
        "command = sh -c 'echo ts,region,amount; echo 2026-01-01T00:00:00Z,eu,1; exit 3'"
expect exit3 1 "sh exited with status 3" "a command that exits 3"

COLUMNS_LINE=$SMALL conf sig "type = command" "command = sh -c 'echo ts,region,amount; kill -9 \$\$'"
expect sig 1 "sh was killed by signal 9 \\(SIGKILL\\)" "a command killed by a signal"

COLUMNS_LINE=$SMALL MAX_RUNTIME=2s conf hang "type = command" \
        "command = sh -c 'echo \$\$ >$T/hang.sh.pid; sleep 300 & echo \$! >$T/hang.child.pid; echo ts,region,amount; wait'"
t0=$SECONDS
expect hang 1 "sh still running at the deadline; its process group was stopped" \
        "a command that hangs past the deadline"
((SECONDS - t0 < 15)) || fail "the hanging command took $((SECONDS - t0)) s to stop"
for f in hang.sh.pid hang.child.pid; do
        pid=$(cat "$T/$f")
        ! kill -0 "$pid" 2>/dev/null || fail "$f ($pid) still alive after the run"
done
pass "the hanging command and its child are both gone"

printf 'import sys\nfor i in range(100000):\n    sys.stderr.write("flood line %%d\\n" %% i)\nprint("ts,region,amount")\nprint("2026-01-01T00:00:00Z,eu,1")\n' >"$T/flood.py"
# SIGTERM to the worker stops the program's whole group too
rm -f "$T/hang.sh.pid" "$T/hang.child.pid"
COLUMNS_LINE=$SMALL conf hang "type = command" \
        "command = sh -c 'echo \$\$ >$T/hang.sh.pid; sleep 300 & echo \$! >$T/hang.child.pid; echo ts,region,amount; wait'"
start_bg "$TALLY_WORKER" --config "$T/hang.conf" 2>"$T/hang-term.log" >/dev/null
wpid=$BG_PID
wait_for 20 test -s "$T/hang.child.pid" || fail "SIGTERM: the command never started"
kill -TERM "$wpid"
set +e
wait "$wpid"
rc=$?
set -e
[[ $rc == 1 ]] || { cat "$T/hang-term.log" >&2; fail "SIGTERM: exit $rc, want 1"; }
has "sh still running on SIGTERM; its process group was stopped" "$T/hang-term.log" ||
        { cat "$T/hang-term.log" >&2; fail "SIGTERM: not named"; }
for f in hang.sh.pid hang.child.pid; do
        pid=$(cat "$T/$f")
        ! kill -0 "$pid" 2>/dev/null || fail "SIGTERM: $f ($pid) still alive"
done
pass "SIGTERM to the worker: exit 1, the command and its child stopped"

COLUMNS_LINE=$SMALL conf flood "type = command" "command = python3 $T/flood.py"
run flood
[[ $rc == 0 ]] || { cat "$T/flood.log" >&2; fail "stderr flood: exit $rc"; }
has "source ev: python3: flood line 0" "$T/flood.log" || fail "stderr lines not logged tagged with the source"
has "stderr lines suppressed" "$T/flood.log" || fail "the flood was not cut"
lines=$(wc -l <"$T/flood.log")
((lines < 2000)) || fail "100000 stderr lines became $lines log lines"
pass "a command flooding stderr: logged tagged, bounded ($lines log lines), the run still succeeds"

printf 'import os, random\nrandom.seed(5)\nprint("ts,region,amount")\nfor i in range(500):\n    print("".join(chr(random.randrange(32, 127)) for _ in range(40)))\n' >"$T/garbage.py"
COLUMNS_LINE=$SMALL conf garbage "type = command" "command = python3 $T/garbage.py"
expect garbage 65 "rows malformed, above max_bad_ratio" "a command printing garbage rows"
has -E "line [0-9]+ of command python3: malformed row skipped" "$T/garbage.log" ||
        fail "garbage: positions not named"
printf 'import os\nos.write(1, bytes(range(256)) * 50)\n' >"$T/binary.py"
COLUMNS_LINE=$SMALL conf binary "type = command" "command = python3 $T/binary.py"
expect binary 78 "missing from the CSV header python3 printed" "a command printing binary garbage"
COLUMNS_LINE=$SMALL conf ndgarbage "type = command" "command = python3 $T/garbage.py" "format = ndjson"
expect ndgarbage 65 "bad JSON" "a command printing garbage as NDJSON"

COLUMNS_LINE=$SMALL conf noexec "type = command" "command = $T/does-not-exist --flag"
expect noexec 1 "cannot run '$T/does-not-exist'" "a command that cannot be run"

# ---- a GROUP BY pushed into PostgreSQL, served as a select view; guards on an outage ----
pgsql -c "CREATE TABLE events_live AS SELECT * FROM events"
selconf() {
        mkdir -p "$T/snap-sel"
        cat >"$T/sel.conf" <<CONF
[tally]
snapshot_dir = $T/snap-sel
[source.agg]
type = postgres
dsn = dbname=postgres
query = SELECT region, count(*)::int8 AS n, sum(amount)::float8 AS total FROM events_live GROUP BY region
columns = region:str, n:int, total:num
[view.by_region]
source = agg
group_by = region
select = n, total
min_rows = 1
max_shrink = 50%
CONF
}
selconf
run sel
[[ $rc == 0 ]] || { cat "$T/sel.log" >&2; fail "select over a GROUP BY query: exit $rc"; }
pg_rows=$(views sel | grep -c $'^by_region\t')
[[ $pg_rows == $(grep -c $'^by_region\t' "$T/csv.views") ]] || fail "select over GROUP BY: $pg_rows regions"
diff <(views sel | grep $'^by_region\t' | cut -f2,3 | sed 's/[^\t]*=//g') \
        <(grep $'^by_region\t' "$T/csv.views" | cut -f2,3 | sed 's/[^\t]*=//g') >/dev/null ||
        fail "select over GROUP BY: regions or counts differ from the worker's own aggregation"
pass "a GROUP BY inside PostgreSQL served as a select view: the same counts as tally's"

first=$(ls "$T/snap-sel" | tail -1)
pgsql -c "TRUNCATE events_live"
expect sel 66 "view by_region: 0 rows, fewer than min_rows 1" "an empty upstream table (min_rows)"
[[ $(ls "$T/snap-sel" | tail -1) == "$first" ]] || fail "empty upstream: the previous snapshot is not the newest"
pgsql -c "INSERT INTO events_live SELECT * FROM events WHERE region = (SELECT min(region) FROM events)"
expect sel 66 "shrunk more than max_shrink 50%" "a 90 % drop of the regions (max_shrink)"
run sel --force
[[ $rc == 0 ]] || { cat "$T/sel.log" >&2; fail "--force: exit $rc"; }
[[ $(views sel | grep -c $'^by_region\t') == 1 ]] || fail "--force did not publish the one region"
pass "--force publishes the shrunken set"

# ---- examples/command.conf: examples/compute.py as a command source ----
mkdir -p "$T/snap-example"
sed "s|^snapshot_dir = .*|snapshot_dir = $T/snap-example|" "$TALLY_SOURCE_ROOT/examples/command.conf" >"$T/example.conf"
(cd "$TALLY_SOURCE_ROOT" && "$TALLY_WORKER" --config "$T/example.conf") 2>"$T/example.log" ||
        { cat "$T/example.log" >&2; fail "examples/command.conf: the worker failed"; }
has "source health: python3: compute.py: skipped" "$T/example.log" || fail "example: the script's stderr not logged"
"$SNAPDUMP" "$(ls "$T/snap-example"/snapshot-*.msgpack | tail -1)" >"$T/example.dump"
(($(grep -c $'^region_health\tregion=' "$T/example.dump") >= 2)) || fail "example: no regions served"
has -E $'\tscore=[0-9]' "$T/example.dump" || fail "example: no score column"
pass "examples/command.conf runs examples/compute.py and serves its per-region score"

# ---- libpq is loaded at first use: without it, a clear error naming the library ----
lib=$(readlink -f "$(ldconfig -p | sed -n 's/.*libpq\.so\.5 (libc6,x86-64) => //p' | head -1)")
if ((EUID == 0)) && [[ -f $lib ]] && unshare -m true 2>/dev/null; then
        ldd "$TALLY_WORKER" | has libpq && fail "the worker links libpq (it should dlopen it)"
        conf nopq "type = postgres" "dsn = dbname=postgres password=hidden-pw" "query = SELECT * FROM events"
        set +e
        unshare -m sh -c "mount --bind /dev/null '$lib' && exec '$TALLY_WORKER' --config '$T/nopq.conf'" 2>"$T/nopq.log"
        rc=$?
        set -e
        [[ $rc == 1 ]] || { cat "$T/nopq.log" >&2; fail "without libpq: exit $rc"; }
        has "cannot load libpq.so.5 (install libpq5)" "$T/nopq.log" || fail "without libpq: the library not named"
        has "hidden-pw" "$T/nopq.log" && fail "without libpq: the password was logged"
        # file and command sources need no libpq at all
        unshare -m sh -c "mount --bind /dev/null '$lib' && exec '$TALLY_WORKER' --config '$T/cat.conf'" 2>"$T/nopq-cat.log" ||
                { cat "$T/nopq-cat.log" >&2; fail "without libpq: a command source failed"; }
        pass "libpq absent: a postgres source fails naming libpq.so.5; other sources run"
else
        echo "# skipping the libpq-absent check (needs root and unshare -m)"
fi
