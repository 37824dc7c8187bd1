#!/bin/bash
# qemu/run.sh [options] INITRAMFS PLAN OUTDIR — boots the validation guest, runs PLAN (a
# busybox sh script, run in the guest's /out with memsim.ko loaded and memsim-hw on PATH)
# and puts every file the plan wrote in its cwd into OUTDIR, byte-exact (checked against
# the guest's sha256), with console.log (the guest's console) and status (the guest's
# final line).
#
# Options:
#   --kernel FILE     Debian kernel image (bzImage) matching the module (required)
#   --boot pvh|bzimage|auto
#                     pvh: boot the uncompressed vmlinux (extracted once from the bzImage's
#                     XZ payload, cached) through its PVH entry, ~3x faster to boot under
#                     emulation; auto (default) uses pvh when the image has a PVH note and
#                     falls back to bzimage if that boot does not come up
#   --accel tcg|kvm   (default tcg; kvm needs a working /dev/kvm and turns -icount off)
#   --no-icount       do not pass -icount shift=0,sleep=off (on by default with tcg: one
#                     guest TSC tick per instruction, deterministic results)
#   --timeout SEC     kill QEMU after SEC seconds (default 300)
#   --mem MB          guest RAM (default 512)
#   --cache DIR       where the extracted vmlinux is kept (default: OUTDIR/..)
#   --append ARGS     more kernel command-line arguments
#
# Exit status: 0 plan passed; 1 plan failed (or rmmod failed, or the kernel warned/oopsed);
# 2 usage; 3 the guest did not boot; 4 timeout; 5 the module did not load; 6 the guest died
# before reporting; 7 the output was corrupted on the way.  One line on stderr says which.
set -uo pipefail
prog=run.sh
die() { echo "$prog: $2" >&2; exit "$1"; }

kernel= boot=auto accel=tcg icount=1 timeout=300 mem=512 cache= append=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--boot) boot=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--no-icount) icount=0; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--cache) cache=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--) shift; break ;;
	-*) die 2 "unknown option $1 (see the header of $0)" ;;
	*) break ;;
	esac
done
[ $# = 3 ] || die 2 "usage: $prog [options] INITRAMFS PLAN OUTDIR"
initrd=$1 plan=$2 out=$3
case $boot in pvh|bzimage|auto) ;; *) die 2 "--boot $boot: want pvh, bzimage or auto" ;; esac
case $accel in tcg|kvm) ;; *) die 2 "--accel $accel: want tcg or kvm" ;; esac
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die 2 "--timeout $timeout: want a positive number of seconds"
[[ $mem =~ ^[1-9][0-9]*$ ]] || die 2 "--mem $mem: want a positive number of MiB"
[ -n "$kernel" ] || die 2 "--kernel: missing (the Debian vmlinuz matching the module's headers)"
[ -f "$kernel" ] || die 3 "$kernel: no such kernel image (apt-get install linux-image-amd64, matching the headers the module was built with)"
[ -r "$kernel" ] || die 3 "$kernel: not readable (Debian's /boot/vmlinuz-* are root-only: run as root or copy it)"
[ -f "$initrd" ] || die 2 "$initrd: no such initramfs (make -C hw-validate initramfs)"
[ -f "$plan" ] || die 2 "$plan: no such plan"
command -v qemu-system-x86_64 >/dev/null || die 3 "qemu-system-x86_64: not found (apt-get install qemu-system-x86)"
if [ "$accel" = kvm ] && ! [ -w /dev/kvm ]; then die 3 "--accel kvm: /dev/kvm is not usable here"; fi
[ "$accel" = kvm ] && icount=0
mkdir -p "$out" || die 2 "$out: cannot create"
out=$(cd "$out" && pwd)
cache=${cache:-$(dirname "$out")}
mkdir -p "$cache"

