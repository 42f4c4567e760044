#!/usr/bin/env python3
"""kill -9 of tally-worker at random moments, with tallyd watching the directory.

Half the trials kill at a uniformly random time over a whole run; the other half wait
until the worker's temp file appears and kill within the write window, so the dangerous
moment (a half-written file in the snapshot directory) is hit many times, not by luck.
After every trial: the newest snapshot is valid (read by the server's own reader), at
most one temp file exists (each publish sweeps the dead ones first). Every few trials a
clean run must succeed and leave no temp file. A watcher thread asks tallyd for the view
the whole time: every generation it is served must be one the checker saw valid on disk,
generations never go back, and every body is complete (same rows, same total).

Prints one summary line; exits 1 on the first violated property."""
import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

TMP_PREFIX = ".tmp-snapshot-"


def snapcheck(tool, snapdir):
    out = subprocess.run([tool, snapdir], capture_output=True, text=True)
    fields = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
    if out.returncode == 2 or "newest" not in fields:
        sys.exit(f"FAIL: snapcheck could not run: {out.stderr.strip()}")
    return int(fields["newest"]), fields["valid"] == "1", int(fields["tmp"]), out.stdout.strip()


def tmp_files(snapdir):
    return [n for n in os.listdir(snapdir) if n.startswith(TMP_PREFIX)]


class Watcher(threading.Thread):
    """Polls tallyd and records what it served."""

    def __init__(self, host, port, want_total, want_rows):
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.want_total, self.want_rows = want_total, want_rows
        self.stop = threading.Event()
        self.samples = 0
        self.errors = []
        self.served = []  # generations in the order first seen
        self.last_gen = 0

    def run(self):
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
                conn.request("GET", "/v1/views/sales?limit=50")
                resp = conn.getresponse()
                body = resp.read()
                gen = int(resp.getheader("X-Tally-Generation") or 0)
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.errors.append(f"request failed: {e!r}")
                conn = None
                time.sleep(0.05)
                continue
            self.samples += 1
            if resp.status != 200:
                self.errors.append(f"HTTP {resp.status}")
                continue
            doc = json.loads(body)
            if gen < self.last_gen:
                self.errors.append(f"generation went back from {self.last_gen} to {gen}")
            if gen != self.last_gen:
                self.served.append(gen)
                self.last_gen = gen
            if doc.get("total_rows") != self.want_total or doc.get("rows") != self.want_rows:
                self.errors.append(f"generation {gen}: content differs from the expected view")
            time.sleep(0.003)


