#!/bin/bash
# Fetches the Debian guest kernel vtvisor's system tests boot, and builds the
# busybox initramfs they boot it with.
#
#   tools/get-guest-linux.sh [--shell] [CACHE_DIR]
#
# CACHE_DIR defaults to $VTVISOR_CACHE, then /var/cache/vtvisor.  It ends up
# holding:
#   vmlinuz               the bzImage of linux-image-cloud-amd64's kernel
#   kernel-version        its release string (what `uname -r` prints)
#   kernel-package        the versioned package name and version it came from
#   linux-image/          the package unpacked (boot/, lib/modules/, with a
#                         modules.dep this script makes with depmod)
#   initramfs.cpio.gz     /init prints its lines, loads the virtio modules
#                         when the machine has virtio devices, runs the tests
#                         vtvisor.test= names, and powers off
#   initramfs-shell.cpio.gz  (with --shell or VTVISOR_INIT_SHELL=1) the same,
#                         but /init then runs a shell on
#                         the serial console and powers off when it exits
#                         (its /etc/profile makes poweroff and halt exit it)
#
# Both images hold the kernel's virtio modules (MODULES below and what they
# need by modules.dep) under /lib/modules/<release>/, with
# vtvisor-load-order: their paths there in the order to insmod them.
#
# Runs as root, non-interactively (Debian 12).  Idempotent: a kernel already
# in the cache is reused without any download; the initramfs is rebuilt only
# when its inputs (the files in tests/system/initramfs/, busybox, the
# kernel, this script) are newer.
# The init script is tests/system/initramfs/init.
set -euo pipefail

PROG=get-guest-linux
REPO=$(cd "$(dirname "$0")/.." && pwd)
INIT_DIR=$REPO/tests/system/initramfs
META_PKG=linux-image-cloud-amd64
# The virtio modules the guest loads (module names; what they depend on
# comes from modules.dep).  Modules the kernel has built in are skipped.
MODULES=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
        virtio_blk failover net_failover virtio_net virtio-rng)

say() { echo "$PROG: $*"; }
TMP_DIRS=()
cleanup() {
        if [ "${#TMP_DIRS[@]}" -gt 0 ]; then
                rm -rf "${TMP_DIRS[@]}"
        fi
}
trap cleanup EXIT
die() {
        echo "$PROG: error: $*" >&2
        exit 1
}

usage() {
        echo "usage: $0 [--shell] [CACHE_DIR]" >&2
        exit 2
}

shell_image=${VTVISOR_INIT_SHELL:-0}
cache=""
for arg in "$@"; do
        case "$arg" in
        --shell) shell_image=1 ;;
        -h | --help) usage ;;
        -*) usage ;;
        *)
                [ -z "$cache" ] || usage
                cache=$arg
                ;;
        esac
done
cache=${cache:-${VTVISOR_CACHE:-/var/cache/vtvisor}}

export DEBIAN_FRONTEND=noninteractive
# apt-get download as root otherwise warns that its sandbox user cannot
# write into the cache directory.
APT_OPTS=(-q -o APT::Sandbox::User=root)

apt_updated=0
apt_update_once() {
        if [ "$apt_updated" = 0 ]; then
                say "running apt-get update"
                apt-get "${APT_OPTS[@]}" update >/dev/null ||
                        die "apt-get update failed (no network to the Debian mirror?)"
                apt_updated=1
        fi
}

need_root() {
        [ "$(id -u)" -eq 0 ] || die "$1 needs root (run as root)"
}

