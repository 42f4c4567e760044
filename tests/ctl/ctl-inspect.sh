#!/usr/bin/env bash
# tallyctl list/show/dump/verify/diff against snapshots the real worker wrote from two
# inputs whose differences are known: the expected added, removed and changed rows are
# computed here from the CSVs (by Python, independently of tally), then compared with
# what `tallyctl diff --json` reports. Damaged files (truncation, tests/fault/mkhostile
# kinds) are reported invalid with a reason by list and verify, as tallyd would. Also the
# CLI contract: --help, --version, usage errors (64), configuration errors (78).
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
TALLYCTL=${TALLYCTL:-$TALLY_BUILD_ROOT/ctl/tallyctl}
MKHOSTILE=${MKHOSTILE:-$TALLY_BUILD_ROOT/tests/fault/fault-mkhostile}

# Two inputs: B drops every row of (eu-west, p1), adds a group (ap-south, p9), adds rows
# to (us-east, p2) and changes one amount in (eu-north, p3). Amounts are whole numbers so
# sums are exact on both sides.
python3 - "$T" <<'PY'
import csv, random, sys
t = sys.argv[1]
rnd = random.Random(7)
regions, products = ["eu-west", "eu-north", "us-east"], ["p1", "p2", "p3", "p4"]
rows = []
for i in range(600):
    rows.append([f"2026-11-01T{i % 24:02d}:{i % 60:02d}:00Z", rnd.choice(regions),
                 rnd.choice(products), str(i % 50), str(rnd.randint(1, 500)),
                 str(rnd.randint(1, 90)), "ok"])
a = rows
b = [r for r in rows if not (r[1] == "eu-west" and r[2] == "p1")]
b += [["2026-11-02T00:00:00Z", "ap-south", "p9", "1", "10", "5", "ok"],
      ["2026-11-02T01:00:00Z", "us-east", "p2", "2", "20", "5", "ok"]]
