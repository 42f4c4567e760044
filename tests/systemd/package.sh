# The Debian package on a clean Debian 12 with real systemd: build tally_*.deb from this
# tree with dpkg-buildpackage, boot a debootstrap'd rootfs (PID 1 systemd in nspawn, no
# network but loopback), apt install the .deb, check the fresh install (users,
# directories, socket and timer active, runs skipped until input exists, no failed
# unit), put the example data in place, see a snapshot served and `man tallyd` render;
# then upgrade to a rebuilt package with a higher version under wrk load against
# tallyd.socket (no failed connection, the socket never restarted), remove (units
# stopped, data kept) and purge (configuration, state and units gone).
#
# The rootfs is debootstrapped once (minbase + the .deb's dependencies + man-db, curl,
# wrk) and cached in $TALLY_ROOTFS_CACHE (default: .cache/rootfs in the source tree,
# gitignored), keyed by suite, mirror and package list; each boot overlays a tmpfs, so the
# cache stays clean. Without a cache and without a reachable mirror the test is skipped.
# TALLY_DEBIAN_MIRROR overrides the mirror (default: the host's apt source, else
# deb.debian.org); TALLY_UPGRADE_LOAD_SECS the load's length (20).
# two package builds need room: scratch space in the build tree, not /tmp
export TMPDIR=${TALLY_PACKAGE_TMPDIR:-${TALLY_BUILD_ROOT:?run through meson test}}
source "$TALLY_SOURCE_ROOT/tests/systemd/common.sh" # lib.sh, nspawn.sh, pass, poll, unit_prop
for t in dpkg-buildpackage dh debootstrap; do
        command -v "$t" >/dev/null || { echo "SKIP: $t missing (tools/packages.txt)"; exit 77; }
done

# ---- the packages: this tree as committed or not (git's view, ignored files left out)
copy_tree() {
        mkdir -p "$1"
        if git -C "$TALLY_SOURCE_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
                git -C "$TALLY_SOURCE_ROOT" ls-files -z --cached --others --exclude-standard |
                        tar -C "$TALLY_SOURCE_ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null |
                        tar -C "$1" -xf -
        else
                tar -C "$TALLY_SOURCE_ROOT" --exclude='./build*' --exclude='./obj-*' \
                        --exclude=./.cache --exclude=./.git -cf - . | tar -C "$1" -xf -
        fi
}
# build_deb DIR: DIR/tally_VERSION_ARCH.deb from DIR/src, as debian/changelog says.
# The unit and docs suites run in this tree's own build; the package build skips them.
build_deb() {
        (cd "$1/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" nice dpkg-buildpackage -us -uc -b "${@:2}") \
                >>"$1/build.log" 2>&1 || { tail -n 40 "$1/build.log" >&2; return 1; }
}
V1=$(sed -n '1s/^tally (\([^)]*\)).*/\1/p' "$TALLY_SOURCE_ROOT/debian/changelog")
[[ -n $V1 ]] || fail "no version in debian/changelog"
V2=$V1+upgradetest1
t0=$SECONDS
copy_tree "$T/pkg/src"
build_deb "$T/pkg" || fail "dpkg-buildpackage failed"
DEB1=$(echo "$T"/pkg/tally_"$V1"_*.deb)
[[ -f $DEB1 ]] || fail "no $T/pkg/tally_${V1}_*.deb"
pass "built ${DEB1##*/} in $((SECONDS - t0))s"
# The upgrade's package: the same tree with a higher version in debian/changelog, packaged
# again by dpkg-buildpackage; -nc keeps the build (the binaries would come out the same),
# so only the binary stage runs again.
t0=$SECONDS
sed -i "1s/^tally ([^)]*)/tally ($V2)/" "$T/pkg/src/debian/changelog"
build_deb "$T/pkg" -nc || fail "dpkg-buildpackage of $V2 failed"
DEB2=$(echo "$T"/pkg/tally_"$V2"_*.deb)
[[ -f $DEB2 ]] || fail "no $T/pkg/tally_${V2}_*.deb"
[[ $(dpkg-deb -f "$DEB2" Version) == "$V2" ]] || fail "${DEB2##*/} is not version $V2"
pass "rebuilt as ${DEB2##*/} in $((SECONDS - t0))s"