installed() {
        [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# Installs Debian packages that are missing (for the host tools this script
# itself runs).
ensure_pkgs() {
        local missing="" p
        for p in "$@"; do
                installed "$p" || missing="$missing $p"
        done
        [ -n "$missing" ] || return 0
        need_root "installing$missing"
        apt_update_once
        say "installing$missing"
        # shellcheck disable=SC2086 # the list is meant to split
        apt-get "${APT_OPTS[@]}" install -y --no-install-recommends $missing >/dev/null ||
                die "apt-get install$missing failed"
}

# The package linux-image-cloud-amd64 depends on: linux-image-6.1.0-N-cloud-amd64.
versioned_pkg() {
        apt-cache depends "$META_PKG" 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-6\.1[.0-9-]*-cloud-amd64\)$/\1/p' | head -n 1
}

# download DIR PKG: fetches PKG's .deb into the empty directory DIR and sets
# DEB to its path.
download() {
        local dir=$1 pkg=$2
        say "apt-get download $pkg"
        if ! (cd "$dir" && apt-get "${APT_OPTS[@]}" download "$pkg" >/dev/null); then
                # Stale package lists name versions the mirror has dropped.
                if [ "$apt_updated" = 0 ]; then
                        apt_update_once
                        say "apt-get download $pkg (after apt-get update)"
                        (cd "$dir" && apt-get "${APT_OPTS[@]}" download "$pkg" >/dev/null) ||
                                die "apt-get download $pkg failed (no network to the Debian mirror?)"
                else
                        die "apt-get download $pkg failed (no network to the Debian mirror?)"
                fi
        fi
        local found=("$dir"/"${pkg}"_*.deb)
        [ -f "${found[0]}" ] || die "apt-get download $pkg left no ${pkg}_*.deb in $dir"
        DEB=${found[0]}
}

get_kernel() {
        if [ -s "$cache/vmlinuz" ] && [ -s "$cache/kernel-version" ]; then
                say "kernel: reusing $cache/vmlinuz ($(cat "$cache/kernel-version")), no download"
                return
        fi
        local pkg
        pkg=$(versioned_pkg)
        if [ -z "$pkg" ]; then
                apt_update_once
                pkg=$(versioned_pkg)
        fi
        [ -n "$pkg" ] || die "apt-cache depends $META_PKG names no linux-image-6.1.*-cloud-amd64 package"
        say "kernel package: $META_PKG -> $pkg"

        local debs=$cache/debs
        rm -rf "$debs" "$cache/linux-image"
        mkdir -p "$debs" "$cache/linux-image"
        local meta_deb image_deb
        download "$debs" "$META_PKG"
        meta_deb=$DEB
        download "$debs" "$pkg"
        image_deb=$DEB
        say "unpacking ${meta_deb##*/} and ${image_deb##*/} into $cache/linux-image"
        dpkg -x "$meta_deb" "$cache/linux-image"
        dpkg -x "$image_deb" "$cache/linux-image"

        local images=("$cache"/linux-image/boot/vmlinuz-*)
        if [ "${#images[@]}" -ne 1 ] || [ ! -f "${images[0]}" ]; then
                die "expected one boot/vmlinuz-* in ${image_deb##*/}, found: ${images[*]}"
        fi
        local version=${images[0]##*/vmlinuz-}
        cp "${images[0]}" "$cache/vmlinuz.tmp"
        mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
        echo "$version" >"$cache/kernel-version"
        echo "$pkg $(dpkg-deb -f "$image_deb" Version)" >"$cache/kernel-package"
        rm -rf "$debs"
        say "kernel: $cache/vmlinuz ($version, $(stat -c %s "$cache/vmlinuz") bytes)"
}

# Sets BUSYBOX to a static busybox: the installed busybox-static's, else
# that package installed with apt-get.  busybox-static conflicts with
# Debian's dynamic busybox, which initramfs-tools needs on the host, so on a
# host with that one the package is unpacked into the cache instead.
find_busybox() {
        if installed busybox-static && [ -x /bin/busybox ]; then
                BUSYBOX=/bin/busybox
                return
        fi
        if ! installed busybox; then
                ensure_pkgs busybox-static
                BUSYBOX=/bin/busybox
                return
        fi
        local dir=$cache/busybox-static
        if [ ! -x "$dir/bin/busybox" ]; then
                say "the host has Debian's dynamic busybox: unpacking busybox-static into the cache"
                rm -rf "$dir" "$cache/debs-busybox"
                mkdir -p "$cache/debs-busybox"
                download "$cache/debs-busybox" busybox-static
                dpkg -x "$DEB" "$dir"
                rm -rf "$cache/debs-busybox"
        fi
        BUSYBOX=$dir/bin/busybox
}

# Debian's package has no modules.dep (its postinst runs depmod).  Makes one
# in the unpacked tree with the host's depmod (kmod) or else busybox's, when
# it is missing or lacks one of MODULES (say after a run cut short), and
# reads it.
ensure_modules_dep() {
        local dep=$MODDIR/modules.dep m
        if [ -s "$dep" ]; then
                read_modules
                for m in "${MODULES[@]}"; do
                        if ! known_module "$m"; then
                                say "$dep has no $m: making it again"
                                rm -f "$dep"
                                break
                        fi
                done
        fi
        [ ! -s "$dep" ] || return 0
        say "depmod: making $dep"
        if [ -n "$(find "$MODDIR" -name '*.ko.zst' -print -quit)" ] && ! command -v depmod >/dev/null; then
                # busybox's depmod cannot read zstd.
                ensure_pkgs kmod
        fi
        if command -v depmod >/dev/null; then
                depmod -b "$cache/linux-image" "$KVER" || die "depmod failed"
        else
                "$BUSYBOX" depmod -b "$cache/linux-image" "$KVER" || die "busybox depmod failed"
        fi
        [ -s "$dep" ] || die "depmod made no $dep"
        read_modules
}

# Module names, from file names: no directory, no .ko*, - and _ alike.
norm_name() {
        NAME=${1##*/}
        NAME=${NAME%%.ko*}
        NAME=${NAME//-/_}
}

# read_modules: DEPS[path] = the paths a module needs (all of them, as
# modules.dep lists them), BY_NAME[name] = its path, BUILTIN[name] for the
# modules built into the kernel (modules.builtin).
read_modules() {
        local line key
        declare -gA DEPS=() BY_NAME=() BUILTIN=()
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                key=${line%%:*}
                DEPS[$key]=${line#*:}
                norm_name "$key"
                BY_NAME[$NAME]=$key
        done <"$MODDIR/modules.dep"
        if [ -r "$MODDIR/modules.builtin" ]; then
                while IFS= read -r key; do
                        norm_name "$key"
                        BUILTIN[$NAME]=1
                done <"$MODDIR/modules.builtin"
        fi
}

known_module() {
        norm_name "$1"
        [ -n "${BY_NAME[$NAME]+set}" ] || [ -n "${BUILTIN[$NAME]+set}" ]
}

# resolve_modules: sets LOAD_ORDER to the paths (as modules.dep has them)
# of MODULES and everything they depend on, each after its dependencies.
resolve_modules() {
        local m
        declare -gA STATE=()
        LOAD_ORDER=()
        for m in "${MODULES[@]}"; do
                norm_name "$m"
                if [ -n "${BY_NAME[$NAME]+set}" ]; then
                        visit_module "${BY_NAME[$NAME]}"
                elif [ -n "${BUILTIN[$NAME]+set}" ]; then
                        say "modules: $m is built into the kernel"
                else
                        die "no module $m in $MODDIR (modules.dep, modules.builtin)"
                fi
        done
}

# visit_module PATH: depth first, dependencies before PATH.
visit_module() {
        local path=$1 d
        case "${STATE[$path]:-}" in
        loaded) return ;;
        visiting) die "modules.dep: dependency cycle through $path" ;;
        esac
        [ -n "${DEPS[$path]+set}" ] || die "modules.dep has no entry for $path"
        STATE[$path]=visiting
        for d in ${DEPS[$path]}; do
                visit_module "$d"
        done
        STATE[$path]=loaded
        LOAD_ORDER+=("$path")
}

# install_modules ROOT: copies LOAD_ORDER's modules into ROOT/lib/modules/
# KVER/, uncompressed (with their signatures: Debian signs before it
# compresses), with a modules.dep for them and vtvisor-load-order.
install_modules() {
        local root=$1 dst path plain d deps
        dst=$root/lib/modules/$KVER
        mkdir -p "$dst"
        : >"$dst/vtvisor-load-order"
        : >"$dst/modules.dep"
        for path in "${LOAD_ORDER[@]}"; do
                plain=${path%.ko*}.ko
                mkdir -p "$dst/$(dirname "$plain")"
                case "$path" in
                *.ko) cp "$MODDIR/$path" "$dst/$plain" ;;
                *.ko.xz) xz -dc "$MODDIR/$path" >"$dst/$plain" ;;
                *.ko.zst) zstd -q -dc "$MODDIR/$path" >"$dst/$plain" ;;
                *.ko.gz) gzip -dc "$MODDIR/$path" >"$dst/$plain" ;;
                *) die "unknown module file type: $path" ;;
                esac
                chmod 0644 "$dst/$plain"
                echo "$plain" >>"$dst/vtvisor-load-order"
                deps=""
                for d in ${DEPS[$path]}; do
                        deps="$deps ${d%.ko*}.ko"
                done
                echo "$plain:$deps" >>"$dst/modules.dep"
        done
}

