#!/usr/bin/env python3
"""Times Q1/Q2/Q3 in tally-worker, Polars and DuckDB (fresh process per run, interleaved),
checks that all three agree and prints medians of wall time and peak RSS with ratios.
With --forms, times every form of each peer (worker-polars.js, worker-duckdb.js) per query
instead and prints which is fastest. Called by bench/worker; standard library only."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
# TALLY_BENCH_QUERIES="q1 q2" leaves Q3 out: at 10M rows it has about 7M groups, and the
# peers' node processes then need several GiB each (1.4 GiB for Polars at 1M rows)
QUERIES = tuple(os.environ.get("TALLY_BENCH_QUERIES", "q1 q2 q3").split())
# Each peer's fastest form per query, as measured by `bench/worker --forms` (see
# docs/performance.md); the forms are described at the top of worker-polars.js and
# worker-duckdb.js.
FASTEST = {
    "polars": {"q1": "lazy-schema", "q2": "lazy-schema", "q3": "lazy-schema"},
    "duckdb": {"q1": "explicit", "q2": "explicit", "q3": "explicit"},
}
FORMS = {
    "polars": ("eager", "lazy", "lazy-schema", "lazy-schema-sync", "streaming"),
    "duckdb": ("explicit", "auto", "explicit-t1", "explicit-noorder"),
}
# Q3 is Q1 with a 5-minute time bucket (issue 13); tally-worker rejects it until buckets
# are implemented, and the tally side is then skipped (exit status 78, EX_CONFIG).
VIEWS = {"q1": "group_by = region, product\n",
         "q2": "group_by = region\nwhere = status = ok\nwindow = ts 24h\n",
         "q3": "group_by = region, product, bucket(ts, 5m)\n"}


class Rejected(Exception):
    """tally-worker refused the configuration (EX_CONFIG): the query is not supported yet."""


class TimedOut(Exception):
    """a --forms run took longer than its limit: that form is out of the running"""


def run(cmd, env=None, reject_ok=False, timeout=None):
    """Runs cmd, returns (wall seconds, peak RSS in KiB, stdout, CPU seconds). Peak RSS
    comes from GNU time: the kernel carries the high-water mark of the forking process
    across exec, so rusage taken here would include this Python process. CPU time (user +
    system) is reported too: on a shared machine it is steadier than wall time."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    p = subprocess.Popen(["/usr/bin/time", "-f", "TALLY_BENCH_RSS=%M %U %S"] + cmd,
                         stdout=out, stderr=err, env=env, start_new_session=True)
    try:
        status = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.wait()
        raise TimedOut()
    wall = time.perf_counter() - t0
    err.seek(0)
    text = err.read().decode(errors="replace")
    if status == 78 and reject_ok:
        lines = [l for l in text.split("TALLY_BENCH_RSS=")[0].splitlines()
                 if l.strip() and not l.startswith("Command exited")]
        raise Rejected(lines[-1] if lines else "exit status 78")
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status}): {text[-2000:]}")
    rss, user, system = text.rsplit("TALLY_BENCH_RSS=", 1)[1].split()[:3]
    out.seek(0)
    return wall, int(rss), out.read().decode(), float(user) + float(system)


def spawn_wall(cmd):
    """Wall seconds from spawning cmd to reaping it."""
    t0 = time.perf_counter()
    status = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{cmd[0]} failed ({status})")
    return wall


def tally_cmd(args, query, data, snapdir):
    conf = os.path.join(snapdir, f"{query}.conf")
    view = VIEWS[query]
    with open(conf, "w") as f:
        f.write(f"""[tally]
snapshot_dir = {snapdir}/snap
keep = 1
[source.events]
type = csv
path = {data}
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str
[view.{query}]
source = events
{view}aggregates = count, sum(amount), avg(amount), min(amount), max(amount), p95(latency_ms), distinct(user_id)
""")
    os.makedirs(os.path.join(snapdir, "snap"), exist_ok=True)
    return [args.worker, "--config", conf]


def tally_result(args, snapdir):
    snaps = sorted(os.listdir(os.path.join(snapdir, "snap")))
    dump = subprocess.run([args.snapdump, os.path.join(snapdir, "snap", snaps[-1])],
                          capture_output=True, text=True, check=True).stdout
    rows = {}
    names = {"count": "count", "sum(amount)": "sum", "avg(amount)": "avg", "min(amount)": "min",
             "max(amount)": "max", "p95(latency_ms)": "p95", "distinct(user_id)": "distinct"}
    for line in dump.splitlines():
        if line.startswith("#"):
            continue
        cells = dict(c.split("=", 1) for c in line.split("\t")[1:])
        # the key columns, in order: everything that is not an aggregate; a time bucket as
        # epoch seconds like the peers print it
        key = tuple(epoch_seconds(v) if k.startswith("bucket(") else v
                    for k, v in cells.items() if k not in names)
        rows[key] = {names[k]: (int(v) if k in ("count", "distinct(user_id)") else float(v))
                     for k, v in cells.items() if k in names}
    return rows


