#!/bin/sh
# traces/record/agent.sh — /init of the recording guest (busybox ash).
#
# Mounts proc/sys/dev/tracefs, loads the virtio console modules, enables the memory
# tracepoints, streams trace_pipe to the host over the virtio-serial port "memsim.trace",
# runs the workload for memsim.seconds of guest time, and reports on port "memsim.ctl":
#
#   HELLO v1 <uname -r> ...        agent is up, channel works
#   KERNEL <contents of /proc/version>
#   PAGING 4|5                     page-table levels in use
#   CLOCK <trace_clock>
#   EVENTS <event list>
#   VMSTAT-BEFORE k=v ...          /proc/vmstat before tracing starts
#   READY <uptime>                 workload set up; waits for "GO" on port memsim.go
#   START <uptime>                 the trace marker memsim_start has been written
#   END <uptime>                   the workload is over, memsim_end written
#   VMSTAT-AFTER k=v ...
#   STATS cpu=N entries=.. overrun=.. dropped=..
#   DONE                           everything is flushed; the guest powers off next
#   ERROR <what>                   fatal problem inside the guest
#
# Parameters come from the kernel command line (memsim.KEY=VALUE).  The host never trusts
# this script to have worked: it checks HELLO, START, END, DONE and the trace markers.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o size=75% tmpfs /tmp

die() {
	echo "memsim-agent: $*" >/dev/console
	[ -n "$CTL" ] && echo "ERROR $*" >&3
	sync
	poweroff -f
}

workload=fork-tar seconds=5 seed=1 guest=1 fault= barrier=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	memsim.workload=*) workload=${arg#*=} ;;
	memsim.seconds=*) seconds=${arg#*=} ;;
	memsim.seed=*) seed=${arg#*=} ;;
	memsim.guest=*) guest=${arg#*=} ;;
	memsim.fault=*) fault=${arg#*=} ;;
	memsim.barrier=*) barrier=${arg#*=} ;;
	esac
done

# Test hooks (MEMSIM_RECORD_FAULT on the host): a guest that dies before HELLO, one that
# hangs, one whose trace channel carries nothing (memsim.fault=notrace, below).
case "$fault" in
poweroff) poweroff -f ;;
hang) while :; do sleep 1000; done ;;
esac

# Modules in dependency order, written by record.sh.
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/console || die "insmod $m failed"
done </lib/modules/load-order

# The ports appear asynchronously once virtio_console probes the device.
find_port() {
	for p in /sys/class/virtio-ports/*; do
		[ -r "$p/name" ] || continue
		if [ "$(cat "$p/name")" = "$1" ]; then echo "/dev/${p##*/}"; return 0; fi
	done
	return 1
}
CTL= TRC= GO= i=0
while [ $i -lt 100 ]; do
	CTL=$(find_port memsim.ctl) && TRC=$(find_port memsim.trace) && GO=$(find_port memsim.go) &&
		[ -c "$CTL" ] && [ -c "$TRC" ] && [ -c "$GO" ] && break
	CTL= TRC= GO=
	i=$((i + 1)); sleep 0.1
done
[ -n "$CTL" ] || die "virtio-serial ports memsim.ctl/memsim.trace/memsim.go not found"
exec 3>"$CTL"

echo "HELLO v1 $(uname -r) guest=$guest workload=$workload seconds=$seconds seed=$seed" >&3
echo "KERNEL $(cat /proc/version)" >&3
# Root page-table level: 5 only when the (virtual) CPU has LA57.
if grep -q ' la57' /proc/cpuinfo; then echo "PAGING 5" >&3; else echo "PAGING 4" >&3; fi

T=/sys/kernel/tracing
mount -t tracefs tracefs $T 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug
[ -w $T/tracing_on ] || T=/sys/kernel/debug/tracing
[ -w $T/tracing_on ] || die "tracefs not available"

echo 0 >$T/tracing_on
# mono: one clock for all CPUs, printed in microseconds.
echo mono >$T/trace_clock || die "trace_clock mono not supported"
echo 16384 >$T/buffer_size_kb || die "cannot size the trace buffer"
echo >$T/trace

# Page-table pages and root tables through kprobes where the kernel has the functions;
# vmemmap_base/page_offset_base turn struct page / direct-map pointers into pfns on the
# host side (KASLR-proof).
kp=$T/kprobe_events
has_fn() { grep -q "^$1\$" /tmp/fns; }
cut -d' ' -f1 $T/available_filter_functions >/tmp/fns 2>/dev/null
probes=
if [ -w $kp ]; then
	if has_fn pgd_alloc; then
		echo 'r:memsim/pgd_alloc pgd_alloc ret=$retval:x64 pob=@page_offset_base:x64' >>$kp && probes="$probes pgd_alloc"
	fi
	if has_fn pgd_free; then
		echo 'p:memsim/pgd_free pgd_free pgd=%si:x64 pob=@page_offset_base:x64' >>$kp && probes="$probes pgd_free"
	fi
	if has_fn pte_alloc_one; then
		echo 'r:memsim/pte_alloc pte_alloc_one ret=$retval:x64 vmb=@vmemmap_base:x64' >>$kp && probes="$probes pte_alloc"
	fi
	if has_fn ___pte_free_tlb; then
		echo 'p:memsim/pte_free ___pte_free_tlb page=%si:x64 vmb=@vmemmap_base:x64' >>$kp && probes="$probes pte_free"
	fi
	# Every page-table page constructor/destructor below the root (PTE and PMD levels)
	# accounts NR_PAGETABLE through __mod_lruvec_page_state(page, idx, +-1): filtered on
	# that index, it shows the PMD pages nothing else exposes.  The index is the position
	# of nr_page_table_pages among the node counters of /proc/vmstat (enum order).
	pt_idx=$(awk '$1 == "nr_inactive_anon" { b = NR } $1 == "nr_page_table_pages" { p = NR } END { if (b && p > b) print p - b }' /proc/vmstat)
	if [ -n "$pt_idx" ] && has_fn __mod_lruvec_page_state &&
		echo 'p:memsim/pt_acct __mod_lruvec_page_state page=%di:x64 idx=%si:s32 val=%dx:s32 vmb=@vmemmap_base:x64' >>$kp; then
		echo "idx == $pt_idx" >$T/events/memsim/pt_acct/filter && probes="$probes pt_acct"
		echo "PTACCT idx=$pt_idx" >&3
	fi
