#!/usr/bin/env python3
"""HTTP abuse against a running tallyd (loopback only, every loop bounded).

  abuse.py requests    --port P --pid PID
  abuse.py slowloris   --port P --pid PID [--conns N] [--seconds S] [--timeout T]
  abuse.py conn-limit  --port P --pid PID --max-conns M
  abuse.py limit-reserve --port P --pid PID --max-conns M --worker W --config C --log L

Each check prints "ok: ..." or "FAIL: ..."; the exit status is 1 if any failed."""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

HOST = "127.0.0.1"
failures = []


def ok(msg):
    print(f"ok: {msg}", flush=True)


def bad(msg):
    print(f"FAIL: {msg}", flush=True)
    failures.append(msg)


def raw(port, data, wait=1.0):
    """Sends bytes, reads until EOF or `wait` seconds of silence. Returns (bytes, closed)."""
    s = socket.create_connection((HOST, port), timeout=wait)
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may close as soon as it has seen enough
    out, closed = b"", False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            out += b
            if len(out) > 1 << 20:
                break
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = True
    s.close()
    return out, closed


def statuses(out):
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", out)]


def header(out, name):
    m = re.search(rb"\r\n" + name.encode() + rb": *([^\r]*)\r\n", out, re.I)
    return m.group(1).decode() if m else None


