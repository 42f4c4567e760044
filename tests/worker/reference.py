#!/usr/bin/env python3
"""An independent reference for tally-worker, standard library only.

  reference.py expect CONFIG            prints what every view must hold, as snapdump does
  reference.py compare CONFIG DUMP      compares a snapdump output against it (exit 1 on a
                                        difference, with the differences listed)
  reference.py mutate IN OUT SEED [--gzip] [--crlf]
                                        rewrites a tally-gen CSV to exercise the reader:
                                        every time format, quoted fields with commas,
                                        doubled quotes and line breaks, missing values

Nothing here shares code with the engine: CSV comes from Python's csv module (strict), time
from calendar.timegm, sums from math.fsum, quantiles from a full sort.
"""
import calendar
import configparser
import csv
import glob
import gzip
import io
import math
import random
import re
import sys
import time

INT_RE = re.compile(r"^[+-]?[0-9]{1,19}$")
NUM_RE = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")
TIME_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?$")
EPOCH_RE = re.compile(r"^[+-]?[0-9]{1,18}$")


class Bad(Exception):
    pass


def parse_int(s):
    if not INT_RE.match(s):
        raise Bad("int")
    v = int(s)
    if not -(2**63) <= v < 2**63:
        raise Bad("int")
    return v


def parse_num(s):
    if not NUM_RE.match(s):
        raise Bad("num")
    v = float(s)
    if math.isinf(v) or math.isnan(v):
        raise Bad("num")
    return v


def parse_time(s):
    m = TIME_RE.match(s)
    if not m:
        if EPOCH_RE.match(s):
            v = int(s)
            return v * 1000 if abs(v) >= 10**11 else v * 1000000
        raise Bad("time")
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    h = int(m[4] or 0)
    mi = int(m[5] or 0)
    sec = int(m[6] or 0)
    frac = (m[7] or "")[:6].ljust(6, "0")
    if not (1 <= mo <= 12 and h <= 23 and mi <= 59 and sec <= 60):
        raise Bad("time")
    mdays = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30,
             31, 31, 30, 31, 30, 31][mo - 1]
    if not 1 <= d <= mdays:
        raise Bad("time")
    off = 0
    tz = m[8]
    if tz and tz not in "Zz":
        oh, om = int(tz[1:3]), int(tz[4:6])
        if oh > 23 or om > 59:
            raise Bad("time")
        off = (oh * 3600 + om * 60) * (-1 if tz[0] == "-" else 1)
    secs = calendar.timegm((y, mo, d, h, mi, sec, 0, 0, 0)) - off
    return secs * 1000000 + int(frac)


PARSERS = {"str": lambda s: s, "int": parse_int, "num": parse_num, "time": parse_time}


def split_list(s):
    return [x.strip() for x in s.split(",")] if s.strip() else []


def parse_duration(s):
    m = re.match(r"^([0-9]+)(ms|s|m|h|d|)$", s.strip())
    mult = {"ms": 1000, "s": 10**6, "": 10**6, "m": 60 * 10**6, "h": 3600 * 10**6,
            "d": 86400 * 10**6}
    return int(m[1]) * mult[m[2]]


