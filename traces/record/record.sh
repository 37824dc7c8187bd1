#!/usr/bin/env bash
# traces/record/record.sh — shell glue of `memsim trace record` (the C side drives it).
#
#   record.sh kernel KIMAGE OUT           extract the uncompressed vmlinux (PVH boot) from a
#                                         bzImage's XZ payload; falls back to a copy of KIMAGE
#   record.sh initramfs KVER OUT [SCRIPT] busybox-static + virtio console modules of KVER +
#                                         agent.sh as /init + workloads (+ SCRIPT as "script")
#   record.sh boot KERNEL INITRD RAMFILE MEM_MB VCPUS DIR APPEND [ICOUNT_SHIFT]
#                                         exec QEMU for one guest: RAM in RAMFILE (shared, the
#                                         host hashes it), console -> DIR/console.log,
#                                         ports memsim.ctl -> DIR/ctl.log, memsim.trace ->
#                                         DIR/trace.txt, memsim.go <- FIFO DIR/go (the host
#                                         writes "GO" there to start all guests together)
#
# Every failure prints one line "record.sh: what is wrong" and exits non-zero.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "record.sh: $*" >&2; exit 1; }

cmd_kernel() {
	local kimg=$1 out=$2 off
	[ -r "$kimg" ] || die "kernel image $kimg not readable"
	# The XZ stream magic inside the bzImage; the first hit is the payload.
	off=$(LC_ALL=C grep -abo $'\xfd7zXZ' "$kimg" | head -1 | cut -d: -f1 || true)
	# (tail dies of SIGPIPE once xz has its stream: judge by the ELF magic, not the status)
	if [ -n "$off" ] && command -v xz >/dev/null; then
		{ tail -c +$((off + 1)) "$kimg" | xz -dc --single-stream >"$out.tmp"; } 2>/dev/null || true
	fi
	if [ -s "$out.tmp" ] && [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		mv "$out.tmp" "$out"
		echo pvh
	else
		rm -f "$out.tmp"
		cp "$kimg" "$out"
		echo bzimage
	fi
}

# Prints the .ko paths (relative to /lib/modules/KVER) needed by $1.. in load order.
mod_closure() {
	local dep=$1; shift
	local seen=" " order=()
	visit() {
		local m=$1 line d
		case "$seen" in *" $m "*) return ;; esac
		seen="$seen$m "
		line=$(grep -E "^[^:]*/$m\.ko(\.xz|\.zst|\.gz)?:" "$dep" | head -1) ||
			die "module $m not in $dep"
		for d in ${line#*:}; do
			d=${d##*/}; d=${d%%.ko*}
			visit "$d"
		done
		order+=("${line%%:*}")
	}
	for m in "$@"; do visit "$m"; done
	printf '%s\n' "${order[@]}"
}

cmd_initramfs() {
	local kver=$1 out=$2 script=${3:-} mdir=/lib/modules/$1 root bb
	[ -f "$mdir/modules.dep" ] || die "no modules for kernel $kver in $mdir (install linux-image-$kver)"
	bb=$(command -v busybox || true)
	[ -n "$bb" ] || die "busybox not found (install busybox-static)"
	# ldd fails on a static executable ("not a dynamic executable")
	! ldd "$bb" >/dev/null 2>&1 || die "$bb is not statically linked (install busybox-static)"
	command -v cpio >/dev/null || die "cpio not found (install cpio)"
	root=$(mktemp -d "${out}.root.XXXXXX")
	trap 'rm -rf "$root"' RETURN
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,workloads,lib/modules}
	cp "$bb" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	install -m 0755 "$here/agent.sh" "$root/init"
	cp "$here"/workloads/*.sh "$root/workloads/"
	[ -z "$script" ] || install -m 0755 "$script" "$root/workloads/script.sh"
	# The batching trace reader; without a static libc the agent falls back to cat.
	local cc=${CC:-cc}
	"$cc" -static -O2 -s -o "$root/bin/memsim-drain" "$here/drain.c" 2>/dev/null ||
		echo "record.sh: warning: cannot build drain.c statically; the guest reads with cat" >&2
	: >"$root/lib/modules/load-order"
	local m f
	while read -r m; do
		f=${m##*/}
		case "$f" in
		*.ko) cp "$mdir/$m" "$root/lib/modules/$f" ;;
		*.ko.xz) xz -dc "$mdir/$m" >"$root/lib/modules/${f%.xz}"; f=${f%.xz} ;;
		*.ko.zst) zstd -qdc "$mdir/$m" >"$root/lib/modules/${f%.zst}"; f=${f%.zst} ;;
		*.ko.gz) gzip -dc "$mdir/$m" >"$root/lib/modules/${f%.gz}"; f=${f%.gz} ;;
		esac
		echo "$f" >>"$root/lib/modules/load-order"
	done < <(mod_closure "$mdir/modules.dep" virtio_pci virtio_console)
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible 2>/dev/null ||
		find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n -1 >"$out"
}

cmd_boot() {
	local kernel=$1 initrd=$2 ram=$3 mem=$4 vcpus=$5 dir=$6 append=$7 shift_=${8:-}
	local qemu=${MEMSIM_QEMU:-qemu-system-x86_64}
	command -v "$qemu" >/dev/null || die "$qemu not found (install qemu-system-x86)"
	[ -p "$dir/go" ] || mkfifo "$dir/go"
	local args=(
		-machine pc,memory-backend=mem -m "${mem}M"
		-object "memory-backend-file,id=mem,size=${mem}M,mem-path=$ram,share=on"
		-smp "$vcpus" -nodefaults -display none -no-reboot
		-kernel "$kernel" -initrd "$initrd" -append "$append"
		-serial "file:$dir/console.log"
		-device virtio-serial-pci
		-chardev "file,id=ctl,path=$dir/ctl.log" -device virtserialport,chardev=ctl,name=memsim.ctl
		-chardev "file,id=trc,path=$dir/trace.txt" -device virtserialport,chardev=trc,name=memsim.trace
		-chardev "pipe,id=go,path=$dir/go" -device virtserialport,chardev=go,name=memsim.go
	)
	if [ -n "$shift_" ]; then
		# One tick of guest time per 2^shift ns of instructions, fixed RTC: guest time
		# no longer depends on the host.
		args+=(-icount "shift=$shift_,sleep=off,align=off" -rtc "clock=vm,base=2024-01-01T00:00:00")
	else
		args+=(-rtc base=utc)
	fi
	exec "$qemu" "${args[@]}"
}

[ $# -ge 1 ] || die "usage: record.sh kernel|initramfs|boot ARGS..."
c=$1; shift
case "$c" in
kernel) [ $# = 2 ] || die "usage: record.sh kernel KIMAGE OUT"; cmd_kernel "$@" ;;
initramfs) [ $# -ge 2 ] || die "usage: record.sh initramfs KVER OUT [SCRIPT]"; cmd_initramfs "$@" ;;
boot) [ $# -ge 7 ] || die "usage: record.sh boot KERNEL INITRD RAMFILE MEM_MB VCPUS DIR APPEND [SHIFT]"; cmd_boot "$@" ;;
*) die "unknown subcommand $c" ;;
esac
