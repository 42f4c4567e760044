#!/bin/bash
# Every endpoint, header and error of tallyd's API, with curl against the real binary.
# With argument v1 mksnap's snapshots are version 1 (tallyd renders them) instead of 2 (the
# bodies pre-rendered, as the worker writes them): both must serve the same answers.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"
SNAP_VERSION=2 MKSNAP_ARGS=()
if [[ ${1:-} == v1 ]]; then SNAP_VERSION=1 MKSNAP_ARGS=(--v1); fi
# the contract version of snapshot GEN's file (the byte after the format name)
snap_version() { od -An -tu1 -j16 -N1 "$T/snap/snapshot-$(printf %020d "$1").msgpack" | tr -d ' '; }

server_config "$(free_port)"
start_tallyd

# --- before the first snapshot: health ok, ready and data 503 with JSON errors
[[ $(curl -s "$URL/healthz") == '{"status":"ok"}' ]] || fail "healthz body"
[[ $(status_of "$URL/readyz") == 503 ]] || fail "readyz before snapshot"
for p in /v1/views /v1/views/sales /v1/views/sales/rows/a/b /v1/snapshot; do
        [[ $(status_of "$URL$p") == 503 ]] || fail "$p before snapshot"
done
[[ $(curl -s "$URL/v1/views") == '{"error":"no snapshot loaded yet","status":503}' ]] || fail "503 body"
[[ $(header_of Retry-After "$URL/v1/views") == 1 ]] || fail "Retry-After"
pass "503 before the first snapshot, healthz ok"

gen=$("$MKSNAP" "${MKSNAP_ARGS[@]}" "$T/snap" --rows 3000 --q1 --seed 5)
[[ $(snap_version "$gen") == "$SNAP_VERSION" ]] || fail "snapshot version $(snap_version "$gen")"
wait_for 10 generation_is "$gen" || fail "snapshot $gen not loaded"
[[ $(status_of "$URL/readyz") == 200 ]] || fail "readyz after load"
grep -q "Serving snapshot generation $gen" "$T/tallyd.log" || fail "no loaded log line"
grep -q "TALLY_GENERATION=$gen TALLY_ROWS=3000" "$T/tallyd.log" || fail "loaded fields"
pass "loaded generation $gen via inotify"

# --- GET /v1/views
curl -s "$URL/v1/views" >"$T/views.json"
[[ $(json_get "$T/views.json" 'd["generation"], d["views"][0]["name"], d["views"][0]["rows"]') == "$gen sales 3000" ]] ||
        fail "views list: $(cat "$T/views.json")"

# --- GET /v1/views/{view}: shape, types, default limit = all rows
curl -s "$URL/v1/views/sales" >"$T/view.json"
json_get "$T/view.json" 'd["view"], d["generation"], d["keys"], d["total_rows"], d["offset"], d["limit"], len(d["rows"])' >"$T/o"
[[ $(cat "$T/o") == "sales $gen ['region', 'product'] 3000 0 3000 3000" ]] || fail "view: $(cat "$T/o")"
[[ $(json_get "$T/view.json" '[c["name"]+":"+c["type"] for c in d["columns"]][:4]') == "['region:str', 'product:str', 'count:int', 'sum(amount):num']" ]] ||
        fail "columns"
[[ $(json_get "$T/view.json" 'sorted(d["rows"][0].keys())[:3]') == "['avg(amount)', 'count', 'distinct(user_id)']" ]] || fail "row keys"

# --- limit and offset
curl -s "$URL/v1/views/sales?offset=10&limit=5" >"$T/page.json"
[[ $(json_get "$T/page.json" 'd["offset"], d["limit"], len(d["rows"]), d["rows"][0]["product"], d["total_rows"]') == "10 5 5 p00010 3000" ]] ||
        fail "page: $(head -c 300 "$T/page.json")"
