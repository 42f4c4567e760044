#!/bin/bash
# Compares what the snapshot readers of two trees say about the same inputs, for changes
# to the readers meant to keep their behaviour (every outcome and every message).
#   tests/fuzz/compare-outcomes.sh OLD_REV [DIR...]
# Builds outcomes.c against OLD_REV (git archive into a scratch dir, its own meson build)
# and against this tree's build ($BUILD, default build/), then judges with both: the seed
# corpus, structural variants of the payload seeds (structural.py), every single-byte
# mutation of them (outcomes.c --mutate), and every file under each DIR (say a corpus a
# fuzzing run grew). Prints the differing lines; exit 0 when there are none, 1 otherwise.
set -euo pipefail
(($# >= 1)) || { echo "usage: $0 OLD_REV [DIR...]" >&2; exit 64; }
rev=$1; shift
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${BUILD:-$src/build}" && pwd)
w=$(mktemp -d "${TMPDIR:-/tmp}/tally-outcomes.XXXXXX")
trap 'rm -rf "$w"' EXIT
seeds=$src/tests/fuzz/corpus/snapshot

mkdir "$w/old" "$w/struct"
git -C "$src" archive "$rev" | tar -x -C "$w/old"
meson setup "$w/old/build" "$w/old" -Dbuildtype=debugoptimized >/dev/null
ninja -C "$w/old/build" common/libtally-common.a >/dev/null
ninja -C "$build" common/libtally-common.a >/dev/null
for side in old new; do
        if [[ $side == old ]]; then t=$w/old b=$w/old/build; else t=$src b=$build; fi
        cc -O1 -g -I"$t/common" -I"$b" -o "$w/outcomes-$side" "$src/tests/fuzz/outcomes.c" \
                "$b/common/libtally-common.a" -lmsgpackc -lxxhash -lm
done
python3 "$src/tests/fuzz/structural.py" "$w/struct" "$seeds"/*-payload
status=0
judge() { # NAME ARGS...: both sides over the same inputs
        local name=$1; shift
        for side in old new; do
                "$w/outcomes-$side" "$@" > "$w/$name.$side"
        done
        if diff "$w/$name.old" "$w/$name.new"; then
                echo "$name: $(wc -l < "$w/$name.new") inputs, same outcomes and messages"
        else
                status=1
        fi
}
judge seeds "$seeds"/*
judge mutations --mutate "$seeds"/*-payload
mapfile -d '' files < <(find "$w/struct" "$@" -type f -print0 | sort -z)
for ((i = 0; i < ${#files[@]}; i += 500)); do
        judge "files-$i" "${files[@]:i:500}"
done
exit $status
