#!/bin/bash
# Runs one libFuzzer target for a bounded time from its seed corpus.
#   run-fuzz.sh FUZZER FUZZ_SOURCE_DIR NAME
# TALLY_FUZZ_SECONDS (or FUZZ_SECONDS; default 60) bounds the run. New inputs go to a
# scratch directory, never into the repo's seeds. On a crash or leak the input is copied to
# $FUZZ_ARTIFACT_DIR (default $TALLY_BUILD_ROOT/fuzz-artifacts/NAME) and the run fails:
# add that file to tests/fuzz/regressions/NAME/ once the bug is understood.
set -uo pipefail

fuzzer=$1 src=$2 name=$3
secs=${TALLY_FUZZ_SECONDS:-${FUZZ_SECONDS:-60}}
artifacts=${FUZZ_ARTIFACT_DIR:-${TALLY_BUILD_ROOT:-.}/fuzz-artifacts/$name}
work=$(mktemp -d "${TMPDIR:-/tmp}/tally-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"

args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024
      -print_final_stats=1 -artifact_prefix="$work/artifacts/")
[[ -f $src/dict/$name.dict ]] && args+=(-dict="$src/dict/$name.dict")
seeds=("$src/corpus/$name")
[[ -d $src/regressions/$name ]] && seeds+=("$src/regressions/$name")

# ASAN_OPTIONS from the test environment say abort_on_error; libFuzzer wants to catch
# the report itself and save the input, so let it exit normally instead.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$fuzzer" "${args[@]}" "$work/corpus" "${seeds[@]}"
rc=$?
if compgen -G "$work/artifacts/*" >/dev/null; then
        mkdir -p "$artifacts"
        cp "$work/artifacts/"* "$artifacts/"
        echo "FAIL: $name: crashing inputs saved in $artifacts:" >&2
        ls -l "$artifacts" >&2
        exit 1
fi
if ((rc != 0)); then
        echo "FAIL: $name: fuzzer exited with $rc" >&2
        exit 1
fi
echo "ok: $name fuzzed for ${secs}s, $(ls "$work/corpus" | wc -l) new corpus entries"