def fetch_view(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/v1/views/sales?limit=50")
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    return int(resp.getheader("X-Tally-Generation") or 0), doc


def run_clean(args, stderr):
    t0 = time.monotonic()
    p = subprocess.run([args.worker, "--config", args.config], stderr=stderr)
    return p.returncode, time.monotonic() - t0


def measure_write_window(args, stderr):
    """One clean run, watching the directory: start->temp file, and temp file lifetime."""
    t0 = time.monotonic()
    p = subprocess.Popen([args.worker, "--config", args.config], stderr=stderr)
    appeared = gone = None
    while p.poll() is None:
        has = bool(tmp_files(args.snapdir))
        now = time.monotonic()
        if has and appeared is None:
            appeared = now
        if not has and appeared is not None and gone is None:
            gone = now
        time.sleep(0.0002)
    if p.returncode != 0:
        sys.exit(f"FAIL: calibration run exited {p.returncode}")
    end = time.monotonic()
    if appeared is None:
        return end - t0, None
    return end - t0, (gone or end) - appeared


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--snapdir", required=True)
    ap.add_argument("--snapcheck", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--clean-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    log = open(args.log, "ab")

    # Calibrate on clean runs (they also give tallyd its first snapshots).
    durations, windows = [], []
    for _ in range(3):
        d, w = measure_write_window(args, log)
        durations.append(d)
        if w is not None:
            windows.append(w)
    run_time = statistics.median(durations)
    window = statistics.median(windows) if windows else 0.001
    newest, valid, tmp, line = snapcheck(args.snapcheck, args.snapdir)
    if not valid or tmp:
        sys.exit(f"FAIL: after calibration: {line}")

    # Wait until tallyd serves the newest; its rows are what every later answer must hold.
    deadline = time.monotonic() + 10
    while True:
        gen, doc = fetch_view("127.0.0.1", args.port)
        if gen == newest:
            break
        if time.monotonic() > deadline:
            sys.exit(f"FAIL: tallyd serves {gen}, not the newest {newest}")
        time.sleep(0.05)
    watcher = Watcher("127.0.0.1", args.port, doc["total_rows"], doc["rows"])
    watcher.start()

    valid_gens = {newest}
    stats = dict(uniform=0, write=0, mid_write=0, published=0, finished=0, clean=0)
    for i in range(args.trials):
        mode = "write" if i % 2 else "uniform"
        stats[mode] += 1
        before = newest
        p = subprocess.Popen([args.worker, "--config", args.config], stderr=log)
        if mode == "uniform":
            time.sleep(rnd.uniform(0, run_time * 1.2))
        else:
            deadline = time.monotonic() + max(10 * run_time, 5)
            mine = f"-{p.pid}"
            while p.poll() is None and not any(n.endswith(mine) for n in tmp_files(args.snapdir)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.0002)
            time.sleep(rnd.uniform(0, window))
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        rc = p.wait()
        if rc == 0:
            stats["finished"] += 1
        elif rc != -signal.SIGKILL:
            sys.exit(f"FAIL: trial {i}: worker exited {rc} on its own")
        newest, valid, tmp, line = snapcheck(args.snapcheck, args.snapdir)
        if not valid:
            sys.exit(f"FAIL: trial {i} ({mode}): newest snapshot invalid: {line}")
        if tmp > 1:
            sys.exit(f"FAIL: trial {i}: {tmp} temp files: dead ones were not swept")
        # Temp files are named after the writer's pid: was this one killed mid-write?
        if any(n.endswith(f"-{p.pid}") for n in tmp_files(args.snapdir)):
            stats["mid_write"] += 1
        if newest > before and rc != 0:
            stats["published"] += 1
        valid_gens.add(newest)

        if (i + 1) % args.clean_every == 0 or i + 1 == args.trials:
            rc, _ = run_clean(args, log)
            newest2, valid, tmp, line = snapcheck(args.snapcheck, args.snapdir)
            if rc != 0 or not valid or tmp or newest2 != newest + 1:
                sys.exit(f"FAIL: clean run after trial {i}: exit {rc}, {line}")
            newest = newest2
            valid_gens.add(newest)
            stats["clean"] += 1

    # tallyd must end on the last clean run's snapshot.
    deadline = time.monotonic() + 10
    while watcher.last_gen != newest and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop.set()
    watcher.join()
    if watcher.last_gen != newest:
        sys.exit(f"FAIL: tallyd serves {watcher.last_gen}, newest valid is {newest}")
    bad = [g for g in watcher.served if g not in valid_gens]
    if bad:
        sys.exit(f"FAIL: tallyd served generations never seen valid on disk: {bad}")
    if watcher.errors:
        sys.exit(f"FAIL: {len(watcher.errors)} bad answers, first: {watcher.errors[0]}")
    if stats["mid_write"] == 0:
        sys.exit("FAIL: no kill landed inside the write window; the test proved nothing")
    print(f"ok: {args.trials} kill -9 trials ({stats['uniform']} uniform over a "
          f"{run_time * 1000:.0f} ms run, {stats['write']} inside the "
          f"{window * 1000:.1f} ms write window): {stats['mid_write']} killed mid-write "
          f"(their temp file left behind), {stats['published']} killed after publishing, {stats['finished']} "
          f"finished; newest snapshot valid after every trial; {stats['clean']} clean runs "
          f"swept every temp file; tallyd answered {watcher.samples} requests, served "
          f"{len(watcher.served)} generations, all valid, content always complete")


if __name__ == "__main__":
    main()
