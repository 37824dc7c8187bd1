#!/bin/bash
# qemu/mkinitramfs.sh OUT.cpio MEMSIM.KO MEMSIM-HW — the validation guest's base initramfs:
# busybox-static (applets installed by /init at boot), /init (qemu/init.sh), the module and
# the harness (stripped).  No Debian module is needed: the misc device, debugfs, devtmpfs
# and the 8250 UARTs are built into Debian's kernel.  The run's plan is appended by run.sh
# as a second cpio archive, so one base image serves every plan.
#
# The archive is reproducible (sorted names, owner root, fixed mtimes), uncompressed
# (decompressing costs more than reading under emulation).
set -euo pipefail
prog=mkinitramfs.sh
die() { echo "$prog: $*" >&2; exit "${2:-1}"; }
[ $# = 3 ] || die "usage: $prog OUT.cpio MEMSIM.KO MEMSIM-HW" 2
out=$1 ko=$2 hw=$3
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}

[ -f "$ko" ] || die "$ko: no such module (make -C hw-validate kmod)"
[ -x "$hw" ] || die "$hw: no such harness (make -C hw-validate harness)"
[ -x "$busybox" ] || die "$busybox: not found (apt-get install busybox-static)"
# a dynamic executable has a program interpreter; the initramfs has no libc for it
! readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter' ||
	die "$busybox: not statically linked (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio: not found (apt-get install cpio)"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,out,lib}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
install -m 0755 "$here/init.sh" "$stage/init"
cp "$ko" "$stage/lib/memsim.ko"
strip -o "$stage/bin/memsim-hw" "$hw"
find "$stage" -exec touch -h -d @0 {} +
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet --reproducible) > "$out.tmp"
mv "$out.tmp" "$out"
echo "initramfs: $out ($(wc -c < "$out") bytes)"
