#!/usr/bin/env bash
# Disk full: the snapshot directory on a tiny tmpfs. With the space (or the inodes) used
# up, the worker must fail with a clear error and a non-zero exit, leave no temp file,
# and leave the previous snapshot intact -- and tallyd must keep serving it. Once space
# is back, the next run publishes and tallyd moves on. Needs root (mount); skips otherwise.
source "$TALLY_SOURCE_ROOT/tests/lib.sh"
source "$TALLY_SOURCE_ROOT/tests/fault/faultlib.sh"

mnt=$T/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=32m,nr_inodes=64,mode=0755 tally-fault "$mnt" 2>/dev/null ||
        skip "cannot mount a tmpfs (needs root / CAP_SYS_ADMIN)"
_fault_cleanup() {
        local p
        for p in "${_bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${_bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
        umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
        _cleanup
}
trap _fault_cleanup EXIT

port=$(free_port)
base=http://127.0.0.1:$port
"$TALLY_GEN" --rows 200 --seed 2 >"$T/small.csv"
"$TALLY_GEN" --rows 40000 --users 50000 --seed 3 >"$T/big.csv"
write_config "$T/small.csv" "$port"
sed -i "s#^snapshot_dir = .*#snapshot_dir = $mnt/snap#" "$T/tally.conf"
mkdir -p "$mnt/snap"
sed -e "s#$T/small.csv#$T/big.csv#" -e 's/^group_by = .*/group_by = region, product, user_id/' \
        "$T/tally.conf" >"$T/big.conf"

"$TALLY_WORKER" --config "$T/tally.conf" 2>"$T/worker.log" || fail "first (small) run failed"
start_tallyd "$T/tallyd.log"
wait_for 10 curl -sf "$base/v1/views/sales" || fail "tallyd did not serve the first snapshot"
curl -sS --max-time 2 "$base/v1/views/sales" >"$T/good.json"
good=$("$SNAPCHECK" "$mnt/snap") || fail "first snapshot invalid: $good"

# expect_clean_failure WHAT: the big run fails cleanly and nothing changes.
expect_clean_failure() {
        local what=$1 rc=0 state
        "$TALLY_WORKER" --config "$T/big.conf" 2>"$T/fail.log" || rc=$?
        ((rc != 0)) || fail "$what: worker exited 0 on a full disk"
        ((rc < 128)) || fail "$what: worker died of signal $((rc - 128))"
        grep -qiE "no space left|ENOSPC" "$T/fail.log" ||
                { cat "$T/fail.log"; fail "$what: no clear error message"; }
        state=$("$SNAPCHECK" "$mnt/snap") || fail "$what: snapshot broken: $state"
        [[ $state == "$good" ]] || fail "$what: directory changed: $state (was $good)"
        [[ $(served_gen "$base") == 1 ]] || fail "$what: tallyd no longer serves generation 1"
        curl -sS --max-time 2 "$base/v1/views/sales" | cmp -s - "$T/good.json" ||
                fail "$what: served content changed"
        pass "$what: exit $rc, '$(grep -iE 'no space left|ENOSPC' "$T/fail.log" | head -1 | cut -c1-120)'"
}

# Leave only N bytes free with a filler file (tmpfs counts whole pages).
avail=$(($(stat -f -c '%a*%S' "$mnt")))
snap_bytes=$(stat -c %s "$mnt"/snap/snapshot-*.msgpack)
for free in 0 4096 65536 1000000; do
        rm -f "$mnt/filler"
        head -c $((avail - free)) /dev/zero >"$mnt/filler" 2>/dev/null || true
        expect_clean_failure "disk full with $free bytes free"
done
rm -f "$mnt/filler"

# Inodes used up: the temp file cannot even be created.
i=0
while touch "$mnt/inode.$i" 2>/dev/null && ((i < 100)); do i=$((i + 1)); done
expect_clean_failure "no inodes left ($i files made)"
rm -f "$mnt"/inode.*

"$TALLY_WORKER" --config "$T/big.conf" 2>"$T/ok.log" || { cat "$T/ok.log"; fail "run with space back failed"; }
state=$("$SNAPCHECK" "$mnt/snap") || fail "new snapshot invalid: $state"
wait_for 10 bash -c "[[ \$(curl -sS -o /dev/null -D - '$base/v1/snapshot' | tr -d '\r' | awk -F': ' 'tolower(\$1)==\"x-tally-generation\"{print \$2}') == 2 ]]" ||
        fail "tallyd did not move to generation 2"
kill -0 "$TALLYD_PID" || fail "tallyd died"
pass "space back: generation 2 published ($state) and served; first snapshot was $snap_bytes bytes"
