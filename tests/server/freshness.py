#!/usr/bin/env python3
"""Rename to served: publishes staged snapshots one by one and times each until tallyd
serves it.

  freshness.py PORT STAGE SNAPDIR [--count N] [--gap SECONDS] [--deadline SECONDS]
               [--path PATH] [--start-after SECONDS]

Each of the first N files of STAGE (sorted, so by generation) is renamed into SNAPDIR,
the way the worker publishes, and PATH is requested over one keep-alive connection until
its X-Tally-Generation is that file's generation, or the deadline passes. Prints one line
per snapshot ("gen G served in M ms") and exits 1 if any missed the deadline. Between
publications it waits --gap seconds so each reload is measured on its own.
"""
import argparse
import http.client
import os
import sys
import time


def served_generation(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {r.status}")
    return int(r.getheader("X-Tally-Generation") or 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("stage")
    ap.add_argument("snapdir")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--gap", type=float, default=1.0)
    ap.add_argument("--deadline", type=float, default=1.0)
    ap.add_argument("--start-after", type=float, default=0.0)
    ap.add_argument("--path", default="/v1/views/sales/rows/eu-west/p00000")
    a = ap.parse_args()
    names = sorted(n for n in os.listdir(a.stage) if n.startswith("snapshot-"))[: a.count]
    if len(names) < a.count:
        print(f"only {len(names)} snapshots staged", file=sys.stderr)
        return 2
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    time.sleep(a.start_after)
    missed = 0
    for n in names:
        gen = int(n[len("snapshot-"):].split(".")[0])
        t0 = time.monotonic()
        os.rename(os.path.join(a.stage, n), os.path.join(a.snapdir, n))
        limit = t0 + max(a.deadline, 10.0)  # keep measuring past the bar, up to 10 s
        got = 0
        while time.monotonic() < limit:
            got = served_generation(conn, a.path)
            if got >= gen:
                break
            time.sleep(0.001)
        ms = (time.monotonic() - t0) * 1000
        ok = got >= gen and ms <= a.deadline * 1000
        missed += not ok
        print(f"gen {gen} served in {ms:.0f} ms" if got >= gen else f"gen {gen} not served after {ms:.0f} ms",
              flush=True)
        time.sleep(a.gap)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
