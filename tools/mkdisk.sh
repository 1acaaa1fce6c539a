#!/bin/bash
# Builds an ext4 disk image for a VM's virtio-blk disk (`disk-for=VM` on a
# module line, `disk = "file"` in a configuration file).
#
#   tools/mkdisk.sh OUT.img [SIZE [DIR]]
#
# SIZE is what mke2fs takes (default 16M: 16 MiB).  The file system holds
# DIR's files when DIR is given, and always:
#   /hello.txt        one line of text (unless DIR has its own)
#   /pattern.bin      1 MiB of the system tests' pattern
#                     (tests/system/initramfs/pattern.sh; unless DIR has one)
#   /expected.sha256  `sha256sum` lines of every other regular file, by path
#                     from the root (sorted), so `cd /mnt && sha256sum -c
#                     expected.sha256` checks them; the guest's /init does
#                     that in its disk tests.
# Made with mke2fs -d (e2fsprogs, tools/install-deps.sh): no root, no mount.
# The same inputs give the same image, byte for byte: fixed UUID, hash seed,
# times and owners.  4 KiB blocks, 256-byte inodes (times past 2038, so Linux
# does not warn at mount).
set -euo pipefail

PROG=mkdisk
REPO=$(cd "$(dirname "$0")/.." && pwd)
# mke2fs lives in /sbin, outside an ordinary user's PATH on Debian.
PATH=$PATH:/usr/sbin:/sbin

die() {
        echo "$PROG: error: $*" >&2
        exit 1
}

usage() {
        echo "usage: $0 OUT.img [SIZE [DIR]]" >&2
        exit 2
}

if [ $# -lt 1 ] || [ $# -gt 3 ]; then
        usage
fi
case "$1" in -*) usage ;; esac
out=$1
size=${2:-16M}
src=${3:-}
[ -z "$src" ] || [ -d "$src" ] || die "$src is not a directory"
[ -d "$(dirname "$out")" ] || die "no directory $(dirname "$out") for $out"
command -v mke2fs >/dev/null || die "no mke2fs: install e2fsprogs (tools/install-deps.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/vtvisor-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/root
mkdir "$stage"
if [ -n "$src" ]; then
        cp -R "$src"/. "$stage"/
fi
rm -f "$stage/expected.sha256"
if [ ! -e "$stage/hello.txt" ]; then
        echo "Hello from a vtvisor virtio-blk disk." >"$stage/hello.txt"
fi
if [ ! -e "$stage/pattern.bin" ]; then
        # shellcheck disable=SC1091 # tests/system/initramfs/pattern.sh
        . "$REPO/tests/system/initramfs/pattern.sh"
        pattern_file "$stage/pattern.bin" 1048576
fi
(
        cd "$stage"
        find . -type f ! -path './lost+found/*' -printf '%P\n' | LC_ALL=C sort |
                while IFS= read -r f; do sha256sum "$f"; done >"$work/expected.sha256"
)
mv "$work/expected.sha256" "$stage/expected.sha256"
# Reproducible: mke2fs copies the files' modes, owners and times; fix the
# modes and times here, the owners (root) and change times below.
chmod -R u+rwX,go+rX,go-w "$stage"
find "$stage" -exec touch -h -d @0 {} +

rm -f "$out.tmp"
# E2FSPROGS_FAKE_TIME: the superblock's times (made, written) at the epoch.
if ! err=$(E2FSPROGS_FAKE_TIME=1 mke2fs -q -F -t ext4 -b 4096 -I 256 -L vtvisor \
        -U 7674766d-6469-736b-0000-000000000001 \
        -E hash_seed=7674766d-6469-736b-0000-000000000002,root_owner=0:0 \
        -d "$stage" "$out.tmp" "$size" 2>&1); then
        rm -f "$out.tmp"
        die "mke2fs $size failed: $err"
fi
# The inodes' change times are the copies' own (no one can set them) and
# their owners whoever ran this: the epoch and root.
{
        echo 'sif / ctime @0'
        echo 'sif /lost+found ctime @0'
        (cd "$stage" && find . -mindepth 1 -printf '%P\n') | LC_ALL=C sort |
                while IFS= read -r f; do
                        printf 'sif "/%s" %s\n' "$f" "ctime @0" "$f" "uid 0" "$f" "gid 0"
                done
} >"$work/debugfs.cmds"
if ! err=$(E2FSPROGS_FAKE_TIME=1 debugfs -w -f "$work/debugfs.cmds" "$out.tmp" 2>&1 >/dev/null); then
        rm -f "$out.tmp"
        die "debugfs failed: $err"
fi
mv "$out.tmp" "$out"
echo "$PROG: $out: ext4, $size, files: $(cut -d' ' -f3- "$stage/expected.sha256" | tr '\n' ' ')expected.sha256"