def alive(port, pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        c = http.client.HTTPConnection(HOST, port, timeout=2)
        c.request("GET", "/healthz")
        return c.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def get(port, path="/healthz", conn=None):
    c = conn or http.client.HTTPConnection(HOST, port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    return r.status


# ---- malformed and unusual requests ----

H = b"Host: 127.0.0.1\r\n"
CASES = [
    # name, request bytes, acceptable statuses, extra check
    ("request line longer than the header limit",
     b"GET /v1/views/" + b"a" * 20000 + b" HTTP/1.1\r\n" + H + b"\r\n", {400, 414, 431}),
    ("request target longer than 8 KiB within the header limit",
     b"GET /v1/views/" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n", {400, 414, 431}),
    ("headers larger than max_header_bytes",
     b"GET /healthz HTTP/1.1\r\n" + H + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"v" * 100)
                                                 for i in range(200)) + b"\r\n", {400, 431}),
    ("one header line larger than max_header_bytes",
     b"GET /healthz HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * 20000 + b"\r\n\r\n", {400, 431}),
    ("body on GET (Content-Length)",
     b"GET /v1/views HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello", {400, 413}),
    ("body on GET (chunked)",
     b"GET /v1/views HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
     {400, 413}),
    ("invalid percent-encoding in the view", b"GET /v1/views/%zz HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("truncated percent-encoding", b"GET /v1/views/sales%4 HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("invalid percent-encoding in the query",
     b"GET /v1/views/sales?limit=%g1 HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("NUL byte by percent-encoding", b"GET /v1/views/sales%00x HTTP/1.1\r\n" + H + b"\r\n", {400, 404}),
    ("encoded path traversal in a view name",
     b"GET /v1/views/..%2F..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n" + H + b"\r\n", {400, 404}),
    ("plain path traversal", b"GET /v1/views/../../../etc/passwd HTTP/1.1\r\n" + H + b"\r\n",
     {400, 404}),
    ("traversal in row keys",
     b"GET /v1/views/sales/rows/..%2F..%2Fetc/passwd HTTP/1.1\r\n" + H + b"\r\n", {400, 404}),
    ("fragment before a query",
     b"GET /v1/views/sales#xxxxxxxxxxxxxxxx?limit=1 HTTP/1.1\r\n" + H + b"\r\n", {400, 404}),
    ("bad limit", b"GET /v1/views/sales?limit=-1 HTTP/1.1\r\n" + H + b"\r\n", {400}),
    ("huge limit", b"GET /v1/views/sales?limit=99999999999999999999 HTTP/1.1\r\n" + H + b"\r\n",
     {400}),
    ("POST", b"POST /v1/views HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", {405}),
    ("PUT", b"PUT /v1/views/sales HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", {405}),
    ("DELETE", b"DELETE /v1/views/sales HTTP/1.1\r\n" + H + b"\r\n", {405}),
    ("OPTIONS", b"OPTIONS /v1/views HTTP/1.1\r\n" + H + b"\r\n", {405}),
    ("TRACE", b"TRACE / HTTP/1.1\r\n" + H + b"\r\n", {405}),
    ("PATCH", b"PATCH /v1/views HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n", {405}),
    ("unknown method token", b"FOO /v1/views HTTP/1.1\r\n" + H + b"\r\n", {400, 405, 501}),
    ("HTTP/1.1 without Host", b"GET /healthz HTTP/1.1\r\n\r\n", {400}),
    ("unsupported HTTP version", b"GET /healthz HTTP/9.9\r\n" + H + b"\r\n", {400, 505}),
    ("HTTP/0.9 style request", b"GET /healthz\r\n\r\n", {400}),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {400, 505}),
    ("binary garbage", bytes(range(256)) + b"\r\n\r\n", {400}),
    ("absolute-form target", b"GET http://127.0.0.1/healthz HTTP/1.1\r\n" + H + b"\r\n", {200}),
]


def check_requests(a):
    for name, req, want in CASES:
        out, _ = raw(a.port, req)
        got = statuses(out)
        if not got:
            bad(f"{name}: no HTTP response (connection {'closed' if out == b'' else 'silent'})")
        elif got[0] not in want:
            bad(f"{name}: HTTP {got[0]}, expected one of {sorted(want)}")
        elif b"root:" in out:
            bad(f"{name}: response leaks a system file")
        else:
            ctype = header(out, "Content-Type") or ""
            note = "" if "json" in ctype or got[0] < 400 else f" [body is {ctype or 'untyped'}, not JSON]"
            if got[0] == 405 and not header(out, "Allow"):
                bad(f"{name}: 405 without Allow")
            else:
                ok(f"{name}: HTTP {got[0]}{note}")
        if not alive(a.port, a.pid):
            bad(f"{name}: tallyd is down afterwards")
            return

    # Pipelined: five requests in one write, five answers in order, then close.
    req = (b"GET /healthz HTTP/1.1\r\n" + H + b"\r\n" + b"GET /v1/views HTTP/1.1\r\n" + H + b"\r\n" +
           b"GET /nope HTTP/1.1\r\n" + H + b"\r\n" + b"HEAD /healthz HTTP/1.1\r\n" + H + b"\r\n" +
           b"GET /healthz HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    out, closed = raw(a.port, req, wait=3)
    got = statuses(out)
    if got == [200, 200, 404, 200, 200] and closed:
        ok("pipelined requests: five answers in order, closed after Connection: close")
    else:
        bad(f"pipelined requests: got {got}, closed={closed}")

    # HTTP/1.0: answered as 1.0, connection closed after the response.
    out, closed = raw(a.port, b"GET /healthz HTTP/1.0\r\n\r\n", wait=3)
    if statuses(out) == [200] and out.startswith(b"HTTP/1.0") and closed:
        ok("HTTP/1.0 without Host: 200, answered as 1.0, closed")
    else:
        bad(f"HTTP/1.0: {out[:40]!r}, closed={closed}")

    # HEAD: headers only, Content-Length of the GET body.
    out, _ = raw(a.port, b"HEAD /v1/views HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
    body = out.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in out else b"?"
    if statuses(out) == [200] and body == b"" and int(header(out, "Content-Length") or 0) > 0:
        ok("HEAD: 200 with Content-Length and no body")
    else:
        bad(f"HEAD: {out[:60]!r} body={body[:20]!r}")

    # Half a request, then the client goes away; and a reset in the middle.
    for cut in (5, 20):
        s = socket.create_connection((HOST, a.port))
        s.sendall(b"GET /v1/views/sales HTTP/1.1\r\n"[:cut])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST
    if alive(a.port, a.pid):
        ok("clients resetting mid-request: server up")
    else:
        bad("clients resetting mid-request: server down")


# ---- slowloris ----

def trickle_open(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    return socks


def check_slowloris(a):
    base_fds = nfds(a.pid)
    # The same client on a quiet server first, so the check decides on any machine: a
    # server that slowloris holds up makes requests wait for the 2 s deadline or fail,
    # while on a busy machine (the attacking client competes for the same cores) the
    # median stays put and only the tail grows by some tens of milliseconds.
    quiet = json.loads(subprocess.run([sys.executable, __file__, "measure", "--port", str(a.port),
                                       "--seconds", "3"], capture_output=True, text=True).stdout)
    ok(f"quiet server: {quiet['n']} requests, p50 {quiet['p50_ms']:.2f} ms, "
       f"p99 {quiet['p99_ms']:.2f} ms")
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
    socks = trickle_open(a.port, a.conns)
    idle = trickle_open(a.port, 50)  # these send nothing at all
    t_idle = time.monotonic()
    ok(f"{a.conns} trickling + 50 idle connections open, tallyd fds {base_fds} -> {nfds(a.pid)}")
    # The measuring client runs in its own process so our trickling does not skew it.
    client = subprocess.Popen([sys.executable, __file__, "measure", "--port", str(a.port),
                               "--seconds", str(a.seconds)], stdout=subprocess.PIPE, text=True)
    pos, closed_by_server = 0, 0
    deadline = time.monotonic() + a.seconds
    idle_closed_at = None
    while time.monotonic() < deadline:
        alive_socks = []
        for s in socks:
            try:
                s.send(req[pos:pos + 1])
                alive_socks.append(s)
            except (BlockingIOError, InterruptedError):
                alive_socks.append(s)
            except OSError:
                # cut off by the server: an attacker reconnects at once
                closed_by_server += 1
                s.close()
                try:
                    n = socket.create_connection((HOST, a.port), timeout=1)
                    n.setblocking(False)
                    alive_socks.append(n)
                except OSError:
                    pass
        socks = alive_socks
        pos = pos + 1 if pos < 1000 else 1
        if idle_closed_at is None:
            still = 0
            for s in idle:
                try:
                    if s.recv(1) == b"":
                        continue
                except BlockingIOError:
                    still += 1
                except OSError:
                    continue
            if still == 0:
                idle_closed_at = time.monotonic() - t_idle
        time.sleep(0.1)
    out = client.communicate(timeout=60)[0]
    res = json.loads(out)
    p99, n = res["p99_ms"], res["n"]
    p50_limit = max(2.0, 3 * quiet["p50_ms"])
    p99_limit = max(100.0, 5 * quiet["p99_ms"])
    if n >= 200 and res["errors"] == 0 and res["p50_ms"] < p50_limit and p99 < p99_limit:
        ok(f"normal client during slowloris: {n} requests, p50 {res['p50_ms']:.2f} ms "
           f"(limit {p50_limit:.1f}), p99 {p99:.2f} ms (limit {p99_limit:.1f}), "
           f"max {res['max_ms']:.2f} ms, no errors")
    else:
        bad(f"normal client during slowloris: {n} requests (at least 200), p50 "
            f"{res['p50_ms']:.2f} ms (limit {p50_limit:.1f}), p99 {p99:.2f} ms (limit "
            f"{p99_limit:.1f}; quiet p50 {quiet['p50_ms']:.2f}, p99 {quiet['p99_ms']:.2f}), "
            f"{res['errors']} errors")
    if idle_closed_at is not None and idle_closed_at <= a.timeout + 1.5:
        ok(f"50 idle connections closed by the server after {idle_closed_at:.1f} s "
           f"(timeout {a.timeout} s)")
    else:
        bad(f"idle connections not closed within timeout + 1.5 s ({idle_closed_at})")
    # each trickling connection outlives the whole-request deadline at least once
    if a.seconds <= a.timeout + 1 or closed_by_server >= a.conns:
        ok(f"trickling connections cut off by the server (and reopened) in {a.seconds} s: "
           f"{closed_by_server}")
    else:
        bad(f"only {closed_by_server} trickling connections cut off in {a.seconds} s, "
            f"expected each of {a.conns} at least once (timeout {a.timeout} s)")
    for s in socks + idle:
        s.close()
    if not alive(a.port, a.pid):
        bad("tallyd down after slowloris")
    wait_fds(a.pid, base_fds, "slowloris")
    return closed_by_server


def check_header_deadline(a):
    """A client that keeps its request headers unfinished forever must be cut off."""
    n = 20
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
    socks = trickle_open(a.port, n)
    limit = 3 * a.timeout
    t0, pos, closed = time.monotonic(), 0, 0
    while time.monotonic() - t0 < limit + 2 and closed < n:
        for s in list(socks):
            try:
                s.send(req[pos:pos + 1])
            except BlockingIOError:
                pass
            except OSError:
                closed += 1
                socks.remove(s)
                s.close()
        pos += 1
        time.sleep(0.25)
    for s in socks:
        s.close()
    if closed == n:
        ok(f"connections trickling headers were cut off within {time.monotonic() - t0:.1f} s")
    else:
        bad(f"{n - closed} of {n} connections sending one header byte per 250 ms were still "
            f"open after {limit + 2:.0f} s (timeout {a.timeout} s): no deadline for a whole "
            f"request, so max_connections such clients lock everyone out")


def measure(a):
    lat, errors = [], 0
    deadline = time.monotonic() + a.seconds
    conn = None
    i = 0
    while time.monotonic() < deadline and i < 100000:
        i += 1
        t0 = time.perf_counter()
        try:
            if i % 10 == 0 or conn is None:  # every tenth on a fresh connection
                if conn:
                    conn.close()
                conn = http.client.HTTPConnection(HOST, a.port, timeout=5)
            conn.request("GET", "/v1/views/sales?limit=5")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn = None
            continue
        lat.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.002)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("inf")
    print(json.dumps(dict(n=len(lat), errors=errors, p50_ms=q(0.5), p99_ms=q(0.99),
                          max_ms=lat[-1] if lat else float("inf"))))


# ---- connection limit ----

def wait_fds(pid, want, what, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if nfds(pid) <= want:
            ok(f"{what}: fd count back to {nfds(pid)} (was {want})")
            return
        time.sleep(0.1)
    bad(f"{what}: fd count {nfds(pid)}, was {want} before")


def wait_held(a, base_fds, seconds=10):
    """Connections tallyd holds, once it holds max_connections (or the deadline passed)."""
    deadline = time.monotonic() + seconds
    while nfds(a.pid) - base_fds < a.max_conns and time.monotonic() < deadline:
        time.sleep(0.05)
    return nfds(a.pid) - base_fds


def check_conn_limit(a):
    base_fds = nfds(a.pid)
    cpu0 = cpu_seconds(a.pid)
    over = 2 * a.max_conns + 20
    socks = []
    for _ in range(over):
        s = socket.create_connection((HOST, a.port), timeout=5)  # the kernel backlog takes them
        socks.append(s)
    held = wait_held(a, base_fds)
    if a.max_conns <= held <= a.max_conns + a.loops - 1:
        ok(f"{over} connections against max_connections={a.max_conns}: tallyd holds {held}, "
           f"fds {base_fds} -> {nfds(a.pid)}")
    else:
        bad(f"{over} connections against max_connections={a.max_conns} ({a.loops} loops): "
            f"tallyd holds {held}")
    # The newest ones wait in the backlog: ask on all of them, they must be answered
    # once the earlier ones go away.
    for s in socks:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answered = 0
    deadline = time.monotonic() + 15
    pending = list(socks)
    while pending and time.monotonic() < deadline:
        for s in list(pending):
            s.settimeout(0.05)
            try:
                d = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                d = b""
            if d.startswith(b"HTTP/1.1 200"):
                answered += 1
            pending.remove(s)
            s.close()  # frees a slot for the next one in the backlog
    for s in pending:
        s.close()
    if answered == over:
        ok(f"all {over} connections answered 200 as slots freed up (none dropped)")
    else:
        bad(f"{answered} of {over} connections answered; {len(pending)} never were")
    cpu = cpu_seconds(a.pid) - cpu0
    if cpu < 5:
        ok(f"no busy loop at the limit: tallyd used {cpu:.2f} s CPU")
    else:
        bad(f"tallyd burned {cpu:.1f} s CPU at the connection limit")
    wait_fds(a.pid, base_fds, "connection limit")
    t0 = time.monotonic()
    if get(a.port) == 200:
        ok(f"served again after the flood ({(time.monotonic() - t0) * 1000:.1f} ms)")
    else:
        bad("not served after the flood")


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def check_reload_at_limit(a):
    """Snapshots must still load while connections sit at max_connections."""
    log_before = open(a.log).read().count("Serving snapshot")
    base_fds = nfds(a.pid)
    socks = trickle_open(a.port, 2 * a.max_conns + 20)
    for s in socks:
        try:
            s.send(b"G")
        except OSError:
            pass
    held = wait_held(a, base_fds)
    if not a.max_conns <= held <= a.max_conns + a.loops - 1:
        bad(f"tallyd accepted {held} connections, max_connections is {a.max_conns}")
    else:
        ok(f"tallyd accepted {held} connections, max_connections is {a.max_conns}")
    t0 = time.monotonic()
    rc = subprocess.run([a.worker, "--config", a.config], stderr=subprocess.DEVNULL).returncode
    if rc != 0:
        bad(f"worker exited {rc}")
    loaded = None
    while time.monotonic() - t0 < 8:
        for s in socks:
            try:
                s.send(b"G")  # keep them busy, well within the timeout
            except OSError:
                pass
        if open(a.log).read().count("Serving snapshot") > log_before:
            loaded = time.monotonic() - t0
            break
        time.sleep(0.3)
    for s in socks:
        s.close()
    if loaded is not None:
        ok(f"new snapshot loaded {loaded:.1f} s after publishing, with connections at the limit")
    else:
        bad("no snapshot loaded in 8 s while connections sat at max_connections: the "
            "connections use up the fds the loader needs (EMFILE)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int)
    ap.add_argument("--conns", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--timeout", type=float, default=2)
    ap.add_argument("--max-conns", type=int, default=50)
    ap.add_argument("--loops", type=int, default=1, help="tallyd's workers (event loops)")
    ap.add_argument("--worker")
    ap.add_argument("--config")
    ap.add_argument("--log")
    a = ap.parse_args()
    {"requests": check_requests, "slowloris": check_slowloris, "measure": measure,
     "header-deadline": check_header_deadline, "conn-limit": check_conn_limit,
     "limit-reserve": check_reload_at_limit}[a.what](a)
    if a.what != "measure" and a.pid and not alive(a.port, a.pid):
        bad("tallyd is down at the end")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
