#!/usr/bin/env bash
# Packed held-back rows (worker/shard.c, defer): a view with a window against the newest
# time holds its rows back with each input as 32 bits while all fit, and widens its whole
# held array exactly once when one does not. Its answers must equal those of a twin view
# that is always wide (a distinct over a str column keeps full words) and of an
# independent computation, whether every value fits or the first that does not (an int
# past 2^31, a num with 4 digits after the point, a -0.0 for a summary, a time not in whole
# milliseconds; or a time 30 days from the first held, at once) arrives after
# thousands of packed rows were held (past the array's first growth and pruning), with
# missing values, for 0 to 5 accumulators, across two threads and 4 KiB tasks (several
# held arrays, some widened). It fails if the widening converts a held row wrongly.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"

gen() { # gen KIND >FILE: 20000 rows over 48 h, mostly in time order; KIND's odd row late
        python3 - "$1" <<'PY'
import datetime, random, sys
kind = sys.argv[1]
rnd = random.Random(12)
t0 = datetime.datetime(2025, 12, 30, tzinfo=datetime.timezone.utc)
n = 20000
print("ts,g,amount,lat,uid")
for i in range(n):
    us = int(i * 48 * 3600e3 / n) * 1000 + rnd.randrange(-3600 * 10**3, 3600 * 10**3) * 1000
    if kind == "finetime" and i in (16000, 16001, 19000):
        us += 1  # not whole milliseconds
    if kind == "fartime" and i == 0:
        us -= 30 * 86400 * 10**6  # the first held time, 30 days before the rest
    ts = (t0 + datetime.timedelta(microseconds=us)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    g = "g%d" % rnd.randrange(4)
    amount = "%d.%02d" % (rnd.randint(-999, 99999), rnd.randrange(100))
    lat = "%d.%d" % (rnd.randint(0, 999), rnd.randrange(10))
    uid = str(rnd.randint(-2147483648, 2147483647) if rnd.random() < 0.01 else rnd.randint(0, 3000))
    if rnd.random() < 0.02:
        lat = ""
    if rnd.random() < 0.02:
        uid = ""
    if i in (16000, 16001, 19000):  # late, inside the window
        g = "g1"
        if kind == "bigint":
            uid = str(2**31 + i)
        elif kind == "fine":
            lat = "12.345%d" % (i % 10 + 1)
        elif kind == "negzero":
            amount = "-0.0"
    print(",".join((ts, g, amount, lat, uid)))
PY
}

check() { # check WHAT KIND
        rm -rf "$T/snap" && mkdir -p "$T/snap"
        gen "$2" >"$T/in.csv"
        cat >"$T/c.conf" <<CONF
[tally]
snapshot_dir = $T/snap
[worker]
threads = 2
[source.s]
type = csv
path = $T/in.csv
columns = ts:time, g:str, amount:num, lat:num, uid:int
[view.packed]
source = s
group_by = g
window = ts 24h
aggregates = count, sum(amount), min(amount), max(amount), p95(lat), distinct(uid), sum(uid)
[view.p0]
source = s
group_by = g
window = ts 24h
aggregates = count
[view.p1]
source = s
group_by = g
window = ts 24h
aggregates = count, p95(lat)
[view.p2]
source = s
group_by = g
window = ts 24h
aggregates = min(amount), distinct(uid)
[view.p3]
source = s
group_by = g
window = ts 24h
aggregates = count, sum(amount), p95(lat), distinct(uid)
[view.p5]
source = s
group_by = g
window = ts 24h
aggregates = count, sum(amount), max(amount), p95(lat), distinct(uid), sum(uid), distinct(amount)
[view.wide]
source = s
group_by = g
window = ts 24h
aggregates = count, sum(amount), min(amount), max(amount), p95(lat), distinct(uid), sum(uid), distinct(amount), distinct(g)
CONF
        "$TALLY_WORKER" --config "$T/c.conf" 2>"$T/log" ||
                { cat "$T/log" >&2; fail "$1: worker failed"; }
        "$SNAPDUMP" "$(ls "$T/snap"/snapshot-*.msgpack | tail -1)" >"$T/dump" || fail "$1: snapdump"
        python3 - "$T/in.csv" "$T/dump" <<'PY' || fail "$1: packed rows differ"
import csv, datetime, math, sys
def q(v, p):
    v = sorted(v)
    pos = p * (len(v) - 1)
    lo = math.floor(pos)
    if lo >= len(v) - 1 or pos == lo:
        return float(v[lo])
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo])
def usec(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (d - epoch) // datetime.timedelta(microseconds=1)
rows = list(csv.DictReader(open(sys.argv[1])))
cut = max(usec(r["ts"]) for r in rows) - 24 * 3600 * 10**6
G = {}
for r in rows:
    if usec(r["ts"]) >= cut:
        G.setdefault(r["g"], []).append(r)
f = lambda x: "%.17g" % x
want = {}
for g, rs in G.items():
    am = [float(r["amount"]) for r in rs]
    lat = [float(r["lat"]) for r in rs if r["lat"]]
    uid = [int(r["uid"]) for r in rs if r["uid"]]
    # sum(amount) is checked against the wide view only (the order of a float sum)
    want[g] = {"count": str(len(rs)), "min(amount)": f(min(am)), "max(amount)": f(max(am)),
               "p95(lat)": f(q(lat, 0.95)), "distinct(uid)": str(len(set(uid))),
               "sum(uid)": str(sum(uid)), "distinct(amount)": str(len(set(am))),
               "sum(amount)": None}
got = {}
for line in open(sys.argv[2]):
    if line.startswith("#"):
        continue
    c = line.rstrip("\n").split("\t")
    got[(c[0], dict(x.split("=", 1) for x in c[1:])["g"])] = dict(x.split("=", 1) for x in c[1:])
bad = 0
views = ("packed", "p0", "p1", "p2", "p3", "p5")
if len(got) != (len(views) + 1) * len(want):
    print(f"{len(got)} rows, want {(len(views) + 1) * len(want)}")
    bad += 1
for view in views:
    for g, cells in want.items():
        p, w = got.get((view, g), {}), got.get(("wide", g), {})
        for k in p:
            if k == "g":
                continue
            v = cells[k]
            if p[k] != w.get(k) or (v is not None and p[k] != v):
                print(f"{view} {g} {k}: packed {p[k]}, wide {w.get(k)}, want {v}")
                bad += 1
        if len(p) < 2:
            print(f"{view} {g}: missing")
            bad += 1
sys.exit(1 if bad else 0)
PY
        pass "$1"
}

for kind in fit bigint fine negzero finetime fartime; do
        check "$kind: packed held rows equal wide ones and the computation" "$kind"
        TALLY_WORKER_TASK_BYTES=4096 check "$kind: the same across 4 KiB tasks" "$kind"
done
