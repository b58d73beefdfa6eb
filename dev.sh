#!/usr/bin/env bash
# The README's two commands:
#   ./dev.sh run    install what is missing, build, run berthd in the foreground on units/
#   ./dev.sh test   install what is missing, build twice (plain with gcc, ASan+UBSan with
#                   clang), run every test
# Both are idempotent. As root they install missing Debian packages with apt-get; otherwise
# they print the exact apt-get line and stop.
set -euo pipefail

cd "$(dirname "$0")"
top=$(pwd)

build_packages=(gcc meson ninja-build pkg-config libsystemd-dev libinih-dev check scdoc)
# What the example units in units/ run.
example_packages=(python3 python3-systemd lighttpd gunicorn)
# systemd: only for systemd-socket-activate, the peer the handoff tests compare against.
# uuid-runtime, cups-daemon, mpd, uwsgi-core: Debian's own units run as shipped
# (real-units.py); openssh-server, openssh-client: ssh.socket as shipped, read with
# ssh-keyscan (ssh-socket.py); dbus-daemon: a private bus for Type=dbus (dbus-type.py);
# micro-httpd, gophernicus: Accept=yes units as shipped (accept-debian.py); nginx-light,
# redis-server, memcached: programs that bind their own sockets, under BindShim=yes
# (bind-shim-real.py); zsh, fish: berthctl's completions load and complete in them
# (completion.py); build-essential, dpkg-dev, debhelper, fakeroot, lintian, bash-completion:
# the Debian package built, checked, installed and purged (tests/packaging/deb.py).
test_packages=(iproute2 util-linux procps curl systemd clang libclang-rt-14-dev
               uuid-runtime cups-daemon mpd uwsgi-core dbus-daemon openssh-server
               openssh-client micro-httpd gophernicus nginx-light redis-server memcached
               zsh fish build-essential dpkg-dev debhelper fakeroot lintian bash-completion)

missing_packages() {
        local p
        for p in "$@"; do
                if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
                        printf '%s\n' "$p"
                fi
        done
}

# How long to wait for another apt or dpkg (unattended-upgrades, a second shell) to finish.
apt_lock_wait=300
apt_locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock
           /var/cache/apt/archives/lock)

# The pid holding one of apt's or dpkg's locks (fcntl locks, so flock(1) cannot see them:
# /proc/locks names each lock by device and inode), or nothing.
apt_lock_holder() {
        local f ino pid
        for f in "${apt_locks[@]}"; do
                ino=$(stat -c %i "$f" 2>/dev/null) || continue
                pid=$(awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino) { print $5; exit } }' \
                        /proc/locks)
                if [ -n "$pid" ] && [ "$pid" != "$$" ]; then
                        printf '%s %s\n' "$pid" "$f"
                        return 0
                fi
        done
        return 1
}

# Waits, at most apt_lock_wait seconds, until no other process holds apt's or dpkg's locks;
# says once who holds them. Dies when they are still held at the end.
wait_for_apt_lock() {
        local holder said='' waited=0
        while holder=$(apt_lock_holder); do
                if [ -z "$said" ]; then
                        echo ">>> waiting (up to ${apt_lock_wait}s) for another apt/dpkg to finish:" \
                                "pid ${holder% *} holds ${holder#* }:" \
                                "$(ps -o args= -p "${holder% *}" 2>/dev/null || echo '?')"
                        said=1
                fi
                if [ "$waited" -ge "$apt_lock_wait" ]; then
                        echo "apt/dpkg is still busy after ${apt_lock_wait}s (pid ${holder% *});" \
                                "run this again when it is done" >&2
                        exit 1
                fi
                sleep 2
                waited=$((waited + 2))
        done
        [ -n "$said" ] && echo ">>> apt/dpkg is free after ${waited}s"
        return 0
}

