# A throwaway PostgreSQL cluster for a test or a benchmark. Source it after tests/lib.sh
# (or on its own: it needs nothing of lib.sh), then call pg_cluster_start.
#
#   pg_cluster_start      initdb into a fresh temporary directory (as the postgres user
#                         when root, through runuser), then pg_ctl on a private socket
#                         directory with TCP off (listen_addresses=''); exports PGHOST,
#                         PGPORT, PGUSER=postgres, PGDATABASE=postgres for libpq and psql.
#                         Local connections are trusted, except the role tally_pw (if
#                         a test creates it), which must give a password (scram-sha-256).
#   pg_cluster_stop       stops the server (immediate) and removes the directory; runs on
#                         exit by itself.
#   pgsql ARGS…           psql -X with ON_ERROR_STOP, quiet, unaligned, no headers.
#
# Exits 77 (skipped) when the server binaries are absent (PG_BIN, default
# /usr/lib/postgresql/15/bin); anything else that goes wrong fails the caller.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl || ! -x $PG_BIN/psql ]]; then
        echo "skipped: no PostgreSQL server binaries in $PG_BIN (postgresql-15)"
        exit 77
fi

PG_DIR=
_pg_as() {
        if ((EUID == 0)); then
                runuser -u postgres -- "$@"
        else
                "$@"
        fi
}

pg_cluster_stop() {
        [[ -n $PG_DIR && -d $PG_DIR ]] || return 0
        if [[ -f $PG_DIR/data/postmaster.pid ]]; then
                _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_DIR"
        PG_DIR=
}

pg_cluster_start() {
        PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tally-pg.XXXXXX")
        chmod 0755 "$PG_DIR"
        ((EUID == 0)) && chown postgres: "$PG_DIR"
        # chain our stop before whatever the caller's EXIT trap already does
        local prev
        prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
        # shellcheck disable=SC2064
        trap "pg_cluster_stop; ${prev:-:}" EXIT

        _pg_as mkdir "$PG_DIR/data" "$PG_DIR/sock"
        _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
                --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
                { cat "$PG_DIR/initdb.log" >&2; echo "FAIL: initdb" >&2; return 1; }
        _pg_as tee "$PG_DIR/data/pg_hba.conf" >/dev/null <<'HBA'
local   all   tally_pw   scram-sha-256
local   all   all        trust
HBA
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
                -o "-k $PG_DIR/sock -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
                start >/dev/null ||
                { cat "$PG_DIR/server.log" >&2; echo "FAIL: pg_ctl start" >&2; return 1; }
        export PGHOST=$PG_DIR/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
        unset PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE
}

pgsql() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
