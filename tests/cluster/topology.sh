# The many-hosts topology, shared by tests/cluster/cluster.sh and bench/cluster: source
# it after tests/lib.sh, with $T/events.csv written (the worker's source).
# Every host is a network namespace (names unique per run) on one bridge in a namespace
# of its own: n1..n3 run nats-server (JetStream, clustered by routes, R3), w runs
# tally-worker, s1 and s2 each run tally-sync + tallyd (tallyd on the namespace's
# loopback). cluster_cleanup (the EXIT trap) kills everything started here and removes the
# namespaces.
TALLY_SYNC=${TALLY_SYNC:-$TALLY_BUILD_ROOT/sync/tally-sync}
TALLYCTL=${TALLYCTL:-$TALLY_BUILD_ROOT/ctl/tallyctl}
TOOL=$TALLY_BUILD_ROOT/tests/cluster/cluster-tool

ID=$(printf '%04x%02x' $(($$ & 0xffff)) $((RANDOM & 0xff)))
NS=tc$ID
HOSTS=(n1 n2 n3 w s1 s2)
declare -A ADDR=([n1]=10.77.0.11 [n2]=10.77.0.12 [n3]=10.77.0.13 [w]=10.77.0.20
        [s1]=10.77.0.31 [s2]=10.77.0.32)
declare -A PID=()
URLS="nats://10.77.0.11:4222,nats://10.77.0.12:4222,nats://10.77.0.13:4222"

