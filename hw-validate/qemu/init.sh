#!/bin/busybox sh
# /init of the memsim validation guest (hw-validate/qemu/init.sh, packed by mkinitramfs.sh).
#
# Loads /lib/memsim.ko, runs /plan.sh (appended to the initramfs by run.sh) in /out, unloads
# the module, and sends every file of /out to the host over the second serial port (ttyS1)
# in frames the host checks byte for byte:
#
#   =memsim-frame name=NAME bytes=LEN sha256=HEX\n  LEN bytes  =memsim-end name=NAME\n
#   ... one frame per file, then  =memsim-done insmod=ok|failed plan=RC rmmod=RC taint=N\n
#
# ttyS1 is put in raw mode first, so no byte is translated on the way.  Progress markers go
# to the console (ttyS0): "memsim-init: up", "memsim-init: module loaded", "memsim-init: done".
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /out
echo "memsim-init: up"

stty -F /dev/ttyS1 raw -echo || echo "memsim-init: cannot set /dev/ttyS1 raw"
exec 3>/dev/ttyS1

frame() { # NAME FILE
	len=$(wc -c < "$2")
	sum=$(sha256sum < "$2")
	printf '=memsim-frame name=%s bytes=%s sha256=%s\n' "$1" "$len" "${sum%% *}" >&3
	cat "$2" >&3
	printf '=memsim-end name=%s\n' "$1" >&3
}

finish() { # STATUS
	dmesg > /out/dmesg.txt
	for f in /out/*; do
		[ -f "$f" ] && frame "${f#/out/}" "$f"
	done
	printf '=memsim-done %s\n' "$1" >&3
	# closing the tty waits until the UART has sent everything
	exec 3>&-
	echo "memsim-init: done $1"
	poweroff -f
}

if ! insmod /lib/memsim.ko; then
	echo "memsim-init: insmod failed"
	finish "insmod=failed plan=-1 rmmod=-1 taint=$(cat /proc/sys/kernel/tainted)"
fi
echo "memsim-init: module loaded"

cd /out
sh /plan.sh > /out/plan.log 2>&1
plan=$?
echo "memsim-init: plan exited $plan"
rm_rc=0
if grep -q '^memsim ' /proc/modules; then
	rmmod memsim
	rm_rc=$?
fi
finish "insmod=ok plan=$plan rmmod=$rm_rc taint=$(cat /proc/sys/kernel/tainted)"
