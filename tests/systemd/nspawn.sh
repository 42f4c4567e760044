# Real systemd for the "systemd" suite: boots the host's systemd as PID 1 of a
# systemd-nspawn container and runs commands in it with nsenter. Source it after
# tests/lib.sh. Needs root and systemd-nspawn (Debian: systemd-container); no systemd on
# the host, no machined, no D-Bus, no download.
#
# The container is the host's own /usr, read-only, with an empty tmpfs for / (nspawn
# --volatile=yes). tally is put in as `meson install` would put it: the build is installed
# into a staging directory, and the staged /usr is laid over the host's /usr as an overlay
# (writes inside the container go to the staging dir, never to the host).
#
#   ct_install          meson install --destdir into $T/stage (sets CT_STAGE)
#   ct_up               boot; run the post-install steps (sysusers, tmpfiles, catalog)
#   ct X...             run X inside (systemctl/journalctl talk to the container's systemd)
#   ct_wait SECS X...   run X inside until it succeeds or the deadline passes
#   ct_down             poweroff (SIGKILL fallback), remove our cgroups; trap-installed
#   ct_fail MSG         print the container's journal and fail
#
# CT_NAME (machine name) defaults to one per test process so tests run side by side.
# CT_ROOT: boot that directory (a Debian rootfs) instead, with a tmpfs over it
# (--volatile=overlay: every boot starts from it clean); nothing is staged or set up, the
# test installs tally itself (tests/systemd/package.sh).

CT_NAME=${CT_NAME:-tally-$$}
CT_STATE=$T/ct
CT_STAGE=$T/stage
CT_BOOT_TIMEOUT=${CT_BOOT_TIMEOUT:-60}
_ct_nspawn=
_ct_leader=

ct_skip_unless_possible() {
        [[ $EUID -eq 0 ]] || { echo "SKIP: the systemd suite needs root"; exit 77; }
        command -v systemd-nspawn >/dev/null ||
                { echo "SKIP: systemd-nspawn missing (apt-get install systemd-container)"; exit 77; }
        command -v nsenter >/dev/null || { echo "SKIP: nsenter missing"; exit 77; }
}