def unquote(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        return s[1:-1]
    return s


def load_config(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=(";", "#"), interpolation=None)
    cp.read(path)
    sources, views = {}, {}
    for sec in cp.sections():
        if sec.startswith("source."):
            cols = []
            for item in split_list(cp[sec]["columns"]):
                name, typ = [x.strip() for x in item.split(":")]
                cols.append((name, typ))
            sources[sec[7:]] = {
                "path": cp[sec]["path"],
                "columns": cols,
                "now": cp[sec].get("time_reference", "newest") == "now",
            }
        elif sec.startswith("view."):
            v = cp[sec]
            where = []
            if "where" in v:
                for clause in re.split(r"\s+and\s+", v["where"].strip(), flags=re.I):
                    m = re.match(r"^(\w+)\s+in\s*\((.*)\)$", clause.strip(), re.I)
                    if m:
                        where.append((m[1], "in", [unquote(x) for x in m[2].split(",")]))
                        continue
                    m = re.match(r"^(\w+)\s*(<=|>=|!=|==|=|<|>)\s*(.*)$", clause.strip())
                    where.append((m[1], "=" if m[2] == "==" else m[2], [unquote(m[3])]))
            window = None
            if "window" in v:
                col, dur = v["window"].split()
                window = (col, parse_duration(dur))
            views[sec[5:]] = {
                "source": v["source"],
                "group_by": split_list(v.get("group_by", "")),
                "aggregates": split_list(v["aggregates"]),
                "where": where,
                "window": window,
            }
    return sources, views


def open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def used_columns(views, source):
    """The columns some view of source reads: only those are converted (and can reject a
    row), as in tally-worker, Polars and DuckDB (projection pushdown)."""
    used = set()
    for v in views.values():
        if v["source"] != source:
            continue
        used.update(v["group_by"])
        used.update(p[0] for p in v["where"])
        if v["window"]:
            used.add(v["window"][0])
        for a in v["aggregates"]:
            m = AGG_RE.match(a)
            if m:
                used.add(m[2])
    return used


def read_source(src, used):
    """Returns (rows as dicts of typed values, rows read, rows rejected)."""
    files = sorted(glob.glob(src["path"]))
    if not files:
        raise SystemExit(f"reference: no file matches {src['path']}")
    rows, read, bad = [], 0, 0
    types = dict(src["columns"])
    for path in files:
        with open_text(path) as f:
            reader = csv.reader(f, strict=True)
            header = None
            while True:
                try:
                    rec = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    if header is None:
                        raise
                    read += 1
                    bad += 1
                    continue
                if not rec:
                    continue  # blank line
                if header is None:
                    header = rec
                    if header and header[0].startswith("\ufeff"):
                        header[0] = header[0][1:]
                    continue
                read += 1
                if len(rec) != len(header):
                    bad += 1
                    continue
                row = {}
                try:
                    for name, field in zip(header, rec):
                        if name in types and name in used and name not in row:
                            row[name] = None if field == "" else PARSERS[types[name]](field)
                except Bad:
                    bad += 1
                    continue
                rows.append(row)
    return rows, read, bad


def matches(row, pred, types):
    col, op, lits = pred
    x = row[col]
    if x is None:
        return False
    vals = [PARSERS[types[col]](lit) for lit in lits]
    if op == "in":
        return x in vals
    y = vals[0]
    return {"=": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def quantile_cont(vals, q):
    v = sorted(vals)
    pos = q * (len(v) - 1)
    lo = math.floor(pos)
    if lo >= len(v) - 1:
        return float(v[-1])
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo])


AGG_RE = re.compile(r"^(\w+)\s*\(\s*(\w+)\s*\)$")
QUANT = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def aggregate(label, rows, types):
    """(expected value, kind): kind 'exact', 'approx_q' (value = sorted list, q) or
    'approx_d' (value = exact distinct count)."""
    if label in ("count", "count()"):
        return len(rows), "exact"
    fn, col = AGG_RE.match(label).groups()
    vals = [r[col] for r in rows if r[col] is not None]
    t = types[col]
    if fn == "sum":
        if t == "int":
            s = sum(vals)
            return (s if -(2**63) <= s < 2**63 else None), "exact"
        return math.fsum(vals), "exact"
    if fn == "avg":
        if not vals:
            return None, "exact"
        return (sum(vals) / len(vals) if t == "int" else math.fsum(vals) / len(vals)), "exact"
    if fn in ("min", "max"):
        return ((min if fn == "min" else max)(vals) if vals else None), "exact"
    if fn in QUANT:
        return (quantile_cont(vals, QUANT[fn]) if vals else None), "exact"
    if fn == "distinct":
        return len(set(vals)), "exact"
    if fn.startswith("approx_p"):
        return ((sorted(vals), QUANT[fn[7:]]) if vals else None), "approx_q"
    if fn == "approx_distinct":
        return len(set(vals)), "approx_d"
    raise SystemExit(f"reference: unknown aggregate {label}")


