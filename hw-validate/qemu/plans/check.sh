# qemu/plans/check.sh — the guest half of `make -C hw-validate check` (booted twice: the two
# runs' files must be byte-identical).  Small sizes: this runs under software emulation.
# Every command runs even if an earlier one failed; the plan fails if any did.
rc=0
run() { # OUTFILE CMD...
	out=$1; shift
	"$@" > "$out" 2> "$out.err" || { echo "FAIL ($?): $*"; rc=1; }
	[ -s "$out.err" ] || rm -f "$out.err"
}
EV=cycles,instructions,LLC-misses,task-clock
run info.txt memsim-hw --info
run selftest-null.txt memsim-hw -e $EV -n 64 -k 3 selftest none null
run selftest-list-walk.txt memsim-hw -e $EV -n 1000 -k 2 --check selftest none list-walk
for p in list hash tree hash-grow; do
	run rmap-$p-destroy.txt memsim-hw -e $EV -n 1000 -k 2 --check rmap $p destroy
done
run rmap-hash-build.txt memsim-hw -e $EV -n 300 -k 2 --check -s heavy=32 -s light=8 rmap hash build
run rmap-tree-lookup.txt memsim-hw -e $EV -n 1000 -k 2 --check rmap tree lookup
run sharing-list-monolithic-destroy.txt memsim-hw -e $EV -n 1000 --check sharing list+monolithic destroy
run sharing-hash-preemptible-destroy.txt memsim-hw -e $EV -n 1000 --check -s batch=64 sharing hash+preemptible destroy
run sharing-tree-unshare.txt memsim-hw -e $EV -n 500 --check sharing tree+weighted unshare
# the garbage test with a small memory budget, so that the over-budget case runs too
rmmod memsim && insmod /lib/memsim.ko max_mb=64 || { echo "FAIL: reload with max_mb=64"; rc=1; }
run garbage.txt memsim-hw --garbage --seed 7 --rounds 300
exit $rc