def epoch_seconds(v):
    if v.startswith("@"):  # snapdump's time cell: microseconds since the epoch
        return int(v[1:]) // 1_000_000
    if v.lstrip("-").isdigit():
        return int(v)
    from datetime import datetime
    return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp())


def js_result(text):
    """the peers' NDJSON: key columns by name (region, product, bucket), then the
    aggregates; DuckDB's distinct is distinct_ (a reserved word)"""
    rows = {}
    for line in text.splitlines():
        if not line:
            continue
        r = json.loads(line)
        if "distinct_" in r:
            r["distinct"] = r.pop("distinct_")
        key = tuple(r.pop(k) for k in ("region", "product", "bucket") if k in r)
        rows[key] = {k: (int(v) if k in ("count", "distinct") else v) for k, v in r.items()}
    return rows


def agree(a, b, what):
    if set(a) != set(b):
        sys.exit(f"disagreement ({what}): groups differ: {len(a)} vs {len(b)}")
    for k in a:
        for f in ("count", "distinct"):
            if a[k][f] != b[k][f]:
                sys.exit(f"disagreement ({what}) {k} {f}: {a[k][f]} vs {b[k][f]}")
        for f in ("sum", "avg", "min", "max", "p95"):
            x, y = float(a[k][f]), float(b[k][f])
            if abs(x - y) > 1e-9 * max(abs(x), abs(y), 1e-300):
                sys.exit(f"disagreement ({what}) {k} {f}: {x!r} vs {y!r}")


class Args:
    pass


def peer_cmd(tool, form, query, data):
    return ["node", os.path.join(BENCH, f"worker-{tool}.js"), form, query, data]


def forms(args, env):
    """Times every form of each peer on each query (interleaved, fresh process per run),
    checks that the forms agree with each other and prints medians and the fastest."""
    stats, ref, out_of_time = {}, {}, set()
    limit = float(os.environ.get("TALLY_BENCH_FORM_TIMEOUT", "120"))
    for i in range(args.runs):
        for q in QUERIES:
            for tool, fs in FORMS.items():
                for f in fs:
                    if (tool, q, f) in out_of_time:
                        continue
                    try:
                        wall, rss, out, cpu = run(peer_cmd(tool, f, q, args.data), env,
                                                  timeout=limit)
                    except TimedOut:
                        out_of_time.add((tool, q, f))
                        print(f"  run {i + 1} {q} {tool} {f}: over {limit:.0f} s, stopped; "
                              f"not run again", flush=True)
                        continue
                    stats.setdefault((tool, q, f), []).append((wall, rss, cpu))
                    if i == 0:
                        # the first form's answer is the reference; every other form is
                        # checked against it at once, so only one answer is held per
                        # query (Q3's are a million groups each)
                        r = js_result(out)
                        if q not in ref:
                            ref[q] = (f"{tool} {f}", r)
                        else:
                            agree(ref[q][1], r, f"{q} {ref[q][0]}/{tool} {f}")
                        del r
                    del out
                    print(f"  run {i + 1} {q} {tool} {f}: {wall:.3f} s, {rss / 1024:.0f} MiB, "
                          f"CPU {cpu:.2f} s", flush=True)
    for q in QUERIES:
        print(f"{q}: every form agrees on {len(ref[q][1])} groups")
    print()
    # the fastest by the best (minimum) wall time: on a shared machine the minimum is the
    # run least disturbed by others; the median and CPU time are printed beside it
    print("| query | peer | form | wall (min) | wall (median) | peak RSS (median) | CPU (median) "
          "| min wall vs fastest |")
    print("|---|---|---|---|---|---|---|---|")
    picks = {}
    for q in QUERIES:
        for tool, fs in FORMS.items():
            ok = [f for f in fs if (tool, q, f) not in out_of_time]
            med = {f: tuple(statistics.median(x[j] for x in stats[(tool, q, f)]) for j in range(3))
                   for f in ok}
            low = {f: min(x[0] for x in stats[(tool, q, f)]) for f in ok}
            best = min(ok, key=lambda f: low[f])
            picks[(tool, q)] = best
            for f in fs:
                if f not in ok:
                    print(f"| {q.upper()} | {tool} | {f} | over {limit:.0f} s (stopped) | | | | |")
                    continue
                w, r, c = med[f]
                mark = " **fastest**" if f == best else ""
                print(f"| {q.upper()} | {tool} | {f}{mark} | {low[f]:.3f} s | {w:.3f} s | "
                      f"{r / 1024:.0f} MiB | {c:.2f} s | {low[f] / low[best]:.2f}x |")
    print()
    for (tool, q), f in sorted(picks.items()):
        note = "" if FASTEST[tool][q] == f else f"  (bench/worker uses {FASTEST[tool][q]}: update FASTEST)"
        print(f"fastest {tool} {q}: {f}{note}")
    print(f"runs per form: {args.runs}, interleaved; data: {args.data}; "
          f"load average at the end: {os.getloadavg()[0]:.1f}")


