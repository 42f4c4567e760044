#!/usr/bin/env python3
"""The engine's time buckets, having and top against DuckDB on the same generated data.

Every view is run by tally-worker and, as SQL, by DuckDB (@duckdb/node-api, installed with
npm into bench/worker-deps when missing; exit 77 only when npm cannot reach its registry):
time_bucket(INTERVAL, ts, TIMESTAMP '1970-01-01') for bucket() (an explicit origin: DuckDB's
default one, 2000-01-03, would shift widths that do not divide a week), date_trunc('month')
for month(), HAVING for having, and row_number() over (partition by the per items order by
the aggregate, nulls last, then the group keys) for top. Every row is compared in key
order, numbers to 1e-9 relative. The data crosses the Unix epoch (negative times) and
month ends, and has missing amounts, latencies and times.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ["TALLY_BUILD_ROOT"]
SOURCE = os.environ["TALLY_SOURCE_ROOT"]
WORKER = os.environ.get("TALLY_WORKER", f"{BUILD}/worker/tally-worker")
GEN = os.environ.get("TALLY_GEN", f"{BUILD}/tools/tally-gen")
SNAPDUMP = f"{BUILD}/tests/worker/snapdump"
DEPS = os.environ.get("TALLY_DUCKDB_DEPS", f"{SOURCE}/bench/worker-deps")
COLUMNS = ("ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, "
           "status:str")
DUCK_COLUMNS = ("{'ts': 'TIMESTAMPTZ', 'region': 'VARCHAR', 'product': 'VARCHAR', "
                "'user_id': 'BIGINT', 'amount': 'DOUBLE', 'latency_ms': 'DOUBLE', "
                "'status': 'VARCHAR'}")

RUNNER = r"""
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run("SET TimeZone = 'UTC'");
  const queries = JSON.parse(require('fs').readFileSync(0, 'utf8'));
  const out = {};
  for (const [name, sql] of Object.entries(queries))
    out[name] = (await con.runAndReadAll(sql)).getRowsJson();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e.message); process.exit(1); });