# ---- the rootfs
suite=bookworm
mirror=${TALLY_DEBIAN_MIRROR:-}
# (a fresh Debian 12 from debootstrap has no debian.sources: sed's failure must not end the
# test under pipefail)
[[ -n $mirror ]] || mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\/\?\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
# what apt must find installed to install the .deb offline: its Depends and Recommends
# (first alternatives; apt installs recommends, as on a real host: libpq5), and what the
# test runs inside
deps=$(dpkg-deb -f "$DEB1" Depends Recommends | sed 's/^[A-Za-z-]*://' | tr ',' '\n' |
        sed 's/|.*//; s/(.*)//; s/ //g' | grep -v '^$')
pkgs=$(printf '%s\n' $deps systemd man-db curl wrk | sort -u | paste -sd, -)
cache=${TALLY_ROOTFS_CACHE:-$TALLY_SOURCE_ROOT/.cache/rootfs}
key=$(printf '%s|%s|%s' "$suite" "$mirror" "$pkgs" | sha1sum | cut -c1-12)
CT_ROOT=$cache/$suite-$key
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one builder at a time; a second test waits and reuses
if [[ ! -f $CT_ROOT/.complete ]] && ! curl -sf --max-time 10 -o /dev/null "$mirror/dists/$suite/Release"; then
        echo "SKIP: no cached rootfs and $mirror unreachable"
        exit 77
fi
if [[ ! -f $CT_ROOT/.complete ]]; then
        t0=$SECONDS
        rm -rf "$CT_ROOT.tmp"
        debootstrap --variant=minbase --include="$pkgs" "$suite" "$CT_ROOT.tmp" "$mirror" \
                </dev/null >"$cache/debootstrap.log" 2>&1 ||
                { tail -n 30 "$cache/debootstrap.log" >&2; rm -rf "$CT_ROOT.tmp"; fail "debootstrap failed"; }
        rm -f "$CT_ROOT.tmp"/var/cache/apt/archives/*.deb "$CT_ROOT.tmp/etc/hostname"
        : >"$CT_ROOT.tmp/etc/machine-id"
        touch "$CT_ROOT.tmp/.complete"
        mv "$CT_ROOT.tmp" "$CT_ROOT"
        pass "debootstrap $suite ($pkgs) in $((SECONDS - t0))s: $(du -sh "$CT_ROOT" | cut -f1)"
fi
flock -u 9
export CT_ROOT

ct_up
pass "booted a clean $suite rootfs"

# ---- fresh install
ct mkdir -p -m 0755 /srv/pkg # readable by apt's _apt user: no "unsandboxed" notice
ct tee "/srv/pkg/${DEB1##*/}" >/dev/null <"$DEB1"
ct env DEBIAN_FRONTEND=noninteractive apt-get install -y "/srv/pkg/${DEB1##*/}" \
        >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; ct_fail "apt install failed"; }
# quiet: no warning or error from apt, dpkg or a maintainer script
if grep -Ei 'warn|error|fail|denied' "$T/install.log"; then
        ct_fail "the install was not quiet (lines above)"
fi
pass "apt install ${DEB1##*/}: $(grep -c . "$T/install.log") lines, no warning"

ct getent passwd tally-worker >/dev/null || ct_fail "no user tally-worker"
ct getent passwd tallyd >/dev/null || ct_fail "no user tallyd"
[[ $(ct id -gn tallyd) == tally && $(ct id -gn tally-worker) == tally ]] || ct_fail "users not in group tally"
[[ $(ct stat -c '%a %U %G' /var/lib/tally/snapshots) == "2750 tally-worker tally" ]] ||
        ct_fail "snapshots dir: $(ct stat -c '%a %U %G' /var/lib/tally/snapshots)"
[[ $(ct stat -c '%a %U %G' /var/lib/tally/input) == "750 root tally" ]] ||
        ct_fail "input dir: $(ct stat -c '%a %U %G' /var/lib/tally/input)"
ct dpkg-query -W -f '${Conffiles}\n' tally | has '/etc/tally/tally.conf' || ct_fail "tally.conf is no conffile"
for u in tallyd.socket tally-worker.timer; do
        [[ $(ct systemctl is-enabled "$u") == enabled ]] || ct_fail "$u not enabled"
        [[ $(ct systemctl is-active "$u") == active ]] || ct_fail "$u not active"
done
[[ $(ct systemctl is-enabled tallyd.service) == disabled ]] || ct_fail "tallyd.service enabled: $(ct systemctl is-enabled tallyd.service)"
[[ $(ct systemctl is-active tallyd.service) == inactive ]] || ct_fail "tallyd.service started by the install, not by its socket"
pass "users, directories, conffile; tallyd.socket and tally-worker.timer enabled and active, tallyd.service waits for its socket"