def main():
    args = Args()
    argv = sys.argv[1:]
    args.forms = bool(argv) and argv[0] == "--forms"
    if args.forms:
        argv = argv[1:]
    args.worker, args.snapdump, args.data, args.runs, args.empty = (
        argv[0], argv[1], argv[2], int(argv[3]), argv[4])
    deps = os.path.join(BENCH, "worker-deps")
    env = dict(os.environ, NODE_PATH=os.path.join(deps, "node_modules"))
    if args.forms:
        return forms(args, env)
    tmp = tempfile.mkdtemp(prefix="tally-bench-")
    try:
        measure(args, env, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args, env, tmp):
    tools = {
        "tally": lambda q: (tally_cmd(args, q, args.data, tmp), None),
        "polars": lambda q: (peer_cmd("polars", FASTEST["polars"][q], q, args.data), env),
        "duckdb": lambda q: (peer_cmd("duckdb", FASTEST["duckdb"][q], q, args.data), env),
    }
    print("peers' forms (fastest per query by bench/worker --forms): " +
          "; ".join(f"{t} {q} {FASTEST[t][q]}" for t in FASTEST for q in QUERIES))
    results = {}
    skipped = {}
    for q in QUERIES:
        if q not in VIEWS:
            sys.exit(f"unknown query {q} in TALLY_BENCH_QUERIES")
    stats = {(t, q): ([], [], []) for t in tools for q in QUERIES}
    for i in range(args.runs):
        for q in QUERIES:
            for t, mk in tools.items():
                if (t, q) in skipped:
                    continue
                cmd, e = mk(q)
                try:
                    wall, rss, out, cpu = run(cmd, e, reject_ok=(t == "tally"))
                except Rejected as why:
                    skipped[(t, q)] = str(why)
                    print(f"  {q} {t}: skipped: tally-worker rejects the query's config "
                          f"(not implemented yet): {why}", flush=True)
                    continue
                stats[(t, q)][0].append(wall)
                stats[(t, q)][1].append(rss)
                stats[(t, q)][2].append(cpu)
                if i == 0:
                    # checked against the first tool's answer at once: one answer held per
                    # query (Q3 at 10M rows has millions of groups)
                    r = tally_result(args, tmp) if t == "tally" else js_result(out)
                    if q not in results:
                        results[q] = (t, r)
                    else:
                        agree(results[q][1], r, f"{q} {results[q][0]}/{t}")
                    del r
                del out
                print(f"  run {i + 1} {q} {t}: {wall:.3f} s, {rss / 1024:.0f} MiB, CPU {cpu:.2f} s",
                      flush=True)
    for q in QUERIES:
        n = len(results[q][1])
        if ("tally", q) in skipped:
            print(f"{q}: Polars and DuckDB agree on {n} groups; tally skipped")
        else:
            print(f"{q}: all three agree on {n} groups")
    results.clear()
    # start-to-exit on an empty input (header only), snapshot written and fsync'd: spawned
    # directly (no GNU time in between), as a timer's service manager would
    cmd = tally_cmd(args, "q1", args.empty, tmp)
    empty, true = [], []
    for _ in range(41):
        empty.append(spawn_wall(cmd))
        true.append(spawn_wall(["/bin/true"]))
    print()
    print("| query | tool | wall (median) | peak RSS (median) | CPU user+sys (median) | wall vs Polars "
          "| RSS vs Polars | CPU vs Polars | wall vs DuckDB | RSS vs DuckDB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for q in QUERIES:
        med = {t: tuple(statistics.median(x) for x in stats[(t, q)]) for t in tools
               if (t, q) not in skipped}
        for t in tools:
            if t not in med:
                print(f"| {q.upper()} | {t} | n/a (not implemented: tally-worker rejects the config) "
                      f"| | | | | | | |")
                continue
            w, r, c = med[t]
            pw, pr, pc = med["polars"]
            dw, dr, _ = med["duckdb"]
            print(f"| {q.upper()} | {t} | {w:.3f} s | {r / 1024:.0f} MiB | {c:.2f} s | {w / pw:.2f}x | "
                  f"{r / pr:.2f}x | {c / pc:.2f}x | {w / dw:.2f}x | {r / dr:.2f}x |")
    print(f"| empty input (header only), start to exit | tally | "
          f"{statistics.median(empty) * 1000:.1f} ms | | | | | | | |")
    print(f"| same harness, /bin/true (exec baseline) | - | "
          f"{statistics.median(true) * 1000:.1f} ms | | | | | | | |")
    print()
    print(f"runs per tool and query: {args.runs}, interleaved; data: {args.data}; "
          f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