def expect(config):
    sources, views = load_config(config)
    data = {name: read_source(src, used_columns(views, name)) for name, src in sources.items()}
    out = {"sources": {n: (d[1], d[2]) for n, d in data.items()}, "views": {}}
    for vname, v in views.items():
        src = sources[v["source"]]
        types = dict(src["columns"])
        rows = [r for r in data[v["source"]][0] if all(matches(r, p, types) for p in v["where"])]
        if v["window"]:
            col, dur = v["window"]
            if src["now"]:
                ref = int(time.time() * 1e6)
            else:
                times = [r[col] for r in data[v["source"]][0] if r[col] is not None]
                ref = max(times) if times else 0
            rows = [r for r in rows if r[col] is not None and r[col] >= ref - dur]
        groups = {}
        for r in rows:
            groups.setdefault(tuple(r[c] for c in v["group_by"]), []).append(r)
        if not v["group_by"] and not groups:
            groups[()] = []
        out["views"][vname] = {
            "keys": v["group_by"],
            "rows": {k: {a: aggregate(a, g, types) for a in v["aggregates"]}
                     for k, g in groups.items()},
            "types": types,
        }
    return out


def sort_key(k):
    return tuple((0, 0) if x is None else (1, x) for x in k)


def parse_dump(path):
    views, sources, order = {}, {}, {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # cells may hold line breaks (quoted fields): rows start with "VIEW\t" of a known view
    cols = {}
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("#source\t"):
            _, name, _files, read, bad = line.split("\t")
            sources[name] = (int(read), int(bad))
            continue
        if line.startswith("#view\t"):
            parts = line.split("\t")
            name, nkeys = parts[1], int(parts[2])
            cols[name] = [p.rsplit(":", 1) for p in parts[3:]]
            views[name] = {}
            order[name] = []
            current = name
            continue
        if line.startswith("#"):
            continue
        if line.split("\t", 1)[0] in views:
            current = line.split("\t", 1)[0]
            cells = line.split("\t")[1:]
            views[current][len(order[current])] = cells
            order[current].append(cells)
        else:  # continuation of a cell with a line break
            pieces = line.split("\t")
            order[current][-1][-1] += "\n" + pieces[0]
            order[current][-1].extend(pieces[1:])
    result = {}
    for name, rows in order.items():
        parsed = []
        for cells in rows:
            rec = {}
            for (cname, ctype), cell in zip(cols[name], cells):
                assert cell.startswith(cname + "="), (cell, cname)
                raw = cell[len(cname) + 1:]
                rec[cname] = decode_cell(raw, ctype)
            parsed.append(rec)
        result[name] = (cols[name], parsed)
    return sources, result


def decode_cell(raw, ctype):
    if raw == "nil":
        return None
    if ctype == "int":
        return int(raw)
    if ctype == "num":
        return float(raw)
    if ctype == "time":
        return int(raw[1:])
    return raw


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def compare(config, dump):
    exp = expect(config)
    got_sources, got = parse_dump(dump)
    errors = []
    for name, counts in exp["sources"].items():
        if got_sources.get(name) != counts:
            errors.append(f"source {name}: rows read/rejected {got_sources.get(name)} != {counts}")
    for vname, ev in exp["views"].items():
        if vname not in got:
            errors.append(f"view {vname} missing")
            continue
        cols, rows = got[vname]
        nkeys = len(ev["keys"])
        keys = [tuple(r[c] for c in ev["keys"]) for r in rows]
        if keys != sorted(keys, key=sort_key):
            errors.append(f"view {vname}: rows not sorted by key")
        if set(keys) != set(ev["rows"]):
            missing = set(ev["rows"]) - set(keys)
            extra = set(keys) - set(ev["rows"])
            errors.append(f"view {vname}: groups differ, missing {sorted(missing, key=sort_key)[:5]}"
                          f" extra {sorted(extra, key=sort_key)[:5]}")
            continue
        for r, k in zip(rows, keys):
            for label, (want, kind) in ev["rows"][k].items():
                have = r[label]
                ok = True
                if kind == "exact":
                    ok = close(have, want)
                elif kind == "approx_q":
                    if want is None:
                        ok = have is None
                    else:
                        vals, q = want
                        x = vals[math.floor(q * (len(vals) - 1))]
                        ok = have is not None and abs(have - x) <= 0.01 * abs(x) + 1e-12
                        want = f"~{x}"
                elif kind == "approx_d":
                    tol = 0 if want <= 1024 else 0.04 * want
                    ok = have is not None and abs(have - want) <= tol
                if not ok:
                    errors.append(f"view {vname} {k} {label}: got {have!r}, want {want!r}")
        del nkeys
    for e in errors[:40]:
        print(e)
    if errors:
        print(f"{len(errors)} differences")
        return 1
    print(f"reference agrees: {sum(len(v['rows']) for v in exp['views'].values())} groups, "
          f"{len(exp['views'])} views")
    return 0


def mutate(src, dst, seed, gz=False, crlf=False):
    """Rewrites tally-gen output: each time in one of several equivalent formats, some str
    fields quoted (with commas, doubled quotes, line breaks), some numbers missing."""
    rnd = random.Random(seed)
    eol = "\r\n" if crlf else "\n"
    out = io.StringIO()
    with open(src, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        if not line:
            continue
        line = line.rstrip("\r")
        parts = line.split(",")
        if i == 0 or len(parts) != 7:
            out.write(line + eol)
            continue
        ts, region, product, user, amount, lat, status = parts
        try:
            t = parse_time(ts)
        except Bad:
            out.write(line + eol)
            continue
        secs, us = divmod(t, 1000000)
        k = rnd.randrange(8)
        g = time.gmtime(secs)
        base = time.strftime("%Y-%m-%dT%H:%M:%S", g)
        if k == 1 and us == 0:
            ts = str(secs)
        elif k == 2 and us % 1000 == 0:
            ts = str(secs * 1000 + us // 1000)
        elif k == 3:
            g2 = time.gmtime(secs + 7200)
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", g2) + f".{us:06d}+02:00"
        elif k == 4:
            ts = base.replace("T", " ") + f".{us // 1000:03d}"
        elif k == 5:
            g2 = time.gmtime(secs - 5 * 3600 - 1800)
            ts = '"' + time.strftime("%Y-%m-%dT%H:%M:%S", g2) + f",{us:06d}-05:30" + '"'
        q = rnd.randrange(20)
        if q == 0:
            region = '"' + region + ', ""quoted""' + '"'
        elif q == 1:
            region = '"' + region + "\nline two" + '"'
        elif q == 2:
            product = '"' + product + '"'
        m = rnd.randrange(50)
        if m == 0:
            amount = ""
        elif m == 1:
            lat = ""
        out.write(",".join([ts, region, product, user, amount, lat, status]) + eol)
    data = out.getvalue().encode("utf-8")
    if gz:
        with gzip.open(dst, "wb") as f:
            f.write(data)
    else:
        with open(dst, "wb") as f:
            f.write(data)


def main(argv):
    if len(argv) >= 3 and argv[1] == "expect":
        exp = expect(argv[2])
        for name, v in exp["views"].items():
            for k in sorted(v["rows"], key=sort_key):
                print(name, k, v["rows"][k])
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        return compare(argv[2], argv[3])
    if len(argv) >= 5 and argv[1] == "mutate":
        mutate(argv[2], argv[3], int(argv[4]), "--gzip" in argv, "--crlf" in argv)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