# Installs the build tree the way an operator would, into the staging directory. Merged
# /usr inside the container: anything staged under /lib (Debian's systemd.pc says
# /lib/systemd/system for --prefix=/usr) moves to /usr/lib.
ct_install() {
        rm -rf "${CT_STAGE:?}"
        meson install -C "$TALLY_BUILD_ROOT" --no-rebuild --quiet --destdir "$CT_STAGE" >"$T/install.log" 2>&1 ||
                { cat "$T/install.log" >&2; fail "meson install failed"; }
        mkdir -p "$CT_STAGE/usr"
        if [[ -d $CT_STAGE/lib ]]; then
                cp -a "$CT_STAGE/lib/." "$CT_STAGE/usr/lib/"
                rm -rf "${CT_STAGE:?}/lib"
        fi
        CT_UNITDIR=$(dirname "$(find "$CT_STAGE" -name tallyd.service -print -quit)")
        [[ -d $CT_UNITDIR && $CT_UNITDIR != . ]] || fail "meson install put no unit files in $CT_STAGE"
        CT_UNITDIR=${CT_UNITDIR#"$CT_STAGE"}
        # the installed config path, as the units pass it
        CT_CONF=$(sed -n 's/^ExecStart=.* --config \([^ ]*\).*/\1/p' "$CT_STAGE$CT_UNITDIR/tallyd.service")
        [[ -n $CT_CONF ]] || fail "tallyd.service has no --config"
}

# Host-side cgroups for nspawn when the host has no systemd to hand out a scope: one tree
# per container in each hierarchy, so teardown finds every process it must kill.
_ct_cgroups() {
        [[ -d /run/systemd/system ]] && return 0
        if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
                echo "/sys/fs/cgroup/tally-test-$CT_NAME"
                return 0
        fi
        local h
        for h in systemd unified; do
                mountpoint -q "/sys/fs/cgroup/$h" && echo "/sys/fs/cgroup/$h/tally-test-$CT_NAME"
        done
        return 0
}

_ct_cgroup_pids() {
        local d
        for d in $(_ct_cgroups); do
                [[ -d $d ]] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
        done | sort -un
}

# The container's PID 1, as the host sees it: the nspawn child whose innermost pid is 1.
_ct_find_leader() {
        local c
        [[ -n $_ct_nspawn ]] || return 1
        for c in $(cat /proc/"$_ct_nspawn"/task/*/children 2>/dev/null); do
                if [[ $(awk '/^NSpid:/ { print $NF }' "/proc/$c/status" 2>/dev/null) == 1 ]]; then
                        _ct_leader=$c
                        return 0
                fi
        done
        return 1
}

ct() {
        [[ -n $_ct_leader ]] || fail "container not running"
        nsenter -t "$_ct_leader" -a -- env SYSTEMD_PAGER=cat PAGER=cat SYSTEMD_COLORS=0 "$@"
}

ct_wait() {
        local deadline=$((SECONDS + $1))
        shift
        until ct "$@" >/dev/null 2>&1; do
                ((SECONDS < deadline)) || return 1
                sleep 0.1
        done
}

ct_up() {
        local d state=
        mkdir -p "$CT_STATE"
        # An empty /etc means first boot: presets would enable every unit the host has
        # installed, and firstboot would ask questions. Enable nothing, ask nothing.
        printf 'disable *\n' >"$CT_STATE/00-tally-test.preset"
        local args=(--quiet --machine="$CT_NAME" --boot --register=no --console=read-only
                --private-network)
        if [[ -n ${CT_ROOT:-} ]]; then
                # a real Debian: its own presets, which deb-systemd-helper follows
                args+=(--directory="$CT_ROOT" --volatile=overlay)
        else
                args+=(--directory=/ --volatile=yes
                        --bind-ro="$CT_STATE/00-tally-test.preset:/etc/systemd/system-preset/00-tally-test.preset")
                [[ -d $CT_STAGE/usr ]] && args+=(--overlay="/usr:$CT_STAGE/usr:/usr")
        fi
        if [[ ! -d /run/systemd/system ]]; then
                # no systemd on the host: nspawn must not ask for a scope; give the
                # container a pure cgroup2 tree and bpf() so IP and device rules work
                args+=(--keep-unit --system-call-filter=bpf)
                export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
        fi
        for d in $(_ct_cgroups); do mkdir -p "$d"; done
        # setsid + own stdio + closed fds: the container must not hold the test's pipes.
        # The launcher joins our cgroups first, so nspawn and everything below lands there.
        setsid bash -c '
                for d in $1; do echo $$ >"$d/cgroup.procs"; done
                for fd in /proc/$$/fd/*; do
                        fd=${fd##*/}
                        if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
                done
                shift
                exec systemd-nspawn "$@" systemd.firstboot=off' \
                ct-launch "$(_ct_cgroups)" "${args[@]}" </dev/null >"$CT_STATE/console.log" 2>&1 &
        _ct_nspawn=$!
        local deadline=$((SECONDS + CT_BOOT_TIMEOUT))
        until _ct_find_leader; do
                kill -0 "$_ct_nspawn" 2>/dev/null || { cat "$CT_STATE/console.log" >&2; fail "nspawn exited"; }
                ((SECONDS < deadline)) || fail "no container PID 1 after ${CT_BOOT_TIMEOUT}s"
                sleep 0.1
        done
        until [[ $state == running || $state == degraded ]]; do
                ((SECONDS < deadline)) || { tail -n 40 "$CT_STATE/console.log" >&2; fail "boot did not finish (state '$state')"; }
                kill -0 "$_ct_nspawn" 2>/dev/null || { cat "$CT_STATE/console.log" >&2; fail "nspawn exited during boot"; }
                sleep 0.1
                state=$(ct systemctl is-system-running 2>/dev/null) || true
        done
        [[ -z ${CT_ROOT:-} ]] || return 0
        # What a package's postinst does after `meson install`.
        if [[ -d $CT_STAGE/etc ]]; then
                tar -C "$CT_STAGE/etc" -cf - . | ct tar -C /etc -xf - --no-same-owner
        fi
        ct systemd-sysusers tally.conf
        ct systemd-tmpfiles --create tally.conf
        ct journalctl --update-catalog
        ct systemctl daemon-reload
}

ct_down() {
        local i p pids
        [[ -n $_ct_nspawn ]] || return 0
        if _ct_find_leader; then
                ct systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$_ct_nspawn" 2>/dev/null || true
        fi
        for ((i = 0; i < 200; i++)); do
                kill -0 "$_ct_nspawn" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$_ct_nspawn" 2>/dev/null; then
                echo "ct_down: clean poweroff timed out, killing" >&2
                # SIGKILL of the container's PID 1 ends its whole PID namespace
                [[ -n $_ct_leader ]] && kill -KILL "$_ct_leader" 2>/dev/null
                kill -KILL "$_ct_nspawn" 2>/dev/null
        fi
        wait "$_ct_nspawn" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
                pids=$(_ct_cgroup_pids)
                [[ -z $pids ]] && break
                for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
                sleep 0.1
        done
        for p in $(_ct_cgroups); do
                [[ -d $p ]] && find "$p" -depth -type d -exec rmdir {} \; 2>/dev/null
                [[ -d $p ]] && echo "ct_down: could not remove cgroup $p" >&2
        done
        _ct_nspawn=
        _ct_leader=
        return 0
}

ct_fail() {
        if [[ -n $_ct_leader ]]; then
                echo "--- container journal (last 80 lines)" >&2
                ct journalctl --no-pager -n 80 -o short-monotonic >&2 || true
        fi
        fail "$@"
}

# Tear the container down on any exit, then run lib.sh's own cleanup.
trap 'ct_down; _cleanup' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