"""


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def ensure_duckdb():
    if os.path.isdir(f"{DEPS}/node_modules/@duckdb/node-api"):
        return
    if not shutil.which("npm") or not shutil.which("node"):
        skip("node and npm are needed for the DuckDB comparison")
    try:
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--fetch-retries=1",
                            "--prefix", DEPS, "@duckdb/node-api"], capture_output=True,
                           text=True, timeout=180)
        if r.returncode == 0:
            return
        why = r.stderr.strip()
    except subprocess.TimeoutExpired:
        why = "timed out"
    try:
        reachable = subprocess.run(["npm", "ping"], capture_output=True,
                                   timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        reachable = False
    if not reachable:
        skip("npm cannot reach its registry to install @duckdb/node-api")
    sys.exit(f"FAIL: npm install @duckdb/node-api: {why}")


def blank_some(src, dst):
    """Missing amounts, latencies and times, on fixed rows."""
    with open(src) as f, open(dst, "w") as out:
        out.write(f.readline())
        for i, line in enumerate(f):
            c = line.rstrip("\n").split(",")
            if i % 23 == 5:
                c[4] = ""
            if i % 31 == 7:
                c[5] = ""
            if i % 97 == 11:
                c[0] = ""
            out.write(",".join(c) + "\n")


# Each view: tally keys, and the SQL that must give the same rows in the same order.
# {src} is the source's read_csv; B(w) the bucket expression.
def bucket(interval):
    return f"epoch_us(time_bucket(INTERVAL '{interval}', ts::TIMESTAMP, TIMESTAMP '1970-01-01'))"


MONTH = "epoch_us(date_trunc('month', ts::TIMESTAMP))"
# tally's sum over no values is 0 (README), SQL's is NULL
AGGS = ("count(*)::BIGINT AS c, coalesce(sum(amount), 0) AS s, quantile_cont(latency_ms, 0.95) AS p, "
        "avg(amount) AS a")
TALLY_AGGS = "count, sum(amount), p95(latency_ms), avg(amount)"


def grouped(src, keys, where="", having="", top=None):
    """keys: SQL expressions aliased k0.. ; top: (n, agg alias, 'desc'|'asc', per count)."""
    sel = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    gb = ", ".join(f"k{i}" for i in range(len(keys))) or "()"
    order = ", ".join(f"k{i} ASC NULLS FIRST" for i in range(len(keys)))
    base = (f"SELECT {sel}{', ' if keys else ''}{AGGS} FROM {src} {where} "
            f"GROUP BY {gb} {having}")
    if not top:
        return f"{base} ORDER BY {order}" if keys else base
    n, agg, direction, per = top
    part = ", ".join(f"k{i}" for i in range(per))
    rank = (f"row_number() OVER ({'PARTITION BY ' + part if per else ''} "
            f"ORDER BY {agg} {direction.upper()} NULLS LAST, {order})")
    return (f"SELECT * FROM (SELECT *, {rank} AS rank FROM ({base})) WHERE rank <= {n} "
            f"ORDER BY {order}")


def windowed(src):
    return (f"(SELECT * FROM {src} WHERE status = 'ok' AND ts >= "
            f"(SELECT max(ts) FROM {src}) - INTERVAL 24 HOUR)")


def views(epoch_src, months_src):
    ep, mo = "ep", "mo"
    return [
        # name, source, tally keys, sql
        ("b5m", ep, "group_by = region, bucket(ts, 5m)",
         grouped(epoch_src, ["region", bucket("5 minutes")])),
        ("b7m_window", ep,
         "group_by = bucket(ts, 7m), region\nwhere = status = ok\nwindow = ts 24h",
         grouped(windowed(epoch_src), [bucket("7 minutes"), "region"])),
        ("b7d", mo, "group_by = bucket(ts, 7d)", grouped(months_src, [bucket("7 days")])),
        ("month_having", mo,
         "group_by = month(ts), region\nhaving = count >= 1200 and p95(latency_ms) > 38.5",
         grouped(months_src, [MONTH, "region"],
                 having="HAVING count(*) >= 1200 AND quantile_cont(latency_ms, 0.95) > 38.5")),
        ("having_in", ep,
         "group_by = region, product, status\nhaving = count in (1, 2, 3, 4, 5, 6, 7, 8, 9) "
         "and avg(amount) != 0",
         grouped(epoch_src, ["region", "product", "status"],
                 having="HAVING count(*) IN (1, 2, 3, 4, 5, 6, 7, 8, 9) AND avg(amount) != 0")),
        ("top_count_per_region", ep,
         "group_by = region, product\ntop = 3 by count desc per region",
         grouped(epoch_src, ["region", "product"], top=(3, "c", "desc", 1))),
        ("top_avg_overall_asc", mo, "group_by = region, product\ntop = 10 by avg(amount) asc",
         grouped(months_src, ["region", "product"], top=(10, "a", "asc", 0))),
        ("top_bucket_having", mo,
         "group_by = region, bucket(ts, 1h), status\nhaving = count >= 2\n"
         "top = 2 by sum(amount) per region, bucket(ts, 1h)",
         grouped(months_src, [
             "region", bucket("1 hour"), "status"], having="HAVING count(*) >= 2",
             top=(2, "s", "desc", 2))),
    ]


def tally_rows(dump, name):
    rows = []
    for line in dump.splitlines():
        cells = line.split("\t")
        if cells[0] == name:
            rows.append([c.split("=", 1)[1] for c in cells[1:]])
    return rows


def cell_equal(t, d):
    if d is None:
        return t == "nil"
    if t.startswith("@"):
        return int(t[1:]) == int(d)
    if isinstance(d, str):
        try:
            return int(t) == int(d)
        except ValueError:
            return t == d
    x, y = float(t), float(d)
    return x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=0.0)


def main():
    ensure_duckdb()
    with tempfile.TemporaryDirectory(prefix="tally-duckdb.") as tmp:
        raw = f"{tmp}/raw.csv"
        # 60k rows over 96 h around the epoch: negative times, 5m/7m buckets, ties in count
        with open(raw, "w") as f:
            subprocess.run([GEN, "--rows", "60000", "--seed", "21", "--products", "40",
                            "--users", "5000", "--end", "1970-01-03T00:00:00Z", "--span",
                            "96h"], stdout=f, check=True)
        blank_some(raw, f"{tmp}/epoch.csv")
        # 60k rows over 1500 h (62 days) across a leap February and month ends
        with open(raw, "w") as f:
            subprocess.run([GEN, "--rows", "60000", "--seed", "22", "--products", "25",
                            "--end", "2024-03-20T00:00:00Z", "--span", "1500h"], stdout=f,
                           check=True)
        blank_some(raw, f"{tmp}/months.csv")
        srcs = {n: f"read_csv('{tmp}/{n}.csv', header = true, columns = {DUCK_COLUMNS})"
                for n in ("epoch", "months")}
        vs = views(srcs["epoch"], srcs["months"])
        conf = [f"[tally]\nsnapshot_dir = {tmp}/snap\n[worker]\nthreads = 2\n"]
        for name, path in (("ep", "epoch"), ("mo", "months")):
            conf.append(f"[source.{name}]\ntype = csv\npath = {tmp}/{path}.csv\n"
                        f"columns = {COLUMNS}\n")
        for name, src, keys, _ in vs:
            conf.append(f"[view.{name}]\nsource = {src}\n{keys}\naggregates = {TALLY_AGGS}\n")
        with open(f"{tmp}/tally.conf", "w") as f:
            f.write("\n".join(conf))
        os.mkdir(f"{tmp}/snap")
        subprocess.run([WORKER, "-c", f"{tmp}/tally.conf"], check=True,
                       stderr=subprocess.DEVNULL)
        snap = sorted(os.listdir(f"{tmp}/snap"))[-1]
        dump = subprocess.run([SNAPDUMP, f"{tmp}/snap/{snap}"], check=True,
                              capture_output=True, text=True).stdout
        duck = subprocess.run(["node", "-e", RUNNER], input=json.dumps(
            {name: sql for name, _, _, sql in vs}), capture_output=True, text=True,
            env={**os.environ, "NODE_PATH": f"{DEPS}/node_modules"})
        if duck.returncode != 0:
            sys.exit(f"FAIL: duckdb: {duck.stderr.strip()}")
        expected = json.loads(duck.stdout)
        failures = 0
        for name, _, _, _ in vs:
            got, want = tally_rows(dump, name), expected[name]
            bad = None
            if len(got) != len(want):
                bad = f"{len(got)} rows, DuckDB has {len(want)}"
            else:
                for i, (g, w) in enumerate(zip(got, want)):
                    if len(g) != len(w) or not all(cell_equal(a, b) for a, b in zip(g, w)):
                        bad = f"row {i}: tally {g}, DuckDB {w}"
                        break
            if bad or not got:
                failures += 1
                print(f"FAIL: view {name}: {bad or 'no rows (the test would prove nothing)'}")
            else:
                print(f"ok: view {name}: {len(got)} rows equal DuckDB's")
        sys.exit(1 if failures else 0)


main()