cluster_cleanup() {
        local rc=$? h p
        for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
        for p in "${PID[@]}"; do wait "$p" 2>/dev/null || true; done
        # anything else still running inside our namespaces was started by this test
        for h in "${HOSTS[@]}"; do
                for p in $(ip netns pids "$NS-$h" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        done
        for h in "${HOSTS[@]}" sw; do ip netns del "$NS-$h" 2>/dev/null || true; done
        if ((rc != 0)); then
                for f in "$T"/*.log; do
                        [[ -f $f ]] && { echo "--- $f"; tail -n 20 "$f"; } >&2
                done
        fi
        _cleanup
        if [[ -n ${CLUSTER_TMP:-} && ${KEEP_TEST_DIR:-} != 1 ]]; then rmdir "$CLUSTER_TMP" 2>/dev/null || true; fi
        exit "$rc"
}
trap cluster_cleanup EXIT

# Runs a command on host $1. Background daemons call ip netns exec directly, not through
# this function, so that $! is the daemon itself (ip execs it) and kill reaches it.
on() { local h=$1; shift; ip netns exec "$NS-$h" "$@"; }

# --- the network: one bridge in its own namespace, one veth pair per host
ip netns add "$NS-sw"
ip -n "$NS-sw" link add br0 type bridge
ip -n "$NS-sw" link set br0 up
for h in "${HOSTS[@]}"; do
        ip netns add "$NS-$h"
        ip link add "v$ID$h" type veth peer name "p$ID$h"
        ip link set "v$ID$h" netns "$NS-$h"
        ip link set "p$ID$h" netns "$NS-sw"
        ip -n "$NS-sw" link set "p$ID$h" master br0 up
        ip -n "$NS-$h" addr add "${ADDR[$h]}/24" dev "v$ID$h"
        ip -n "$NS-$h" link set "v$ID$h" up
        ip -n "$NS-$h" link set lo up
done
link() { ip -n "$NS-sw" link set "p$ID$1" "$2"; }

# --- three JetStream nodes
start_nats() {
        local n=$1 a=${ADDR[$1]} routes=() o
        for o in n1 n2 n3; do [[ $o != "$n" ]] && routes+=("nats://${ADDR[$o]}:6222"); done
        mkdir -p "$T/$n"
        cat >"$T/$n/nats.conf" <<CONF
server_name: $n
listen: $a:4222
http: $a:8222
jetstream { store_dir: "$T/$n/js", max_memory_store: 64MB, max_file_store: 4GB }
cluster { name: tc, listen: $a:6222, routes: [$(IFS=,; echo "${routes[*]}")] }
CONF
        ip netns exec "$NS-$n" nats-server -c "$T/$n/nats.conf" >>"$T/$n.log" 2>&1 &
        PID[$n]=$!
}
nats_healthy() { on w curl -sf --max-time 1 "http://${ADDR[$1]}:8222/healthz" | has '"ok"'; }
for n in n1 n2 n3; do start_nats "$n"; done
for n in n1 n2 n3; do wait_for 30 nats_healthy "$n" || fail "nats-server $n not healthy"; done

# --- the worker host and two serving hosts
host_config() {
        local snap=$1 keep=$2
        cat <<CONF
[tally]
snapshot_dir = $snap
keep = $keep

[server]
listen = 127.0.0.1:8080
max_age = 1h

[source.events]
type = csv
path = $T/events.csv
columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, status:str

[view.sales]
source = events
group_by = ${CLUSTER_GROUP_BY:-region, product}
aggregates = count, sum(amount), avg(amount), min(amount), max(amount), p95(latency_ms), distinct(user_id)

[nats]
servers = $URLS
replicas = 3
CONF
}
mkdir -p "$T/w/snap"
host_config "$T/w/snap" 100 >"$T/w/tally.conf"

start_serving() {
        local h=$1
        mkdir -p "$T/$h/snap"
        host_config "$T/$h/snap" 3 >"$T/$h/tally.conf"
        ip netns exec "$NS-$h" "$TALLY_SYNC" --config "$T/$h/tally.conf" >>"$T/$h-sync.log" 2>&1 &
        PID[$h-sync]=$!
        ip netns exec "$NS-$h" "$TALLYD" --config "$T/$h/tally.conf" >>"$T/$h-tallyd.log" 2>&1 &
        PID[$h-tallyd]=$!
}
stop_serving() {
        kill -TERM "${PID[$1-sync]}" "${PID[$1-tallyd]}"
        wait "${PID[$1-sync]}" || fail "tally-sync on $1 exited $? on SIGTERM"
        wait "${PID[$1-tallyd]}" || true
        unset "PID[$1-sync]" "PID[$1-tallyd]"
}

# The generation host $1 serves, or nothing.
served() { on "$1" curl -sf --max-time 2 http://127.0.0.1:8080/v1/snapshot | grep -o '"generation":[0-9]*' | cut -d: -f2; }
serves() { [[ $(served "$1") == "$2" ]]; }
newest_local() { ls "$T/w/snap" | sed -n 's/^snapshot-0*\([0-9][0-9]*\)\.msgpack$/\1/p' | sort -n | tail -1; }

# Every 50 ms, what each serving host answers: at the end no host may ever have gone back
# a generation or failed a request once it had served one (except between a PIN and an
# UNPIN line the pin case writes: a pin to an older generation is a wanted step back).
# A request that times out (curl 28) is SLOW, not ERR: on a machine loaded by parallel
# builds a process may wait seconds for CPU; refused connections and non-200 are ERR.
monitor() {
        local h=$1 out rc
        while :; do
                rc=0
                out=$(on "$h" curl -s --max-time 5 -w '\n%{http_code}' http://127.0.0.1:8080/v1/snapshot) || rc=$?
                if ((rc == 28)); then
                        echo SLOW
                elif ((rc == 0)) && [[ ${out##*$'\n'} == 200 && $out =~ \"generation\":([0-9]+) ]]; then
                        echo "${BASH_REMATCH[1]}"
                else
                        echo ERR
                fi >>"$T/$h.served"
                sleep 0.05
        done
}

# Runs the worker; its exit status in WRC.
run_worker() {
        WRC=0
        on w "$TALLY_WORKER" --config "$T/w/tally.conf" --deadline "${1:-40s}" >>"$T/w.log" 2>&1 || WRC=$?
}