# build_initramfs OUT SHELL APPLETS...: SHELL=1 adds the marker that makes
# /init start an interactive shell.
build_initramfs() {
        local out=$1 shell=$2 init=$INIT_DIR/init rdtsc=$INIT_DIR/rdtsc.c
        local pattern=$INIT_DIR/pattern.sh tsccat=$INIT_DIR/tsccat.c nolibc=$INIT_DIR/nolibc.h
        shift 2
        local input fresh=1
        for input in "$init" "$rdtsc" "$tsccat" "$nolibc" "$pattern" "$BUSYBOX" "$0" "$cache/kernel-version" \
                "$MODDIR/modules.dep"; do
                [ "$out" -nt "$input" ] || fresh=0
        done
        if [ -s "$out" ] && [ "$fresh" = 1 ]; then
                say "initramfs: $out is up to date ($(stat -c %s "$out") bytes)"
                return
        fi
        local root
        root=$(mktemp -d "${TMPDIR:-/tmp}/vtvisor-initramfs.XXXXXX")
        TMP_DIRS+=("$root")
        mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,mnt,lib/vtvisor}
        if [ "$shell" = 1 ]; then
                echo "written by tools/get-guest-linux.sh --shell: /init runs a shell" \
                        >"$root/etc/vtvisor-init-shell"
                # The login shell reads /etc/profile.  busybox's poweroff asks
                # init (PID 1) by signal, which our /init, a script waiting for
                # this shell, never acts on; leaving the shell is what makes
                # /init power off, so poweroff and halt do that.
                cat >"$root/etc/profile" <<'PROFILE'