ensure_packages() {
        local missing
        missing=$(missing_packages "$@" | tr '\n' ' ')
        missing=${missing% }
        [ -z "$missing" ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                echo "berth needs these Debian packages: $missing" >&2
                echo "Install them as root, then run this again:" >&2
                echo "  apt-get install -y --no-install-recommends $missing" >&2
                exit 1
        fi
        echo ">>> apt-get install $missing"
        export DEBIAN_FRONTEND=noninteractive
        # The packages' scripts must start no daemon on this machine (sshd, cupsd, mpd...):
        # invoke-rc.d and deb-systemd-invoke ask policy-rc.d, and 101 means "not allowed". One
        # already there is left as it is; ours goes right after the install, or by the trap
        # when the install fails or is interrupted.
        local own_policy=
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\n# dev.sh: no daemon starts while it installs packages\nexit 101\n' \
                        >/usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
                own_policy=1
                trap 'rm -f /usr/sbin/policy-rc.d' EXIT
        fi
        wait_for_apt_lock
        apt-get -o DPkg::Lock::Timeout=$apt_lock_wait update -qq
        wait_for_apt_lock
        # shellcheck disable=SC2086
        apt-get -o DPkg::Lock::Timeout=$apt_lock_wait install -y -qq --no-install-recommends \
                $missing
        if [ -n "$own_policy" ]; then
                rm -f /usr/sbin/policy-rc.d
                trap - EXIT
        fi
}

# build DIR [meson options...]; CC in the environment picks the compiler of a new DIR.
build() {
        local dir=$1
        shift
        local werror=()
        [ "${CI:-}" = "true" ] && werror=(-Dwerror=true)
        if [ ! -f "$dir/build.ninja" ]; then
                echo ">>> meson setup $dir $*"
                meson setup "$dir" "${werror[@]}" "$@" >/dev/null
        else
                meson configure "$dir" "${werror[@]}" "$@" >/dev/null
        fi
        # ninja prints a line per step ([12/186] Compiling ...): progress, not minutes of
        # silence. Only its errors go to stderr.
        echo ">>> ninja -C $dir"
        ninja -C "$dir"
}

cmd_run() {
        ensure_packages "${build_packages[@]}" "${example_packages[@]}"
        build build
        echo ">>> build/berthd --units units --runtime-dir /tmp/berth-example (Ctrl-C stops it)"
        echo ">>> berthctl for this berthd, in another terminal:"
        echo "      build/berthctl --runtime-dir /tmp/berth-example status"
        echo "    or, for every berthctl command of that shell:"
        echo "      export BERTH_RUNTIME_DIR=/tmp/berth-example PATH=$top/build:\$PATH"
        mkdir -p /tmp/berth-example
        export PATH="$top/build/units:$PATH"
        exec build/berthd --units units --runtime-dir /tmp/berth-example
}

# run_suite DIR: runs meson test in DIR, prints failures, leaves counts in the testlog.
run_suite() {
        local dir=$1
        echo ">>> meson test -C $dir"
        meson test -C "$dir" --print-errorlogs --num-processes 2 || true
}

count_results() {
        /usr/bin/python3 - "$@" <<'EOF'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        print(f"missing test log {path}: the suite did not run", file=sys.stderr)
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r == "OK":
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
EOF
}

cmd_test() {
        ensure_packages "${build_packages[@]}" "${example_packages[@]}" "${test_packages[@]}"
        rm -f build/meson-logs/testlog.json build-sanitize-clang/meson-logs/testlog.json
        local status=0
        # gcc for the plain build, clang for the sanitizers: each compiler's warnings and
        # clang's stricter UBSan both stay green.
        build build || status=1
        CC=clang build build-sanitize-clang -Db_sanitize=address,undefined -Db_lundef=false ||
                status=1
        if [ $status -ne 0 ]; then
                echo "build failed"
                echo "0 passed, 1 failed"
                exit 1
        fi
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
        export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        run_suite build
        run_suite build-sanitize-clang
        count_results build/meson-logs/testlog.json build-sanitize-clang/meson-logs/testlog.json
}

case "${1:-}" in
run) cmd_run ;;
test) cmd_test ;;
*)
        echo "usage: ./dev.sh run | test" >&2
        exit 2
        ;;
esac