# ---- PVH: the uncompressed vmlinux from the bzImage's payload ----------------------------
# bzImage header: setup_sects at 0x1f1, payload_offset/length at 0x248/0x24c (relative to
# the protected-mode code, which starts after (setup_sects + 1) sectors).
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
extract_vmlinux() { # IMAGE DEST
	local ss po pl start
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$1" | tr -d ' ')
	po=$(le32 "$1" $((0x248)))
	pl=$(le32 "$1" $((0x24c)))
	[ -n "$ss" ] && [ -n "$po" ] && [ -n "$pl" ] || return 1
	start=$(((ss + 1) * 512 + po))
	# (no pipeline status: head closing early makes tail die of SIGPIPE; readelf judges)
	tail -c +$((start + 1)) "$1" | head -c "$pl" | xz -dc --single-stream > "$2.tmp" 2>/dev/null
	# an ELF with a Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY = 18)
	readelf -n "$2.tmp" 2>/dev/null | grep -E '^[[:space:]]+Xen[[:space:]].*(\(0x00000012\)|PHYS32_ENTRY)' >/dev/null ||
		{ rm -f "$2.tmp"; return 1; }
	mv "$2.tmp" "$2"
}
boot_image=$kernel
if [ "$boot" != bzimage ]; then
	vml=$cache/vmlinux-$(basename "$kernel" | sed 's/^vmlinuz-//')
	if [ ! -s "$vml" ] || [ "$kernel" -nt "$vml" ]; then
		extract_vmlinux "$kernel" "$vml" || rm -f "$vml"
	fi
	if [ -s "$vml" ]; then
		boot_image=$vml
	elif [ "$boot" = pvh ]; then
		die 3 "--boot pvh: could not extract a vmlinux with a PVH entry from $kernel (xz-utils and binutils installed?)"
	else
		boot=bzimage
	fi
fi

# ---- the plan, appended as a second archive ----------------------------------------------
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$plan" "$stage/plan.sh"
touch -d @0 "$stage/plan.sh"
(cd "$stage" && echo plan.sh | cpio -o -H newc -R 0:0 --quiet --reproducible) > "$stage/plan.cpio"
cat "$initrd" "$stage/plan.cpio" > "$out/initramfs.cpio"

# ---- boot --------------------------------------------------------------------------------
# Boot time under emulation: the local APIC timer calibration busy-waits for 100 ms of guest
# time, which under -icount costs seconds of host time (noapictimer: the HPET/PIT ticks
# instead), and the crypto self-tests execute ~0.7e9 instructions (cryptomgr.notests).
fast_args="noapictimer cryptomgr.notests"
boot_once() { # IMAGE
	local accel_args=(-accel "$accel")
	[ "$icount" = 1 ] && accel_args+=(-icount shift=0,sleep=off)
	rm -f "$out/console.log" "$out/serial1.bin"
	local t0=$(date +%s.%N)
	# fixed RTC start and no KASLR: together with -icount, every boot is the same
	timeout -k 5 "$timeout" qemu-system-x86_64 "${accel_args[@]}" \
		-nodefaults -nographic -no-reboot -monitor none -smp 1 -m "$mem" \
		-rtc base=2020-01-01T00:00:00,clock=vm \
		-serial "file:$out/console.log" -serial "file:$out/serial1.bin" \
		-kernel "$1" -initrd "$out/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 oops=panic nokaslr quiet loglevel=4 $fast_args $append" \
		</dev/null >"$out/qemu.log" 2>&1
	qemu_rc=$?
	wall=$(echo "$(date +%s.%N) - $t0" | bc)
}
boot_once "$boot_image"
if [ "$boot" = auto ] && [ "$qemu_rc" != 124 ] && ! grep -q 'memsim-init: up' "$out/console.log" 2>/dev/null; then
	echo "$prog: PVH boot of $boot_image did not come up; retrying with the bzImage" >&2
	boot=bzimage boot_image=$kernel
	boot_once "$boot_image"
fi
[ "$boot" = auto ] && boot=pvh
echo "boot=$boot accel=$accel icount=$icount wall_s=$wall qemu_rc=$qemu_rc" > "$out/run.info"

