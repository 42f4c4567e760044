#!/usr/bin/env bash
# The PostgreSQL socket drop-in under a real systemd: a PostgreSQL server runs inside the
# container (its own user, socket in /run/postgresql, no TCP), tally-worker.service with
# the shipped tally-worker-postgres-socket.conf reads a table from it while keeping
# PrivateNetwork=yes, and tallyd serves the result. Prints both drop-ins' exposure scores.
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb ]] || { echo "SKIP: no PostgreSQL server in $PG_BIN"; exit 77; }

tally_boot
DOCDIR=$(dirname "$(find "$CT_STAGE" -name tally-worker-postgres-socket.conf -print -quit)")
[[ -n $DOCDIR && $DOCDIR != . ]] || fail "the drop-ins are not installed"
DOCDIR=${DOCDIR#"$CT_STAGE"}

# --- a PostgreSQL server of its own inside the container
ct systemd-sysusers - <<<'u pgtest - "PostgreSQL for the test" /var/lib/pgtest' || ct_fail "sysusers pgtest"
ct install -d -o pgtest -m 0700 /var/lib/pgtest
ct install -d -o pgtest -m 0755 /run/postgresql
ct setpriv --reuid=pgtest --regid=pgtest --clear-groups -- env HOME=/var/lib/pgtest "$PG_BIN/initdb" -D /var/lib/pgtest/data -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$T/initdb.log" 2>&1 || { cat "$T/initdb.log" >&2; ct_fail "initdb"; }
ct systemd-run --unit=pgtest --property=User=pgtest --property=Type=simple \
        "$PG_BIN/postgres" -D /var/lib/pgtest/data -k /run/postgresql -c listen_addresses= -c fsync=off \
        >/dev/null || ct_fail "starting postgres"
ct_wait 60 "$PG_BIN/pg_isready" -q -h /run/postgresql || ct_fail "postgres did not come up"
psql_ct() { ct "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h /run/postgresql -U postgres -d postgres "$@"; }
psql_ct -c "CREATE TABLE events (ts timestamptz, region text, product text, user_id bigint,
            amount numeric(12,2), latency_ms float8, status text)" || ct_fail "create table"
ct sh -c "$PG_BIN/psql -X -q -h /run/postgresql -U postgres -d postgres -c \"\\copy events FROM '$INPUT/events-1.csv' WITH (FORMAT csv, HEADER true)\"" ||
        ct_fail "loading the events"
psql_ct -c 'CREATE ROLE "tally-worker" LOGIN; GRANT SELECT ON events TO "tally-worker"' || ct_fail "role"
pass "PostgreSQL runs in the container with $(psql_ct -c 'SELECT count(*) FROM events') rows"

# --- the worker reads it through the socket drop-in, network still private
ct sed -i -e 's|^type = csv$|type = postgres|' \
        -e 's|^path = .*|dsn = host=/run/postgresql dbname=postgres\nquery = SELECT * FROM events|' "$CT_CONF"
ct mkdir -p /etc/systemd/system/tally-worker.service.d
ct cp "$DOCDIR/tally-worker-postgres-socket.conf" /etc/systemd/system/tally-worker.service.d/postgres.conf
ct systemctl daemon-reload
[[ $(unit_prop tally-worker.service PrivateNetwork) == yes ]] || ct_fail "the drop-in turned PrivateNetwork off"
ct systemctl start tally-worker.service || {
        ct journalctl -u tally-worker --no-pager | tail -20 >&2
        ct_fail "the worker failed over the socket drop-in"
}
[[ $(unit_prop tally-worker.service Result) == success ]] || ct_fail "worker Result not success"
G=$(written_gens | tail -n 1)
[[ -n $G ]] || ct_fail "no snapshot written"
ct journalctl "$WORKER_ENTRIES" --no-pager -o cat | has -v "password" || true
pass "tally-worker.service read PostgreSQL through /run/postgresql with PrivateNetwork=yes (generation $G)"

ct systemctl start tallyd.socket || ct_fail "tallyd.socket"
json=$(view_json) || ct_fail "GET /v1/views/sales failed"
[[ $(echo "$json" | json_get generation) == "$G" ]] || ct_fail "served generation is not $G: $json"
total=$(echo "$json" | json_count_total)
[[ $total == "$ROWS" ]] || ct_fail "count over all groups is $total, want $ROWS"
pass "tallyd serves the PostgreSQL rows: $total rows in generation $G"

# the drop-in narrows the base unit (which already reaches local sockets: AF_UNIX and a
# unix socket is a file): of /run only the PostgreSQL socket dir and the journal's socket
[[ $(unit_prop tally-worker.service TemporaryFileSystem) == "/run:ro" ]] ||
        ct_fail "TemporaryFileSystem is '$(unit_prop tally-worker.service TemporaryFileSystem)'"
unit_prop tally-worker.service BindReadOnlyPaths | has /run/postgresql || ct_fail "no /run/postgresql bind"
pass "the socket drop-in: /run hidden but /run/postgresql and the journal socket, read-only"

# --- exposure scores, each drop-in alone
for d in socket tcp; do
        ct cp "$DOCDIR/tally-worker-postgres-$d.conf" /etc/systemd/system/tally-worker.service.d/postgres.conf
        ct systemctl daemon-reload
        score=$(ct systemd-analyze security tally-worker.service --no-pager | sed -n 's/.*Overall exposure level for tally-worker.service: \([0-9.]*\).*/\1/p')
        [[ -n $score ]] || ct_fail "no exposure score with the $d drop-in"
        echo "exposure with tally-worker-postgres-$d.conf: $score"
done
pass "exposure scores printed"