# No input yet: a run is skipped with one clear line, the unit is not failed.
ct systemctl start tally-worker.service || ct_fail "a skipped run made systemctl start fail"
[[ $(unit_prop tally-worker.service ConditionResult) == no ]] || ct_fail "the run was not skipped"
ct systemctl is-failed --quiet tally-worker.service && ct_fail "tally-worker.service failed with no input"
skipped=$(ct journalctl -u tally-worker.service --no-pager -o cat | grep -c 'ConditionDirectoryNotEmpty=/var/lib/tally/input' || true)
((skipped >= 1)) || ct_fail "no journal line says why the run was skipped"
[[ -z $(ct systemctl list-units --failed --plain --no-legend) ]] ||
        ct_fail "failed units: $(ct systemctl list-units --failed --plain --no-legend)"
[[ -n $(unit_prop tally-worker.timer NextElapseUSecMonotonic) ]] || ct_fail "the timer has no next run"
pass "no input yet: run skipped ($(ct journalctl -u tally-worker.service --no-pager -o cat | grep -m1 ConditionDirectoryNotEmpty)), no failed unit"

# ---- the example data, the shipped configuration
ct tee /var/lib/tally/input/events-1.csv.tmp >/dev/null <"$TALLY_SOURCE_ROOT/examples/events.csv"
ct chgrp tally /var/lib/tally/input/events-1.csv.tmp
ct chmod 0640 /var/lib/tally/input/events-1.csv.tmp
ct mv /var/lib/tally/input/events-1.csv.tmp /var/lib/tally/input/events-1.csv
ct systemctl start tally-worker.service || ct_fail "worker run on the example data failed"
[[ $(unit_prop tally-worker.service Result) == success ]] || ct_fail "worker run: $(unit_prop tally-worker.service Result)"
view() { ct curl -sS --fail --max-time 5 http://127.0.0.1:8080/v1/views/sales; }
_served() { [[ $(view | json_get generation) -ge 1 ]]; }
poll 20 _served || ct_fail "no snapshot served through tallyd.socket"
GEN=$(view | json_get generation)
ROWS=$(view | json_get total_rows)
((ROWS > 0)) || ct_fail "view sales is empty"
[[ $(ct systemctl is-active tallyd.service) == active ]] || ct_fail "tallyd not started by its socket"
pass "snapshot generation $GEN served over HTTP (view sales: $ROWS rows), tallyd started by the socket"

man_text=$(ct env MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man tallyd 2>&1) || { echo "$man_text" >&2; ct_fail "man tallyd failed"; }
has -E '^ *tallyd .{1,3} serve' <<<"$man_text" || ct_fail "man tallyd: $(head -n 5 <<<"$man_text")"
for p in tally.conf.5 tally-worker.8; do
        ct env MAN_DISABLE_SECCOMP=1 man -w "${p%.*}" | has "$p" || ct_fail "man page $p not found"
done
pass "man tallyd renders ($(grep -c . <<<"$man_text") lines), tally.conf(5) and tally-worker(8) installed"

# ---- upgrade under load
ct tee "/srv/pkg/${DEB2##*/}" >/dev/null <"$DEB2"
pid1=$(unit_prop tallyd.service MainPID)
sock1=$(unit_prop tallyd.socket ActiveEnterTimestampMonotonic)
LOAD=${TALLY_UPGRADE_LOAD_SECS:-20}
CONNS=16
# tallyd.socket keeps the listening socket through the upgrade: no connection may be
# refused (connect errors), time out or get a non-2xx answer. tallyd drains on SIGTERM
# (a request in flight is answered with "Connection: close", wrk reconnects into the
# socket's backlog for the next tallyd), so no read error either; an old package without
# the drain can lose one in-flight request per connection: TALLY_UPGRADE_MAX_READ_ERRORS=16.
MAX_READ_ERRORS=${TALLY_UPGRADE_MAX_READ_ERRORS:-0}
ct wrk -t2 -c"$CONNS" -d"${LOAD}s" --timeout 5s http://127.0.0.1:8080/v1/views/sales >"$T/wrk.txt" 2>&1 &
wrk_pid=$!
_bg_pids+=("$wrk_pid")
# loaded: at least half of wrk's connections established to :8080 (0x1F90), server side
_loaded() { (($(ct cat /proc/net/tcp | awk '$2 ~ /:1F90$/ && $4 == "01"' | wc -l) >= 8)); }
poll 10 _loaded || { cat "$T/wrk.txt" >&2; ct_fail "wrk's connections never showed up"; }
t0=$SECONDS
ct env DEBIAN_FRONTEND=noninteractive apt-get install -y "/srv/pkg/${DEB2##*/}" \
        >"$T/upgrade.log" 2>&1 || { cat "$T/upgrade.log" >&2; ct_fail "apt upgrade failed"; }
up_secs=$((SECONDS - t0))
kill -0 "$wrk_pid" 2>/dev/null || ct_fail "the upgrade (${up_secs}s) outlasted the ${LOAD}s load; raise TALLY_UPGRADE_LOAD_SECS"
_restarted() { local p; p=$(unit_prop tallyd.service MainPID); [[ $p != 0 && $p != "$pid1" ]]; }
poll 20 _restarted || ct_fail "tallyd.service was not restarted by the upgrade"
wait "$wrk_pid" || { cat "$T/wrk.txt" >&2; ct_fail "wrk failed"; }
echo "--- wrk during the upgrade:"
cat "$T/wrk.txt"
errors=$(sed -n 's/^ *Socket errors: \(.*\)$/\1/p' "$T/wrk.txt")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)$/\1/p' "$T/wrk.txt")
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk.txt")
echo "upgrade under load: ${requests:-?} requests, socket errors: ${errors:-connect 0, read 0, write 0, timeout 0}, non-2xx: ${non2xx:-0}; apt took ${up_secs}s"
[[ -n $requests && $requests -gt 0 ]] || ct_fail "wrk made no request"
read_errors=0
if [[ -n $errors ]]; then
        [[ $errors =~ ^connect\ 0,\ read\ ([0-9]+),\ write\ 0,\ timeout\ 0$ ]] ||
                ct_fail "connections refused, broken or timed out during the upgrade: $errors"
        read_errors=${BASH_REMATCH[1]}
        ((read_errors <= MAX_READ_ERRORS)) ||
                ct_fail "$read_errors read errors during the upgrade (at most $MAX_READ_ERRORS: one in-flight request per connection)"
        echo "note: $read_errors read errors = keep-alive connections tallyd closed at SIGTERM with a request in flight (no connection refused)"
