#!/usr/bin/env python3
"""A team's own computation, served by tally: a per-region health score.

tally runs this as a command source (examples/command.conf): it reads what the script
prints on stdout (CSV with a header, or NDJSON with --format ndjson), logs its stderr
lines, and fails the run if the script exits non-zero. The script keeps its own logic;
tally gives it snapshots, validation, publish guards and the HTTP API.

The score: the share of successful orders, minus a penalty for a slow tail
(p95 latency above 50 ms costs a point per 10 ms), on a 0..100 scale.
"""
import argparse
import csv
import json
import math
import os
import sys
from collections import defaultdict

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--input", default=os.path.join(here, "events.csv"))
ap.add_argument("--format", choices=("csv", "ndjson"), default="csv")
args = ap.parse_args()

orders = defaultdict(int)
errors = defaultdict(int)
revenue = defaultdict(float)
latency = defaultdict(list)
skipped = 0
with open(args.input, newline="") as f:
    for row in csv.DictReader(f):
        try:
            region = row["region"]
            amount = float(row["amount"])
            lat = float(row["latency_ms"])
        except (KeyError, TypeError, ValueError):
            skipped += 1
            continue
        if not region or not math.isfinite(amount) or not math.isfinite(lat):
            skipped += 1
            continue
        orders[region] += 1
        latency[region].append(lat)
        if row.get("status") == "ok":
            revenue[region] += amount
        else:
            errors[region] += 1
if skipped:
    print(f"compute.py: skipped {skipped} unreadable rows", file=sys.stderr)


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(math.ceil(0.95 * len(values))) - 1)]


out = []
for region in sorted(orders):
    ok_share = 1 - errors[region] / orders[region]
    tail = p95(latency[region])
    score = max(0.0, min(100.0, 100 * ok_share - max(0.0, tail - 50) / 10))
    out.append({"region": region, "orders": orders[region],
                "revenue": round(revenue[region], 2), "p95_latency_ms": tail,
                "score": round(score, 2)})

if args.format == "ndjson":
    for r in out:
        sys.stdout.write(json.dumps(r) + "\n")
else:
    w = csv.DictWriter(sys.stdout, fieldnames=list(out[0]) if out else ["region"])
    w.writeheader()
    w.writerows(out)