# /etc/profile of vtvisor's interactive guest (tools/get-guest-linux.sh --shell).
# /init powers the machine off when this shell exits.
poweroff() { exit 0; }
halt() { exit 0; }
PROFILE
        fi
        chmod 1777 "$root/tmp"
        chmod 0700 "$root/root"
        cp "$BUSYBOX" "$root/bin/busybox"
        chmod 0755 "$root/bin/busybox"
        local a
        for a in "$@"; do
                [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
        done
        install -m 0755 "$init" "$root/init"
        install -m 0644 "$pattern" "$root/lib/vtvisor/pattern.sh"
        install_modules "$root"
        # /bin/rdtsc: the benchmark's timestamp (no libc, so no libc6-dev).
        gcc -static -nostdlib -O2 -fno-pie -no-pie -fno-stack-protector -o "$root/bin/rdtsc" \
                "$rdtsc" || die "cannot build $rdtsc"
        # /bin/tsccat: the network benchmark's receiver (tsccat.c).
        gcc -static -nostdlib -O2 -fno-pie -no-pie -fno-stack-protector -o "$root/bin/tsccat" \
                "$tsccat" || die "cannot build $tsccat"
        # The kernel opens /dev/console for init's stdin/stdout/stderr
        # before /init runs (init/main.c, console_on_rootfs); the kernel's
        # built-in initramfs has the node too, this copy keeps the image
        # self-sufficient.  /init then mounts devtmpfs over /dev.
        mknod -m 0600 "$root/dev/console" c 5 1
        # Reproducible: fixed times, root ownership, sorted names.
        find "$root" -exec touch -h -d @0 {} +
        (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
                cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 >"$out.tmp"
        mv "$out.tmp" "$out"
        rm -rf "$root"
        say "initramfs: built $out ($(stat -c %s "$out") bytes, /init from ${init#"$REPO"/}, ${#LOAD_ORDER[@]} modules)"
}

mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)
say "cache: $cache"

get_kernel

ensure_pkgs cpio
find_busybox
[ -x "$BUSYBOX" ] || die "no static busybox at $BUSYBOX"
say "busybox: $BUSYBOX"
need_root "creating /dev/console in the initramfs"

KVER=$(cat "$cache/kernel-version")
MODDIR=$cache/linux-image/lib/modules/$KVER
[ -d "$MODDIR" ] || die "no $MODDIR: remove $cache/vmlinuz to fetch the kernel again"
ensure_modules_dep
resolve_modules
for path in "${LOAD_ORDER[@]}"; do
        case "$path" in
        *.ko.xz) ensure_pkgs xz-utils ;;
        *.ko.zst) ensure_pkgs zstd ;;
        esac
done
say "modules: ${LOAD_ORDER[*]##*/}"

# What the init scripts run: sh and its builtins do most of the work (and
# Debian's busybox runs its applets even without the links).
build_initramfs "$cache/initramfs.cpio.gz" 0 \
        sh mount umount uname cat stty poweroff sleep taskset dmesg sed setsid \
        cttyhack insmod lsmod ip ping nc sha256sum md5sum dd sync head seq wc \
        od hexdump tr grep truncate mkfifo mkdir rm timeout cp
if [ "$shell_image" = 1 ]; then
        # The interactive image gets every applet.
        mapfile -t applets < <("$BUSYBOX" --list)
        build_initramfs "$cache/initramfs-shell.cpio.gz" 1 "${applets[@]}"
fi
say "done"
