#!/usr/bin/env python3
"""bench/sources' timing loop: one run of each contender per round, medians, ratios."""
import os
import resource
import statistics
import subprocess
import sys
import time

tmp, worker, psql, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
COLS = "ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str"
Q1 = ("[view.q1]\nsource = ev\ngroup_by = region, product\n"
      "aggregates = count, sum(amount), avg(amount), min(amount), max(amount), "
      "p95(latency_ms), distinct(user_id)\n")


def conf(name, source):
    snap = os.path.join(tmp, "snap-" + name)
    os.makedirs(snap, exist_ok=True)
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        f.write(f"[tally]\nsnapshot_dir = {snap}\nkeep = 1\nmax_snapshot_bytes = 1073741824\n"
                f"[source.ev]\n{source}\ncolumns = {COLS}\n{Q1}")
    return path


csv = os.path.join(tmp, "events.csv")
COPY = ("COPY (SELECT ts, region, product, user_id, amount, latency_ms, status FROM events) "
        "TO STDOUT (FORMAT binary)")
GROUPBY = ("SELECT region, product, count(*), sum(amount), avg(amount), min(amount), max(amount), "
           "percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms), count(DISTINCT user_id) "
           "FROM events GROUP BY region, product")
PSQL = [psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
contenders = {
    "pg-source": [worker, "--config", conf("pg", "type = postgres\ndsn = dbname=postgres\n"
                                                 "query = SELECT * FROM events")],
    "pg-groupby": PSQL + ["-c", GROUPBY],
    "wire-floor": PSQL + ["-c", COPY],
    "file": [worker, "--config", conf("file", f"type = csv\npath = {csv}")],
    "command": [worker, "--config", conf("cmd", f"type = command\ncommand = cat {csv}")],
}
wall = {k: [] for k in contenders}
rss = {k: [] for k in contenders}
cpu = {k: [] for k in contenders}
for r in range(runs):
    for name, cmd in contenders.items():
        # GNU time: wall seconds, peak RSS (KiB), user and system CPU seconds, last line
        p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M %U %S"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 0:
            sys.exit(f"{name} failed ({p.returncode}): {err[-2000:]}")
        line = [l for l in err.splitlines() if l.startswith("TIME ")][-1].split()
        wall[name].append(float(line[1]))
        rss[name].append(int(line[2]) / 1024)
        cpu[name].append(float(line[3]) + float(line[4]))
    print(f"round {r + 1}/{runs} done", file=sys.stderr)

load = os.getloadavg()[0]
print(f"{runs} interleaved runs per contender; load average {load:.1f} on {os.cpu_count()} CPUs")
print(f"{'':12s} {'wall s':>8s} {'CPU s':>8s} {'peak RSS MiB':>13s}")
med = {}
for name in contenders:
    med[name] = (statistics.median(wall[name]), statistics.median(cpu[name]),
                 statistics.median(rss[name]))
    print(f"{name:12s} {med[name][0]:8.2f} {med[name][1]:8.2f} {med[name][2]:13.1f}")


def ratio(a, b, i=0):
    return med[a][i] / med[b][i] if med[b][i] else float("inf")


print()
print(f"pg-source / wire-floor   wall {ratio('pg-source', 'wire-floor'):.2f}x (target <= 1.25)")
print(f"pg-source / pg-groupby   wall {ratio('pg-source', 'pg-groupby'):.2f}x")
print(f"command / file           wall {ratio('command', 'file'):.2f}x (target <= 1.3)")
print(f"pg-source RSS / file     {ratio('pg-source', 'file', 2):.2f}x (target within 10 %)")
print(f"command RSS / file       {ratio('command', 'file', 2):.2f}x (target within 10 %)")