fi
[[ -z $non2xx ]] || ct_fail "$non2xx non-2xx answers during the upgrade"
[[ $(ct dpkg-query -W -f '${Version}' tally) == "$V2" ]] || ct_fail "not upgraded to $V2"
[[ $(unit_prop tallyd.socket ActiveEnterTimestampMonotonic) == "$sock1" ]] || ct_fail "the upgrade restarted tallyd.socket"
[[ $(view | json_get generation) -ge $GEN ]] || ct_fail "the upgrade lost the snapshots"
pass "upgrade $V1 -> $V2 under load: tallyd restarted (pid $pid1 -> $(unit_prop tallyd.service MainPID)), socket kept, 0 refused connections, $read_errors read errors"

# ---- remove, then purge
ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y tally >"$T/remove.log" 2>&1 ||
        { cat "$T/remove.log" >&2; ct_fail "apt remove failed"; }
for u in tallyd.socket tallyd.service tally-worker.timer tally-worker.service; do
        [[ $(ct systemctl is-active "$u") != active ]] || ct_fail "$u still active after apt remove"
done
ct test -f /etc/tally/tally.conf || ct_fail "apt remove removed the configuration"
ct test -d /var/lib/tally/snapshots || ct_fail "apt remove removed the state"
pass "apt remove: units stopped, configuration and state kept"
ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y tally >"$T/purge.log" 2>&1 ||
        { cat "$T/purge.log" >&2; ct_fail "apt purge failed"; }
for d in /etc/tally /var/lib/tally; do
        ct test ! -e "$d" || ct_fail "$d left after purge"
done
left=$(ct find /etc/systemd/system /lib/systemd/system /usr/lib/systemd/system -name 'tally*' 2>/dev/null || true)
[[ -z $left ]] || ct_fail "unit files or links left after purge: $left"
ct systemctl daemon-reload
for u in tallyd.socket tallyd.service tally-worker.timer tally-worker.service; do
        [[ $(ct systemctl show -P LoadState "$u") == not-found ]] || ct_fail "$u still known after purge"
done
pass "apt purge: units gone, /etc/tally and /var/lib/tally removed"