changed = next(i for i, r in enumerate(b) if r[1] == "eu-north" and r[2] == "p3")
b[changed] = b[changed][:4] + [str(int(b[changed][4]) + 1000)] + b[changed][5:]
hdr = ["ts", "region", "product", "user_id", "amount", "latency_ms", "status"]
for name, data in (("a", a), ("b", b)):
    with open(f"{t}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(hdr)
        w.writerows(data)
PY

conf() { # conf INPUT: the test configuration reading INPUT
        cat <<CONF
[tally]
snapshot_dir = $T/snap
keep = 10

[server]
listen = 127.0.0.1:$(free_port)

[source.events]
type = csv
path = $1
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str

[view.sales]
source = events
group_by = region, product
aggregates = count, sum(amount), max(ts)

[view.total]
source = events
aggregates = count, sum(amount)
CONF
}
mkdir -p "$T/snap"
conf "$T/a.csv" >"$T/a.conf"
conf "$T/b.csv" >"$T/b.conf"
ctl() { "$TALLYCTL" --config "$T/a.conf" "$@"; }
"$TALLY_WORKER" --config "$T/a.conf" 2>>"$T/worker.log" || fail "worker run on a.csv failed"
"$TALLY_WORKER" --config "$T/b.conf" 2>>"$T/worker.log" || fail "worker run on b.csv failed"

# --- CLI contract
ctl --help | has -E '^Exit status:' || fail "--help lacks the exit statuses"
ctl --help | has -E '^  65  verify' || fail "--help does not document 65"
"$TALLYCTL" --version | has -E '^tallyctl [0-9]' || fail "--version"
rc=0; ctl frobnicate 2>/dev/null || rc=$?
((rc == 64)) || fail "unknown command: exit $rc, expected 64"
rc=0; ctl list --view sales 2>/dev/null || rc=$?
((rc == 64)) || fail "option that does not apply: exit $rc, expected 64"
rc=0; ctl diff 1 2>/dev/null || rc=$?
((rc == 64)) || fail "missing argument: exit $rc, expected 64"
rc=0; ctl pin latest 2>/dev/null || rc=$?
((rc == 64)) || fail "pin with a non-number: exit $rc, expected 64"
printf '[tally]\nkeep = lots\n' >"$T/bad.conf"
rc=0; "$TALLYCTL" --config "$T/bad.conf" list 2>"$T/err" || rc=$?
((rc == 78)) || fail "bad config: exit $rc, expected 78"
has -F "$T/bad.conf:2:" "$T/err" || fail "bad config message does not name FILE:LINE: $(cat "$T/err")"
pass "CLI: --help, --version, 64 on usage errors, 78 naming FILE:LINE"

# --- list, show, dump
ctl list --timeout 200ms >"$T/list.txt"
has -E '^ +2 .* unknown +no .*sales=[0-9]+,total=1 +valid$' "$T/list.txt" ||
        { cat "$T/list.txt"; fail "list: generation 2 line"; }
has -F 'served generation unknown' "$T/list.txt" || fail "list: tallyd should be unknown"
ctl list --json --timeout 200ms >"$T/list.json"
python3 - "$T" <<'PY' || fail "list --json"
import json, os, sys, csv
t = sys.argv[1]
d = json.load(open(f"{t}/list.json"))
assert d["tallyd_reachable"] is False and d["served_generation"] is None, d
assert [s["generation"] for s in d["snapshots"]] == [2, 1], d
for s in d["snapshots"]:
    name = f"{t}/snap/snapshot-{s['generation']:020d}.msgpack"
    assert s["valid"] and s["reason"] is None and s["bytes"] == os.path.getsize(name), s
    assert s["pinned"] is False and s["served"] is None, s
    src = "a" if s["generation"] == 1 else "b"
    groups = {(r["region"], r["product"]) for r in csv.DictReader(open(f"{t}/{src}.csv"))}
    assert {v["name"]: v["rows"] for v in s["views"]} == {"sales": len(groups), "total": 1}, s
PY
pass "list: generations, sizes, rows per view (counted from the inputs), tallyd unknown"

ctl show --json 1 >"$T/show.json"
python3 - "$T" <<'PY' || fail "show --json"
import json, sys
t = sys.argv[1]
d = json.load(open(f"{t}/show.json"))
assert d["generation"] == 1 and d["worker"]["rows_read"] == 600, d
assert d["sources"][0]["name"] == "events" and d["sources"][0]["rows_read"] == 600, d
v = {x["name"]: x for x in d["views"]}
assert v["sales"]["keys"] == ["region", "product"], v
assert [c["name"] + ":" + c["type"] for c in v["sales"]["columns"]] == \
    ["region:str", "product:str", "count:int", "sum(amount):num", "max(ts):time"], v
PY
ctl show 1 | has -E '^  sales: [0-9]+ rows, 2 key columns$' || fail "show text"
pass "show: header, sources, views and columns"

ctl dump 2 --view sales >"$T/dump.json"
ctl dump 2 --view sales --format csv >"$T/dump.csv"
ctl dump 2 >"$T/dump-all.json"
python3 - "$T" <<'PY' || fail "dump"
import csv, json, sys
from collections import defaultdict
t = sys.argv[1]
exp = defaultdict(lambda: [0, 0.0, ""])
for r in csv.DictReader(open(f"{t}/b.csv")):
    e = exp[(r["region"], r["product"])]
    e[0] += 1; e[1] += float(r["amount"]); e[2] = max(e[2], r["ts"])
d = json.load(open(f"{t}/dump.json"))
assert d["view"] == "sales" and d["generation"] == 2 and d["total_rows"] == len(exp), d
got = {(r["region"], r["product"]): [r["count"], r["sum(amount)"], r["max(ts)"]] for r in d["rows"]}
assert got == {k: v for k, v in exp.items()}, (got, dict(exp))
raw = open(f"{t}/dump.csv", newline="").read()
assert raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", ""), "CSV lines end in CRLF"
rows = list(csv.reader(raw.splitlines()))
assert rows[0] == ["region", "product", "count", "sum(amount)", "max(ts)"], rows[0]
# same cell text as the JSON: numbers as JSON spells them, time as the JSON string
for c, j in zip(rows[1:], d["rows"]):
    assert c == [j["region"], j["product"], json.dumps(j["count"]), json.dumps(j["sum(amount)"]),
                 j["max(ts)"]], (c, j)
a = json.load(open(f"{t}/dump-all.json"))
assert a["generation"] == 2 and [v["view"] for v in a["views"]] == ["sales", "total"], a
assert a["views"][0]["rows"] == d["rows"]
PY
rc=0; ctl dump 2 --format csv 2>/dev/null || rc=$?
((rc == 64)) || fail "dump --format csv of two views without --view: exit $rc"
rc=0; ctl dump 2 --view nosuch 2>/dev/null || rc=$?
((rc == 1)) || fail "dump of an unknown view: exit $rc"
pass "dump: JSON rows and CSV (RFC 4180, CRLF, header) agree with each other and with the input"

# --- diff: expected differences computed from the two inputs
rc=0; ctl diff --json 1 2 >"$T/diff.json" || rc=$?
((rc == 1)) || fail "diff of different snapshots: exit $rc, expected 1"
python3 - "$T" <<'PY' || fail "diff --json does not match the known changes"
import csv, json, sys
from collections import defaultdict
t = sys.argv[1]
def agg(name):
    g = defaultdict(lambda: {"count": 0, "sum(amount)": 0.0, "max(ts)": ""})
    tot = {"count": 0, "sum(amount)": 0.0}
    for r in csv.DictReader(open(f"{t}/{name}.csv")):
        e = g[(r["region"], r["product"])]
        e["count"] += 1; e["sum(amount)"] += float(r["amount"]); e["max(ts)"] = max(e["max(ts)"], r["ts"])
        tot["count"] += 1; tot["sum(amount)"] += float(r["amount"])
    return g, tot
(ga, ta), (gb, tb) = agg("a"), agg("b")
d = json.load(open(f"{t}/diff.json"))
assert d["a"] == 1 and d["b"] == 2 and d["equal"] is False, d
v = {x["view"]: x for x in d["views"]}
s = v["sales"]
assert s["status"] == "different", s
key = lambda r: (r["region"], r["product"])
assert {key(r) for r in s["added"]} == set(gb) - set(ga), s["added"]
assert {key(r) for r in s["removed"]} == set(ga) - set(gb), s["removed"]
for r in s["added"]:
    assert {k: r[k] for k in ("count", "sum(amount)", "max(ts)")} == gb[key(r)], r
exp_changed = {k: {c: {"a": ga[k][c], "b": gb[k][c]} for c in ga[k] if ga[k][c] != gb[k][c]}
               for k in set(ga) & set(gb) if ga[k] != gb[k]}
got_changed = {key(c["key"]): c["cells"] for c in s["changed"]}
assert got_changed == exp_changed, (got_changed, exp_changed)
assert len(exp_changed) == 2, exp_changed  # (us-east, p2) and (eu-north, p3)
tot = v["total"]
assert tot["status"] == "different" and not tot["added"] and not tot["removed"], tot
assert tot["changed"] == [{"key": {}, "cells": {c: {"a": ta[c], "b": tb[c]} for c in ta}}], tot
PY
ctl diff 1 2 >"$T/diff.txt" || true
has -E '^view sales: 1 added, 1 removed, 2 changed$' "$T/diff.txt" || { cat "$T/diff.txt"; fail "diff text summary"; }
has -E '^  ~ region=eu-north, product=p3: sum\(amount\) [0-9]+ -> [0-9]+$' "$T/diff.txt" ||
        fail "diff text: changed cell of (eu-north, p3)"
rc=0; ctl diff 2 2 >"$T/same.txt" || rc=$?
((rc == 0)) || fail "diff of a snapshot with itself: exit $rc"
tail -1 "$T/same.txt" | has -x equal || fail "diff of equal snapshots does not say equal"
rc=0; ctl diff --view total 1 "$T/snap/snapshot-00000000000000000001.msgpack" >/dev/null || rc=$?
((rc == 0)) || fail "diff GEN FILE of the same snapshot: exit $rc"
rc=0; ctl diff 1 99 2>"$T/err" || rc=$?
((rc == 2)) || fail "diff with a missing snapshot: exit $rc, expected 2"
pass "diff: added, removed and changed rows and cells as computed from the inputs; 0/1/2 exits"

# --- damaged files: list and verify report each with a reason; diff exits 2
good="$T/snap/snapshot-00000000000000000002.msgpack"
head -c 100 "$good" >"$T/snap/snapshot-00000000000000000003.msgpack"
kinds=(truncated-end bitflip trailing wrong-version huge-views huge-rows huge-bin deep not-msgpack)
files=()
for k in "${kinds[@]}"; do
        "$MKHOSTILE" "$k" "$good" "$T/$k.msgpack" || fail "mkhostile $k"
        files+=("$T/$k.msgpack")
done
cp "$good" "$T/snap/snapshot-00000000000000000004.msgpack" # a copy named for another generation
ln -s /dev/zero "$T/snap/snapshot-00000000000000000005.msgpack"
rc=0; ctl verify 1 2 3 4 5 "${files[@]}" >"$T/verify.txt" || rc=$?
((rc == 65)) || fail "verify with invalid files: exit $rc, expected 65"
has -xE 'generation 1: valid: generation 1, 2 views, [0-9]+ rows' "$T/verify.txt" || fail "verify 1"
has -xE 'generation 2: valid: .*' "$T/verify.txt" || fail "verify 2"
has -xE 'generation 3: invalid: .+' "$T/verify.txt" || fail "verify of a truncated file"
has -xF 'generation 4: invalid: file name says generation 4 but the file says 2' "$T/verify.txt" ||
        fail "verify of a renamed file"
has -xE 'generation 5: invalid: .+' "$T/verify.txt" || fail "verify of a symlink"
for k in "${kinds[@]}"; do
        has -xE "$T/$k.msgpack: invalid: .+" "$T/verify.txt" || { cat "$T/verify.txt"; fail "verify $k"; }
done
rc=0; ctl verify 1 2 >/dev/null || rc=$?
((rc == 0)) || fail "verify of valid files: exit $rc"
ctl list --timeout 200ms >"$T/list2.txt"
for g in 3 4 5; do
        has -E "^ +$g .* invalid: .+$" "$T/list2.txt" || { cat "$T/list2.txt"; fail "list: generation $g not invalid"; }
done
rc=0; ctl diff 2 3 2>/dev/null || rc=$?
((rc == 2)) || fail "diff with an invalid snapshot: exit $rc, expected 2"
pass "damaged files (truncation, ${#kinds[@]} mkhostile kinds, renamed, symlink): invalid with a reason"

# --- whatever answers at [server] listen is untrusted: silence, garbage, a huge number
port=$(sed -n 's/^listen = 127.0.0.1:\([0-9]*\)$/\1/p' "$T/a.conf")
cat >"$T/fake.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
open(sys.argv[3], "w").close()
answers = {"silent": None, "garbage": b"\x00\xffnot http at all\r\n\r\n",
           "huge": b"HTTP/1.0 200 OK\r\n\r\n{\"generation\":99999999999999999999999,\"x\":1}",
           "truncated": b"HTTP/1.0 200 OK\r\n\r\n{\"generation\":12"}
keep = []
while True:
    c, _ = s.accept()
    c.recv(4096)
    a = answers[sys.argv[2]]
    if a is None:
        keep.append(c)  # hold it open, say nothing
    else:
        c.sendall(a); c.close()
PY
for mode in silent garbage huge truncated; do
        rm -f "$T/fake.up"
        start_bg python3 "$T/fake.py" "$port" "$mode" "$T/fake.up"
        fake=$BG_PID
        wait_for 10 test -e "$T/fake.up" || fail "fake tallyd did not start"
        t0=$(date +%s%N)
        ctl list --timeout 300ms >"$T/list-fake.txt" || fail "list against a $mode peer failed"
        ms=$((($(date +%s%N) - t0) / 1000000))
        has -F 'served generation unknown' "$T/list-fake.txt" || fail "list against a $mode peer: not unknown"
        ((ms < 3000)) || fail "list against a $mode peer took $ms ms"
        kill "$fake"; wait "$fake" 2>/dev/null || true
done
pass "a silent, garbage, overflowing or truncated answer at [server] listen: served is unknown, bounded wait"
