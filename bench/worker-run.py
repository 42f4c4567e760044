#!/usr/bin/env python3
"""Times Q1/Q2 in tally-worker, Polars and DuckDB (fresh process per run, interleaved),
checks that all three agree and prints medians of wall time and peak RSS with ratios.
Called by bench/worker; standard library only."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env=None):
    """Runs cmd, returns (wall seconds, peak RSS in KiB, stdout, CPU seconds). Peak RSS
    comes from GNU time: the kernel carries the high-water mark of the forking process
    across exec, so rusage taken here would include this Python process. CPU time (user +
    system) is reported too: on a shared machine it is steadier than wall time."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    status = subprocess.call(["/usr/bin/time", "-f", "TALLY_BENCH_RSS=%M %U %S"] + cmd,
                             stdout=out, stderr=err, env=env)
    wall = time.perf_counter() - t0
    err.seek(0)
    text = err.read().decode(errors="replace")
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
    view = {"q1": "group_by = region, product\n",
            "q2": "group_by = region\nwhere = status = ok\nwindow = ts 24h\n"}[query]
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
        key = tuple(cells[k] for k in ("region", "product") if k in cells)
        rows[key] = {names[k]: (int(v) if k in ("count", "distinct(user_id)") else float(v))
                     for k, v in cells.items() if k in names}
    return rows


def js_result(text):
    rows = {}
    for line in text.splitlines():
        r = json.loads(line)
        rows[tuple(r.pop("key"))] = r
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


def main():
    args = Args()
    args.worker, args.snapdump, args.data, args.runs, args.empty = (
        sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    node = ["node"]
    deps = os.path.join(BENCH, "worker-deps")
    env = dict(os.environ, NODE_PATH=os.path.join(deps, "node_modules"))
    tmp = tempfile.mkdtemp(prefix="tally-bench-")
    tools = {
        "tally": lambda q: (tally_cmd(args, q, args.data, tmp), None),
        "polars": lambda q: (node + [os.path.join(BENCH, "worker-polars.js"), q, args.data], env),
        "duckdb": lambda q: (node + [os.path.join(BENCH, "worker-duckdb.js"), q, args.data], env),
    }
    results = {}
    stats = {(t, q): ([], [], []) for t in tools for q in ("q1", "q2")}
    for i in range(args.runs):
        for q in ("q1", "q2"):
            for t, mk in tools.items():
                cmd, e = mk(q)
                wall, rss, out, cpu = run(cmd, e)
                stats[(t, q)][0].append(wall)
                stats[(t, q)][1].append(rss)
                stats[(t, q)][2].append(cpu)
                if i == 0:
                    results[(t, q)] = tally_result(args, tmp) if t == "tally" else js_result(out)
                print(f"  run {i + 1} {q} {t}: {wall:.3f} s, {rss / 1024:.0f} MiB, CPU {cpu:.2f} s",
                      flush=True)
    for q in ("q1", "q2"):
        agree(results[("tally", q)], results[("polars", q)], f"{q} tally/polars")
        agree(results[("tally", q)], results[("duckdb", q)], f"{q} tally/duckdb")
        print(f"{q}: all three agree on {len(results[('tally', q)])} groups")
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
    for q in ("q1", "q2"):
        med = {t: tuple(statistics.median(x) for x in stats[(t, q)]) for t in tools}
        for t in tools:
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
