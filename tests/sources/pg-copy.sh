#!/usr/bin/env bash
# Runs test-pg-copy (TAP on stdout) against a throwaway PostgreSQL cluster of its own.
#   pg-copy.sh TEST-BINARY
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/sources/pgcluster.sh"
pg_cluster_start >&2
rc=0
"$1" || rc=$?
exit $rc
