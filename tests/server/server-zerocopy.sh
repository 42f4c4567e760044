#!/bin/bash
# Zero-copy bodies (server/conn.c): answers of 256 KiB and more go out vmsplice()d through
# a pipe, and the pipes of finished answers are kept for the next one. A kept pipe that
# still held bytes would put them in front of the next answer, and a pipe that was never
# given back would be an fd lost per answer: every body must come out whole, on reused
# connections, after clients that hung up mid-body, and the pipes open stay bounded.
source "$TALLY_SOURCE_ROOT/tests/server/lib-server.sh"

port=$(free_port)
server_config "$port" 'max_connections = 256'
start_tallyd
"$MKSNAP" "$T/snap" --rows 6000 --q1 >/dev/null
wait_for 10 generation_is 1 || fail "no snapshot"

curl -s "$URL/v1/views/sales" -o "$T/view"
size=$(wc -c <"$T/view")
((size >= 512 * 1024)) || fail "the whole view is only $size bytes: not a zero-copy answer"
curl -s "$URL/v1/views/sales/rows/eu-west" -o "$T/prefix"
((($(wc -c <"$T/prefix")) >= 256 * 1024 / 8)) || fail "prefix answer too short"

pipes() { find "/proc/$TALLYD_PID/fd" -lname 'pipe:*' 2>/dev/null | wc -l; }
base=$(pipes)

cat >"$T/clients.py" <<'PY'
import socket, sys, threading
port, view, prefix, n = int(sys.argv[1]), open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read(), int(sys.argv[4])
def get(s, path):
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b: raise RuntimeError("closed in the head")
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        b = s.recv(1 << 20)
        if not b: raise RuntimeError("closed in the body")
        body += b
    return body
bad = []
def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", port)); s.settimeout(20)
        for k in range(6):  # one connection, alternating answers: pipes reused in turn
            path, want = (b"/v1/views/sales", view) if (i + k) % 2 == 0 else (b"/v1/views/sales/rows/eu-west", prefix)
            if get(s, path) != want:
                bad.append(f"client {i} answer {k} differs")
        if i % 3 == 0:  # hang up 100 kB into the next body, with bytes left in its pipe
            s.sendall(b"GET /v1/views/sales HTTP/1.1\r\nHost: x\r\n\r\n")
            got = 0
            while got < 100000:
                got += len(s.recv(65536))
        s.close()
    except Exception as e:
        bad.append(f"client {i}: {e}")
ts = [threading.Thread(target=client, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(bad) if bad else "ok")
PY

for round in 1 2 3; do
        out=$(python3 "$T/clients.py" "$port" "$T/view" "$T/prefix" 60)
        [[ $out == ok ]] || fail "round $round: $out"
        # after the clients are gone: at most the 16 kept pipes (two fds each) beyond the start
        wait_for 10 test "$(pipes)" -le $((base + 32)) ||
                fail "round $round: $(pipes) pipe fds open, $base at the start (at most 32 more kept)"
        pass "round $round: 60 clients x 6 answers of $size and $(wc -c <"$T/prefix") bytes whole, every third hung up mid-body; $(pipes) pipe fds open (start $base)"
done
# and the server answers the same bytes after all that
cmp -s "$T/view" <(curl -s "$URL/v1/views/sales") || fail "the whole view changed"
pass "zero-copy pipes reused without carrying bytes over, and bounded"