fi
rm -f /tmp/fns

events="kmem/mm_page_alloc kmem/mm_page_free exceptions/page_fault_user exceptions/page_fault_kernel sched/sched_switch sched/sched_process_fork sched/sched_process_exec sched/sched_process_exit"
for p in $probes; do events="$events memsim/$p"; done
for e in $events; do
	echo 1 >$T/events/$e/enable || die "cannot enable event $e"
done
echo "CLOCK $(cat $T/trace_clock)" >&3
echo "EVENTS $events" >&3
[ -x /bin/memsim-drain ] && echo "READER memsim-drain 100ms" >&3 || echo "READER cat" >&3

# Shell builtins only: no process may run between the counter read and tracing_on.
vmstat() {
	line=$1
	while read -r k v; do line="$line $k=$v"; done </proc/vmstat
	echo "$line" >&3
}

# NOW = guest uptime in centiseconds (guest time: deterministic under -icount); no fork.
now_cs() {
	read -r u _ </proc/uptime
	NOW=$((${u%.*} * 100 + 1${u#*.} - 100))
}

# The workload: setup() untraced, then step() rounds for $seconds of guest time.
export MEMSIM_SEED=$seed MEMSIM_SECONDS=$seconds MEMSIM_GUEST=$guest
[ -f "/workloads/$workload.sh" ] || die "no workload $workload"
. /workloads/_lib.sh
. "/workloads/$workload.sh"
command -v step >/dev/null || die "workload $workload defines no step()"
cd /tmp
if command -v setup >/dev/null; then
	setup >/dev/console 2>&1 </dev/null || die "workload $workload: setup failed"
fi
# All guests start tracing together: the host says GO once every guest is READY.  Not
# under -icount (memsim.barrier=0): waiting for the host would let host timing into the
# guest's otherwise deterministic run.
echo "READY $(cut -d' ' -f1 /proc/uptime)" >&3
if [ "$barrier" != 0 ]; then
	read -r go <"$GO"
	[ "$go" = GO ] || die "expected GO from the host, got '$go'"
fi

vmstat VMSTAT-BEFORE
echo 1 >$T/tracing_on
echo memsim_start >$T/trace_marker
read -r up _ </proc/uptime
echo "START $up" >&3
# The reader and the workload are forked after tracing starts, so the trace sees their
# address spaces being created (root page tables for cr3 loads).  The ring buffer holds
# events until the reader gets going.
reader= drainer=
if [ "$fault" != notrace ]; then
	if [ -x /bin/memsim-drain ]; then
		memsim-drain $T/trace_pipe "$TRC" 100 &
		drainer=$!
	else
		cat $T/trace_pipe >"$TRC" &
		reader=$!
	fi
fi
(
	now_cs
	end=$((NOW + seconds * 100))
	rounds=0
	while [ $NOW -lt $end ]; do
		step >/dev/console 2>&1 </dev/null
		rounds=$((rounds + 1))
		now_cs
	done
	echo $rounds >/tmp/.rounds
)
read -r rounds </tmp/.rounds
cd /

echo memsim_end >$T/trace_marker
echo 0 >$T/tracing_on
vmstat VMSTAT-AFTER
read -r up _ </proc/uptime
echo "END $up rounds=$rounds" >&3

# Let the reader drain what is left in the ring buffer, then stop it.
if [ -n "$drainer" ]; then
	kill -USR1 "$drainer"
	wait "$drainer" || die "trace reader failed"
fi
i=0
while [ -n "$reader" ] && [ $i -lt 200 ]; do
	left=0
	for s in $T/per_cpu/cpu*/stats; do
		n=$(sed -n 's/^entries: //p' "$s")
		left=$((left + n))
	done
	[ $left = 0 ] && break
	i=$((i + 1)); sleep 0.1
done
if [ -n "$reader" ]; then
	sleep 0.5
	kill "$reader" 2>/dev/null
fi
for s in $T/per_cpu/cpu*; do
	c=${s##*cpu}
	st=$(tr -d ' ' <"$s/stats" | tr ':' '=' | tr '\n' ' ')
	echo "STATS cpu=$c $st" >&3
done
echo "DONE" >&3
exec 3>&-
sync
poweroff -f
