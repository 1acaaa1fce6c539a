#!/bin/sh
# Installs what building and testing vtvisor need on Debian (12).
# Idempotent: does nothing when every package is already installed; otherwise
# runs apt-get update once and installs the missing ones, non-interactively.
# Run as root, or as a user with sudo.
set -eu

PACKAGES="gcc make binutils python3 check pkg-config clang-format
bochs bochs-term bochsbios vgabios
grub-pc-bin grub-common xorriso mtools
acpica-tools cpio clang libclang-rt-14-dev qemu-system-x86
e2fsprogs"

missing=""
for p in $PACKAGES; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$status" in
        "install ok installed") ;;
        *) missing="$missing $p" ;;
        esac
done

if [ -z "$missing" ]; then
        echo "install-deps: all packages present"
        exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
echo "install-deps: done"
