#!/usr/bin/env bash
# Narrow value rows (worker/accum.h): a view whose two list inputs are an int and a num
# keeps them as 32 bits each while they fit (with only summaries besides, through
# accum_add_row's direct path). Its answers must be exactly those of the wide
# rows (a view with a third list accumulator keeps full words) and of an independent
# computation, for groups whose values all fit and for groups that meet -0.0, a decimal
# with 4+ digits after the point, a num or int beyond 32 bits, or a missing value (each
# splits its group), across task seams and the merge of two threads' states.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
SNAPDUMP="$TALLY_BUILD_ROOT/tests/worker/snapdump"
mkdir -p "$T/snap"

python3 - >"$T/in.csv" <<'PY'
import random
rnd = random.Random(5)
print("g,lat,uid")
def lat():
    v = rnd.choice([rnd.randint(1, 99999), rnd.randint(-999, -1)]) if rnd.random() < 0.1 \
        else rnd.randint(1, 99999)
    d = rnd.randrange(4)
    return str(v) if d == 0 else "%d.%0*d" % (v, d, rnd.randrange(10 ** d)) if v >= 0 \
        else "-%d.%0*d" % (-v, d, rnd.randrange(10 ** d))
def uid():
    return str(rnd.choice([rnd.randint(0, 5000), rnd.randint(-5000, -1),
                           2147483647, -2147483648]))
def wide_lat(i):  # 4 or 5 digits after the point: 12.34561 and 12.34564 differ, but not at 3
    return "%d.%05d" % (rnd.randint(1, 99), rnd.randrange(100000)) if i % 2 else \
        "%d.%04d" % (rnd.randint(1, 99), rnd.randrange(10000))
# group: (rows, {row index: (lat, uid)}) where None keeps the drawn value; the groups that
# do not fit have such values where the quantiles and distinct counts see them
groups = {
    "fit": (1500, {}),
    "fit_small": (30, {}),
    "neg0": (1500, {400: ("-0.0", None), 401: ("0", None), 402: ("0.000", None)}),
    # all zeros -0.0, at the positions of p50 and p99 (101 values: 50 and 99 exactly)
    "negzero": (101, {i: ("-0.0" if i >= 41 else "-%d.5" % (i + 1), None) for i in range(101)}),
    "fine": (1500, {i: (wide_lat(i), None) for i in range(1500)}),
    "fine_small": (30, {i: ("12.3456%d" % (i % 10), None) for i in range(30)}),
    "bigint": (1500, {i: (None, str((i % 300) + (1 << 32) * (i % 2))) for i in range(1500)}),
    "negbig": (1500, {20: (None, "-2147483649")}),
    "big_small": (30, {i: (None, str(7 + (1 << 33) * (i % 3))) for i in range(30)}),
    "huge": (1500, {i: ("%d.5" % (2147484 + i), None) for i in range(0, 1500, 2)}),
    "edge": (1500, {5: ("2147483.647", None), 6: ("-2147483.648", None)}),
    "nolat": (1500, {50: ("", None)}),
    "nouid": (30, {3: (None, "")}),
}
rows = []
for g, (n, special) in groups.items():
    for i in range(n):
        l, u = special.get(i, (None, None))
        rows.append((g, lat() if l is None else l, uid() if u is None else u))
rnd.shuffle(rows)
for r in rows:
    print(",".join(r))
PY

cat >"$T/c.conf" <<CONF
[tally]
snapshot_dir = $T/snap
[worker]
threads = 2
[source.s]
type = csv
path = $T/in.csv
columns = g:str, lat:num, uid:int
[view.narrow]
source = s
group_by = g
aggregates = count, p50(lat), p95(lat), p99(lat), distinct(uid), min(lat), max(uid), sum(uid)
[view.wide]
source = s
group_by = g
aggregates = count, p50(lat), p95(lat), p99(lat), distinct(uid), min(lat), max(uid), sum(uid), distinct(g)
[view.narrow2]
source = s
group_by = g
aggregates = distinct(lat), p95(uid), p50(uid)
[view.wide2]
source = s
group_by = g
aggregates = distinct(lat), p95(uid), p50(uid), distinct(g)
[view.all]
source = s
group_by =
aggregates = p95(lat), distinct(uid)
CONF

check() { # check WHAT: the narrow views against the wide ones and the computation
        "$TALLY_WORKER" --config "$T/c.conf" 2>"$T/log" || { cat "$T/log" >&2; fail "$1: worker failed"; }
        "$SNAPDUMP" "$(ls "$T/snap"/snapshot-*.msgpack | tail -1)" >"$T/dump" || fail "$1: snapdump"
        python3 - "$T/in.csv" "$T/dump" <<'PY' || fail "$1: narrow rows differ"
import csv, math, sys
def q(v, p):
    v = sorted(v)
    pos = p * (len(v) - 1)
    lo = math.floor(pos)
    if lo >= len(v) - 1 or pos == lo:  # the engine's: a zero keeps its sign there
        return float(v[lo])
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo])
lat, uid = {}, {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["lat"]:
        lat.setdefault(r["g"], []).append(float(r["lat"]))
        lat.setdefault("", []).append(float(r["lat"]))
    if r["uid"]:
        uid.setdefault(r["g"], []).append(int(r["uid"]))
        uid.setdefault("", []).append(int(r["uid"]))
f = lambda x: "%.17g" % x
want = {}
for g in lat:
    want[("narrow", g)] = {"p50(lat)": f(q(lat[g], 0.5)), "p95(lat)": f(q(lat[g], 0.95)),
                           "p99(lat)": f(q(lat[g], 0.99)), "distinct(uid)": str(len(set(uid[g]))),
                           "min(lat)": f(min(lat[g])), "max(uid)": str(max(uid[g])),
                           "sum(uid)": str(sum(uid[g]))}
    want[("narrow2", g)] = {"distinct(lat)": str(len(set(lat[g]))), "p95(uid)": f(q(uid[g], 0.95)),
                            "p50(uid)": f(q(uid[g], 0.5))}
want[("all", "")] = {k: v for k, v in want.pop(("narrow", "")).items() if k in ("p95(lat)", "distinct(uid)")}
del want[("narrow2", "")]
got = {}
for line in open(sys.argv[2]):
    if line.startswith("#"):
        continue
    f = line.rstrip("\n").split("\t")
    cells = dict(c.split("=", 1) for c in f[1:])
    got[(f[0], cells.get("g", ""))] = cells
bad = 0
for (v, g), cells in want.items():
    wide = got.get(({"narrow": "wide", "narrow2": "wide2"}.get(v, v), g), {})
    for k, w in cells.items():
        have = got.get((v, g), {}).get(k)
        if have != w or (v != "all" and wide.get(k) != w):
            print(f"{v} {g} {k}: narrow {have}, wide {wide.get(k)}, want {w}")
            bad += 1
sys.exit(1 if bad else 0)
PY
        pass "$1"
}
check "narrow rows equal wide rows and the computation"
TALLY_WORKER_TASK_BYTES=4096 check "the same across 4 KiB tasks (merged states)"