python3 - "$T/view.json" "$T/page.json" <<'PY' || fail "page rows differ from the whole view"
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["rows"][10:15] == b["rows"], "slice"
PY
[[ $(curl -s "$URL/v1/views/sales?offset=2998&limit=10" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rows"]))') == 2 ]] || fail "tail page"
[[ $(curl -s "$URL/v1/views/sales?offset=5000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["rows"]))') == 0 ]] || fail "past end"
[[ $(status_of "$URL/v1/views/sales?limit=x") == 400 ]] || fail "bad limit"
[[ $(status_of "$URL/v1/views/sales?offset=-1") == 400 ]] || fail "bad offset"
pass "view document, limit and offset"

# --- one row by key, percent-decoded
curl -s "$URL/v1/views/sales/rows/us-east/p00001" >"$T/row.json"
[[ $(json_get "$T/row.json" 'd["view"], d["generation"], d["row"]["region"], d["row"]["product"]') == "sales $gen us-east p00001" ]] ||
        fail "row: $(cat "$T/row.json")"
[[ $(json_get "$T/row.json" 'd["row"]') == $(json_get "$T/view.json" '[r for r in d["rows"] if r["region"]=="us-east" and r["product"]=="p00001"][0]') ]] ||
        fail "row differs from the view's"
[[ $(status_of "$URL/v1/views/sales/rows/us%2Deast/p%30%30%30%30%31") == 200 ]] || fail "percent-decoded key"
[[ $(status_of "$URL/v1/views/sales/rows/us-east/nope") == 404 ]] || fail "missing row"
curl -s "$URL/v1/views/sales/rows/us-east/nope" >"$T/e.json"
[[ $(json_get "$T/e.json" 'd["status"], "error" in d') == "404 True" ]] || fail "404 JSON"
[[ $(status_of "$URL/v1/views/sales/rows/us-east/p00001/x") == 400 ]] || fail "too many keys"
[[ $(status_of "$URL/v1/views/sales/rows/%zz/x") == 400 ]] || fail "bad escape"
[[ $(status_of "$URL/v1/views/nope") == 404 ]] || fail "unknown view"
[[ $(status_of "$URL/v1/nope") == 404 ]] || fail "unknown endpoint"
pass "row lookup and its errors"

# --- /v1/snapshot
curl -s "$URL/v1/snapshot" >"$T/snap.json"
json_get "$T/snap.json" 'd["generation"], d["created"].endswith("Z"), d["age_seconds"] >= 0, d["worker"]["host"], d["sources"][0]["name"]' >"$T/o"
[[ $(cat "$T/o") == "$gen True True mksnap events" ]] || fail "snapshot: $(cat "$T/snap.json")"
[[ $(header_of Cache-Control "$URL/v1/snapshot") == no-store ]] || fail "snapshot caching"
pass "/v1/snapshot"

# --- headers: content type, ETag, 304, Last-Modified, generation, Vary
[[ $(header_of Content-Type "$URL/v1/views/sales") == "application/json; charset=utf-8" ]] || fail "content type"
etag=$(header_of ETag "$URL/v1/views/sales")
[[ $etag == "W/\"$gen-0\"" ]] || fail "etag $etag"
[[ $(status_of -H "If-None-Match: $etag" "$URL/v1/views/sales") == 304 ]] || fail "If-None-Match"
[[ $(status_of -H "If-None-Match: $etag" "$URL/v1/views/sales/rows/us-east/p00001") == 304 ]] || fail "row 304"
[[ $(status_of -H 'If-None-Match: W/"1-9"' "$URL/v1/views/sales") == 200 ]] || fail "stale etag"
[[ $(curl -s -H "If-None-Match: $etag" "$URL/v1/views/sales" | wc -c) == 0 ]] || fail "304 has a body"
lm=$(header_of Last-Modified "$URL/v1/views/sales")
[[ $lm == *GMT ]] || fail "Last-Modified $lm"
[[ $(status_of -H "If-Modified-Since: $lm" "$URL/v1/views/sales") == 304 ]] || fail "If-Modified-Since"
[[ $(header_of X-Tally-Generation "$URL/v1/views/sales") == "$gen" ]] || fail "X-Tally-Generation"
[[ $(header_of Vary "$URL/v1/views/sales") == "Accept, Accept-Encoding" ]] || fail "Vary"
pass "ETag/304, Last-Modified, X-Tally-Generation, Vary"

# --- gzip
[[ $(header_of Content-Encoding -H 'Accept-Encoding: gzip' "$URL/v1/views/sales") == gzip ]] || fail "gzip"
curl -s -H 'Accept-Encoding: gzip' "$URL/v1/views/sales" | gzip -dc | cmp - "$T/view.json" || fail "gzip body differs"
[[ -z $(header_of Content-Encoding "$URL/v1/views/sales") ]] || fail "gzip without asking"
[[ -z $(header_of Content-Encoding -H 'Accept-Encoding: gzip;q=0' "$URL/v1/views/sales") ]] || fail "gzip q=0"
pass "gzip"

# --- msgpack (decoded with a few lines of python, no extra packages)
cat >"$T/mp.py" <<'PY'
import struct, sys
def dec(b, i=0):
    t = b[i]
    if t <= 0x7f: return t, i + 1
    if t >= 0xe0: return t - 256, i + 1
    if 0x80 <= t <= 0x8f or t in (0xde, 0xdf):
        n, i = (t & 15, i + 1) if t <= 0x8f else ((struct.unpack(">H", b[i+1:i+3])[0], i + 3) if t == 0xde else (struct.unpack(">I", b[i+1:i+5])[0], i + 5))
        d = {}
        for _ in range(n):
            k, i = dec(b, i); v, i = dec(b, i); d[k] = v
        return d, i
    if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
        n, i = (t & 15, i + 1) if t <= 0x9f else ((struct.unpack(">H", b[i+1:i+3])[0], i + 3) if t == 0xdc else (struct.unpack(">I", b[i+1:i+5])[0], i + 5))
        a = []
        for _ in range(n):
            v, i = dec(b, i); a.append(v)
        return a, i
    if 0xa0 <= t <= 0xbf: n = t & 31; return b[i+1:i+1+n].decode(), i + 1 + n
    if t == 0xd9: n = b[i+1]; return b[i+2:i+2+n].decode(), i + 2 + n
    if t == 0xda: n = struct.unpack(">H", b[i+1:i+3])[0]; return b[i+3:i+3+n].decode(), i + 3 + n
    if t == 0xc0: return None, i + 1
    if t == 0xc2: return False, i + 1
    if t == 0xc3: return True, i + 1
    if t == 0xcb: return struct.unpack(">d", b[i+1:i+9])[0], i + 9
    for code, fmt, n in ((0xcc, ">B", 1), (0xcd, ">H", 2), (0xce, ">I", 4), (0xcf, ">Q", 8), (0xd0, ">b", 1), (0xd1, ">h", 2), (0xd2, ">i", 4), (0xd3, ">q", 8)):
        if t == code: return struct.unpack(fmt, b[i+1:i+1+n])[0], i + 1 + n
    raise ValueError(hex(t))
data = sys.stdin.buffer.read()
v, end = dec(data)
assert end == len(data), "trailing bytes"
print(repr(eval(sys.argv[1], {"d": v})))
PY
mp() { curl -s -g -H 'Accept: application/msgpack' "$URL$1" | python3 "$T/mp.py" "$2"; }
[[ $(header_of Content-Type -H 'Accept: application/msgpack' "$URL/v1/views/sales") == application/msgpack ]] || fail "msgpack type"
[[ $(mp /v1/views/sales '(d["view"], d["total_rows"], len(d["rows"]), d["rows"][1][:2])') == "('sales', 3000, 3000, ['af-south', 'p00001'])" ]] ||
        fail "msgpack view"
[[ $(mp '/v1/views/sales?offset=3&limit=2' '(d["offset"], d["limit"], len(d["rows"]))') == "(3, 2, 2)" ]] || fail "msgpack page"
[[ $(mp /v1/views/sales/rows/us-east/p00001 'd["row"][:2]') == "['us-east', 'p00001']" ]] || fail "msgpack row"
[[ $(mp /v1/views '(d["generation"], d["views"][0]["name"])') == "($gen, 'sales')" ]] || fail "msgpack views"
[[ $(mp /v1/snapshot 'd["generation"]') == "$gen" ]] || fail "msgpack snapshot"
pass "msgpack"

# --- HEAD: headers with the GET body's length, no body
for p in /v1/views/sales /v1/views "/v1/views/sales?limit=3" /healthz /v1/views/sales/rows/us-east/p00001; do
        get_len=$(curl -s "$URL$p" | wc -c)
        head_len=$(header_of Content-Length -I "$URL$p")
        [[ $get_len == "$head_len" ]] || fail "HEAD $p: Content-Length $head_len, GET body $get_len"
        [[ $(curl -s -I "$URL$p" --max-time 3 | tr -d '\r' | sed '1,/^$/d' | wc -c) == 0 ]] || fail "HEAD $p sent a body"
done
pass "HEAD"

# --- other methods: 405 with Allow, JSON body
for m in POST PUT DELETE PATCH OPTIONS; do
        [[ $(status_of -X "$m" "$URL/v1/views/sales") == 405 ]] || fail "$m not 405"
done
[[ $(header_of Allow -X POST "$URL/v1/views") == "GET, HEAD" ]] || fail "Allow"
[[ $(curl -s -X DELETE "$URL/v1/views") == '{"error":"method not allowed","status":405}' ]] || fail "405 body"
pass "405 with Allow"

# --- /metrics
curl -s "$URL/metrics" >"$T/metrics"
for m in "tally_snapshot_generation $gen" 'tally_snapshot_age_seconds ' 'tally_view_rows{view="sales"} 3000' \
        'tally_reloads_total{result="ok"} 1' 'tally_reloads_total{result="rejected"} 0' \
        'tally_reload_duration_seconds_count 1' 'tally_http_requests_total{code="200"} ' \
        'tally_http_requests_total{code="404"} ' 'tally_http_request_duration_seconds_bucket{le="+Inf"} ' \
        'process_resident_memory_bytes '; do
        grep -qF "$m" "$T/metrics" || fail "metrics lack: $m"
done
[[ $(header_of Content-Type "$URL/metrics") == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "metrics type"
n404=$(sed -n 's/^tally_http_requests_total{code="404"} //p' "$T/metrics")
((n404 >= 4)) || fail "404s not counted ($n404)"
pass "/metrics"

# --- connection gauges: N idle connections held open by a real client show up in
# tally_http_connections_open (plus the scrape's own), and leave it when closed.
[[ $(metric tally_http_connections_max) == 4096 ]] || fail "connections_max: $(metric tally_http_connections_max)"
cat >"$T/idle.py" <<'PY'
import os, socket, sys, time
port, n, ready, release = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open(ready, "w").write(str(len(socks)))
deadline = time.time() + 60
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
for s in socks:
    s.close()
PY
start_bg python3 "$T/idle.py" "${URL##*:}" 5 "$T/idle.ready" "$T/idle.release"
idle=$BG_PID
wait_for 10 test -s "$T/idle.ready" || fail "idle client did not connect"
wait_for 10 metric_is tally_http_connections_open 6 ||
        fail "connections_open with 5 idle: $(metric tally_http_connections_open)"
touch "$T/idle.release"
wait "$idle" || fail "idle client failed"
wait_for 10 metric_is tally_http_connections_open 1 ||
        fail "connections_open after closing: $(metric tally_http_connections_open)"
pass "connection gauges follow connections held and closed"
# --- prefix and range lookups, CSV, ?fields= (a second snapshot adds the time-keyed view)
gen=$("$MKSNAP" "${MKSNAP_ARGS[@]}" "$T/snap" --rows 3000 --q1 --seed 6 --series 40)
wait_for 10 generation_is "$gen" || fail "snapshot $gen not loaded"
curl -s "$URL/v1/views/sales" >"$T/view.json"
curl -s "$URL/v1/views/series" >"$T/series.json"
curl -s "$URL/v1/views/sales/rows/eu-west" >"$T/prefix.json"
curl -s "$URL/v1/views/sales/rows/eu-west?offset=5&limit=7" >"$T/prefix-page.json"
curl -s "$URL/v1/views/sales/rows/nowhere" >"$T/prefix-none.json"
python3 - "$T" <<'PY' || fail "prefix documents differ from the whole view's rows"
import json, sys
t = sys.argv[1]
whole = json.load(open(f"{t}/view.json"))
want = [r for r in whole["rows"] if r["region"] == "eu-west"]
assert len(want) == 375, len(want)
p = json.load(open(f"{t}/prefix.json"))
assert p["rows"] == want and p["total_rows"] == len(want) and p["offset"] == 0, "prefix"
assert {k: v for k, v in p.items() if k != "rows" and k not in ("total_rows", "offset", "limit")} == \
    {k: v for k, v in whole.items() if k != "rows" and k not in ("total_rows", "offset", "limit")}
pg = json.load(open(f"{t}/prefix-page.json"))
assert pg["rows"] == want[5:12] and pg["total_rows"] == len(want) and pg["limit"] == 7, "page"
none = json.load(open(f"{t}/prefix-none.json"))
assert none["rows"] == [] and none["total_rows"] == 0, "unknown prefix"
PY
[[ $(mp /v1/views/sales/rows/eu-west '(d["total_rows"], len(d["rows"]), d["rows"][0][:2])') == "(375, 375, ['eu-west', 'p00000'])" ]] ||
        fail "msgpack prefix"
[[ $(mp '/v1/views/sales/rows/eu-west?offset=374' '(d["offset"], len(d["rows"]), d["rows"][0][1])') == "(374, 1, 'p00374')" ]] ||
        fail "msgpack prefix page"
pass "prefix lookups: the whole view's matching rows, paged, in JSON and msgpack"

from=2026-01-01T00:30:00Z to=1767229200 # 01:00
curl -s "$URL/v1/views/series/rows/eu-west?from=$from&to=$to" >"$T/range.json"
curl -s "$URL/v1/views/series/rows/eu-west?to=$to" >"$T/range-to.json"
python3 - "$T" <<'PY' || fail "range differs from the whole view's rows"
import json, sys
t = sys.argv[1]
rows = json.load(open(f"{t}/series.json"))["rows"]
eu = [r for r in rows if r["region"] == "eu-west"]
assert eu[0]["bucket"] is None, "the row without a bucket sorts first"
want = [r for r in eu if r["bucket"] is not None and "2026-01-01T00:30:00Z" <= r["bucket"] < "2026-01-01T01:00:00Z"]
got = json.load(open(f"{t}/range.json"))
assert len(want) == 6 and got["rows"] == want and got["total_rows"] == 6, got
to = json.load(open(f"{t}/range-to.json"))
assert to["rows"] == [r for r in eu if r["bucket"] is not None and r["bucket"] < "2026-01-01T01:00:00Z"]
PY
pass "time ranges after a prefix"

curl -s -H 'Accept: text/csv' "$URL/v1/views/sales" >"$T/view.csv"
curl -s "$URL/v1/views/sales/rows/eu-west?format=csv&offset=5&limit=7" >"$T/prefix.csv"
curl -s "$URL/v1/views/series/rows/eu-west?format=csv&from=$from&to=$to" >"$T/range.csv"
curl -s "$URL/v1/views/series/rows/eu-west?format=csv&limit=2" >"$T/nil.csv"
curl -s "$URL/v1/views/sales/rows/eu-west?format=csv&fields=count,avg(amount)&limit=3" >"$T/fields.csv"
curl -s "$URL/v1/views/sales/rows/eu-west?fields=count,avg(amount)&limit=3" >"$T/fields.json"
python3 - "$T" <<'PY' || fail "CSV differs from JSON"
import csv, io, json, sys
t = sys.argv[1]
raw = lambda f: json.load(open(f), parse_float=str, parse_int=str)  # cells as JSON spells them
def text(v): return "" if v is None else v
def check(csv_file, json_rows, cols):
    data = open(csv_file, newline="").read()
    assert data.endswith("\r\n") and "\n" not in data.replace("\r\n", ""), "CRLF records"
    recs = list(csv.reader(io.StringIO(data, newline="")))
    assert recs[0] == cols, (recs[0], cols)
    assert recs[1:] == [[text(r[c]) for c in cols] for r in json_rows], csv_file
whole = raw(f"{t}/view.json")
cols = [c["name"] for c in whole["columns"]]
check(f"{t}/view.csv", whole["rows"], cols)
eu = [r for r in whole["rows"] if r["region"] == "eu-west"]
check(f"{t}/prefix.csv", eu[5:12], cols)
series = raw(f"{t}/series.json")
scols = [c["name"] for c in series["columns"]]
seu = [r for r in series["rows"] if r["region"] == "eu-west"]
check(f"{t}/range.csv", [r for r in seu if r["bucket"] and "2026-01-01T00:30:00Z" <= r["bucket"] < "2026-01-01T01:00:00Z"], scols)
check(f"{t}/nil.csv", seu[:2], scols)
fcols = ["region", "product", "count", "avg(amount)"]
check(f"{t}/fields.csv", [{c: r[c] for c in fcols} for r in eu[:3]], fcols)
fj = raw(f"{t}/fields.json")
assert [c["name"] for c in fj["columns"]] == fcols and fj["rows"] == [{c: r[c] for c in fcols} for r in eu[:3]], "fields JSON"
assert fj["total_rows"] == "375" and fj["limit"] == "3"
PY
[[ $(header_of Content-Type "$URL/v1/views/sales?format=csv") == "text/csv; charset=utf-8; header=present" ]] || fail "CSV type"
[[ $(header_of Content-Encoding -H 'Accept-Encoding: gzip' "$URL/v1/views/sales?format=csv") == gzip ]] || fail "CSV gzip"
curl -s -H 'Accept-Encoding: gzip' "$URL/v1/views/sales?format=csv" | gzip -dc | cmp - "$T/view.csv" || fail "CSV gzip body"
[[ -z $(header_of Content-Encoding -H 'Accept-Encoding: gzip' "$URL/v1/views/sales/rows/eu-west?format=csv") ]] || fail "slice gzip'd"
curl -s -H 'Accept-Encoding: gzip' "$URL/v1/views/sales/rows/eu-west?format=csv&offset=5&limit=7" | cmp - "$T/prefix.csv" || fail "slice body with gzip asked"
etag=$(header_of ETag "$URL/v1/views/sales/rows/eu-west?format=csv")
[[ $etag == "W/\"$gen-0\"" ]] || fail "prefix etag $etag"
[[ $(status_of -H "If-None-Match: $etag" "$URL/v1/views/sales/rows/eu-west?format=csv") == 304 ]] || fail "prefix 304"
[[ $(status_of -H "If-None-Match: $etag" -H 'Accept: text/csv' "$URL/v1/views/sales") == 304 ]] || fail "CSV 304"
for p in "/v1/views/sales/rows/eu-west" "/v1/views/sales/rows/eu-west?format=csv" "/v1/views/sales?fields=count"; do
        [[ $(curl -s "$URL$p" | wc -c) == "$(header_of Content-Length -I "$URL$p")" ]] || fail "HEAD $p"
done
pass "CSV (parsed with python's csv module) equals JSON; gzip, 304, HEAD"

bad() { # bad PATH PARAMETER: 400 in JSON naming it
        curl -s "$URL$1" >"$T/e.json"
        [[ $(status_of "$URL$1") == 400 ]] || fail "$1 not 400"
        [[ $(json_get "$T/e.json" 'd["status"], d["parameter"]') == "400 $2" ]] || fail "$1: $(cat "$T/e.json")"
}
bad "/v1/views/series/rows/eu-west?from=noon" from
bad "/v1/views/series/rows/eu-west?to=2026-13-01" to
bad "/v1/views/series/rows/eu-west?from=1767229200&to=1767225600" to
bad "/v1/views/series?from=2026-01-01" from
bad "/v1/views/sales/rows/eu-west?to=2026-01-01" to
bad "/v1/views/sales?fields=count,nope" fields
bad "/v1/views/sales?fields=" fields
bad "/v1/views/sales?format=xml" format
bad "/v1/views/sales?limit=many" limit
# a whole key is a row lookup by the key's text, as before: an unknown one is 404
[[ $(status_of "$URL/v1/views/series/rows/eu-west/yesterday") == 404 ]] || fail "whole unknown key"
[[ $(status_of "$URL/v1/views/sales/rows/eu-west/p00001/x") == 400 ]] || fail "deeper than the keys"
pass "every new parameter's 400 names it"
# --- the worker's own key order: time, int and num keys (10 after 9, -0.5 before 0.25, a
# missing value first) slice exactly as the whole view lists them
cat >"$T/events.csv" <<'CSV'
ts,region,user_id,amount
2026-01-01T00:10:00Z,eu,10,0.25
2026-01-01T00:00:00Z,eu,9,-0.5
,eu,9,1
2026-01-01T00:05:00Z,us,-3,0.25
2026-01-01T00:05:00Z,eu,,2
2026-01-01T00:00:00Z,us,10,-0.5
2026-01-01T00:20:00Z,eu,10,3
CSV
sed -e "s|^path = .*|path = $T/events.csv|" \
    -e 's|^columns = .*|columns = ts:time, region:str, user_id:int, amount:num|' \
    -e '/^\[view.sales\]/,$d' "$T/tally.conf" >"$T/worker.conf"
cat >>"$T/worker.conf" <<'CONF'
[view.by_ts]
source = events
group_by = region, ts
aggregates = count
[view.by_user]
source = events
group_by = user_id, amount
aggregates = count
CONF
"$TALLY_WORKER" --config "$T/worker.conf" 2>"$T/worker.log" || fail "worker: $(cat "$T/worker.log")"
wait_for 10 generation_is $((gen + 1)) || fail "the worker's snapshot was not loaded"
[[ $(snap_version $((gen + 1))) == 2 ]] || fail "the worker wrote version $(snap_version $((gen + 1)))"
! grep -q "not in key order" "$T/tallyd.log" || fail "tallyd finds the worker's rows out of key order"
python3 - "$URL" <<'PY' || fail "slices differ from the worker's whole view"
import json, sys, urllib.request
url = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(url + p))
ts = get("/v1/views/by_ts")["rows"]
eu = [r for r in ts if r["region"] == "eu"]
assert eu[0]["ts"] is None, eu
assert get("/v1/views/by_ts/rows/eu")["rows"] == eu
assert get("/v1/views/by_ts/rows/eu?from=2026-01-01T00:05:00Z&to=2026-01-01T00:20:00Z")["rows"] == \
    [r for r in eu if r["ts"] in ("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z")]
users = get("/v1/views/by_user")["rows"]
assert [r["user_id"] for r in users] == [None, -3, 9, 9, 10, 10, 10], users
for u in ("null", "-3", "9", "10", "010"):
    want = [r for r in users if r["user_id"] == (None if u == "null" else int(u))]
    assert get("/v1/views/by_user/rows/" + u)["rows"] == want, u
assert [r["amount"] for r in get("/v1/views/by_user/rows/10")["rows"]] == [-0.5, 0.25, 3]
PY
pass "prefixes and ranges on the worker's own views (time, int and num keys)"
stop_tallyd
