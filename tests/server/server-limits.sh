#!/bin/bash
# Limits: Host required on HTTP/1.1, header and target sizes, no body on GET, connection
# count, idle timeout. Raw requests go through python sockets (curl always sends Host).
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

port=$(free_port)
server_config "$port" 'timeout = 1s' 'max_connections = 8' 'max_header_bytes = 16384'
start_tallyd
"$MKSNAP" "$T/snap" --rows 10 >/dev/null
wait_for 10 generation_is 1 || fail "no snapshot"

cat >"$T/raw.py" <<'PY'
import socket, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
def req(data, timeout=3):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(timeout)
    s.sendall(data); out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
    except socket.timeout:
        pass
    s.close(); return out
if mode == "nohost11":
    r = req(b"GET /healthz HTTP/1.1\r\n\r\n"); print(r.split(b"\r\n")[0].decode()); print(r.split(b"\r\n\r\n", 1)[1].decode())
elif mode == "nohost10":
    print(req(b"GET /healthz HTTP/1.0\r\n\r\n").split(b"\r\n")[0].decode())
elif mode == "bighdr":
    r = req(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    print(r.split(b"\r\n")[0].decode() if r else "closed")
elif mode == "longtarget":
    r = req(b"GET /v1/views/" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(r.split(b"\r\n")[0].decode())
elif mode == "getbody":
    r = req(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    print(r.split(b"\r\n")[0].decode()); print(b"Connection: close" in r)
elif mode == "idle":
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10); t = time.time()
    try:
        closed = s.recv(1) == b""
    except (socket.timeout, ConnectionResetError):
        closed = False
    print("closed" if closed else "open", round(time.time() - t))
elif mode == "trickle":
    # one header byte every 200 ms: each byte restarts evhttp's own timeout, only a
    # deadline for the whole request ends it
    s = socket.create_connection(("127.0.0.1", port)); t = time.time()
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    for i in range(len(req)):
        try:
            s.send(req[i:i + 1])
        except OSError:
            break
        time.sleep(0.2)
        if time.time() - t > 8: break
    print("closed" if time.time() - t < 8 else "open", round(time.time() - t))
elif mode == "hold":
    socks = []
    for i in range(int(sys.argv[3])):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    for s in socks: s.send(b"G")  # start a request so each one is read and kept open
    open(sys.argv[4], "w").write(str(len(socks)))
    time.sleep(float(sys.argv[5]))
PY
raw() { python3 "$T/raw.py" "$port" "$@"; }

out=$(raw nohost11)
[[ $(head -1 <<<"$out") == "HTTP/1.1 400 Bad Request" ]] || fail "HTTP/1.1 without Host: $out"
[[ $(tail -1 <<<"$out") == '{"error":"HTTP/1.1 request without Host","status":400}' ]] || fail "400 body: $out"
[[ $(raw nohost10) == "HTTP/1.0 200 OK" || $(raw nohost10) == "HTTP/1.1 200 OK" ]] || fail "HTTP/1.0 without Host"
pass "Host required on HTTP/1.1 only"

out=$(raw bighdr)
[[ $out == "closed" || $out =~ ^HTTP/1\.[01]\ 4[0-9][0-9] ]] || fail "oversized header answered: $out"
[[ $(status_of "$URL/healthz") == 200 ]] || fail "server down after a big header"
pass "header size limit ($out)"

[[ $(raw longtarget) == "HTTP/1.1 414 "* ]] || fail "long target: $(raw longtarget)"
pass "414 for a long request target"

out=$(raw getbody)
[[ $(head -1 <<<"$out") == "HTTP/1.1 413 "* ]] || fail "GET with body: $out"
[[ $(tail -1 <<<"$out") == True ]] || fail "GET with body: connection not closed"
printf 'a body of our own\n' >"$T/body" # nothing of the host's: /etc/hostname may be empty
[[ $(status_of --data-binary @"$T/body" -X GET "$URL/v1/views") == 413 ]] || fail "curl GET with body"
pass "request body on GET refused"

out=$(raw trickle)
[[ $out == "closed 1" || $out == "closed 2" || $out == "closed 3" ]] || fail "trickling client: $out"
pass "a request trickled byte by byte is cut off at the timeout ($out s)"

out=$(raw idle)
[[ $out == "closed 1" || $out == "closed 2" ]] || fail "idle connection: $out"
pass "idle connection closed after the 1 s timeout"

# Connection limit: hold many connections open; a new request must wait (not be served)
# while they are held, and succeed once they are gone.
fds0=$(ls "/proc/$TALLYD_PID/fd" | wc -l)
start_bg python3 "$T/raw.py" "$port" hold 200 "$T/held" 4
holder=$BG_PID
wait_for 10 test -s "$T/held" || fail "holder did not start"
[[ $(status_of --max-time 1 "$URL/healthz") == 000 ]] || fail "request served beyond max_connections"
held=$(($(ls "/proc/$TALLYD_PID/fd" | wc -l) - fds0))
((held == 8)) || fail "tallyd holds $held connections, max_connections is 8"
# a new snapshot still loads while the connections sit at the limit
"$MKSNAP" "$T/snap" --rows 12 >/dev/null
wait_for 3 grep -q "Serving snapshot generation 2" "$T/tallyd.log" || fail "no load at the connection limit"
wait "$holder" || true
wait_for 10 curl -sf --max-time 1 "$URL/healthz" || fail "not serving after connections closed"
grep -q "max_connections (8) reached" "$T/tallyd.log" || fail "limit not logged"
pass "max_connections holds back new connections and recovers"
stop_tallyd