tail_console() { tail -n 15 "$out/console.log" 2>/dev/null | sed 's/^/  console: /' >&2; }
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	tail_console
	hint=
	[ "$accel" = kvm ] && hint="; does KVM work here? (no nested KVM: use --accel tcg)"
	die 4 "timeout: the guest ran longer than ${timeout}s and was killed (console: $out/console.log$hint)"
fi
if ! grep -q 'memsim-init: up' "$out/console.log" 2>/dev/null; then
	tail_console
	sed 's/^/  qemu: /' "$out/qemu.log" >&2
	die 3 "boot failure: the guest never reached /init (qemu exit $qemu_rc; console: $out/console.log)"
fi

# ---- frames from ttyS1 -------------------------------------------------------------------
data=$out/serial1.bin
[ -f "$data" ] || die 6 "the guest wrote nothing on ttyS1"
corrupt=0
next=0
while IFS= read -r m; do
	off=${m%%:*} hdr=${m#*:}
	[ "$off" -ge "$next" ] || continue   # inside a previous frame's payload
	if ! [[ $hdr =~ ^=memsim-frame\ name=([A-Za-z0-9._-]+)\ bytes=([0-9]+)\ sha256=([0-9a-f]{64})$ ]]; then
		continue
	fi
	name=${BASH_REMATCH[1]} bytes=${BASH_REMATCH[2]} sum=${BASH_REMATCH[3]}
	start=$((off + ${#hdr} + 1))
	tail -c +$((start + 1)) "$data" | head -c "$bytes" > "$out/$name"
	end="=memsim-end name=$name"
	if [ "$(sha256sum < "$out/$name" | cut -d' ' -f1)" != "$sum" ] ||
	   [ "$(tail -c +$((start + bytes + 1)) "$data" | head -c ${#end})" != "$end" ]; then
		echo "$prog: frame $name: checksum or end marker mismatch" >&2
		corrupt=1
	fi
	next=$((start + bytes + ${#end} + 1))
done < <(grep -abo -E '^=memsim-frame [^[:cntrl:]]*$' "$data")
status=$(grep -a '^=memsim-done ' "$data" | tail -1 | sed 's/^=memsim-done //')
echo "$status" > "$out/status"

if [ -z "$status" ]; then
	tail_console
	die 6 "the guest died before reporting (oops or panic?): see $out/console.log"
fi
[ "$corrupt" = 0 ] || die 7 "output corrupted between guest and host ($data)"
case $status in
insmod=failed*)
	grep -i memsim "$out/dmesg.txt" 2>/dev/null | tail -5 | sed 's/^/  dmesg: /' >&2
	die 5 "module load failure: insmod memsim.ko failed in the guest (wrong kernel version? see $out/dmesg.txt)" ;;
esac
plan_rc=$(sed -n 's/.* plan=\([-0-9]*\).*/\1/p' "$out/status")
rm_rc=$(sed -n 's/.* rmmod=\([-0-9]*\).*/\1/p' "$out/status")
taint=$(sed -n 's/.* taint=\([0-9]*\).*/\1/p' "$out/status")
# taint D (oops, 128), W (warning, 512), L (soft lockup, 16384)
if [ $(( ${taint:-0} & (128 | 512 | 16384) )) != 0 ]; then
	grep -E 'WARNING|BUG|Oops|lockup' "$out/dmesg.txt" 2>/dev/null | head -5 | sed 's/^/  dmesg: /' >&2
	die 1 "the guest kernel warned, oopsed or locked up (taint $taint): see $out/dmesg.txt"
fi
[ "$rm_rc" = 0 ] || die 1 "rmmod memsim failed in the guest (module still busy?)"
[ "$plan_rc" = 0 ] || { tail -5 "$out/plan.log" 2>/dev/null | sed 's/^/  plan: /' >&2; die 1 "the plan exited $plan_rc (see $out/plan.log)"; }
exit 0
