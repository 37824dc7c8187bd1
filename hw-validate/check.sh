#!/bin/bash
# hw-validate/check.sh BUILD_DIR — `make -C hw-validate check`: builds the module, the
# harness and the guest image, tests the runner's error paths, boots the guest twice with
# -icount running qemu/plans/check.sh, checks what came back, and checks that both runs
# are byte-identical; then `memsim calibrate --plan small` and `memsim validate --scenarios
# small` twice each in the guest (identical profiles and tables, errors within 15 %), and
# their native path with a stand-in harness.  Prints "ok NAME" / "FAIL NAME: why" and ends
# with "N passed, N failed".  MEMSIM=path/to/memsim picks the binary (default ../build/memsim,
# built if missing).
set -u
cd "$(dirname "$0")"
# run from the top-level make check: its job server and variables are not ours
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
B=${1:-build}
mkdir -p "$B"
B=$(cd "$B" && pwd)
T=$B/check
rm -rf "$T"
mkdir -p "$T"
PASS=0 FAIL=0
ok() { echo "ok $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; exit $?; }
# expect STATUS NAME CMD... : stdout+stderr to $T/NAME.log
expect() {
	local want=$1 name=$2; shift 2
	"$@" >"$T/$name.log" 2>&1
	local rc=$?
	if [ "$rc" = "$want" ]; then ok "$name"; return 0; fi
	bad "$name" "exit $rc, wanted $want: $(tail -3 "$T/$name.log" | tr '\n' ' ' | cut -c1-300)"
	return 1
}
# grep_ok NAME PATTERN FILE...
grep_ok() {
	local name=$1 pat=$2; shift 2
	if grep -qE -- "$pat" "$@" 2>/dev/null; then ok "$name"; else bad "$name" "no /$pat/ in $*"; fi
}

KVER=$(make -s --no-print-directory -f Makefile B="$B" print-kver 2>/dev/null)
KIMAGE=/boot/vmlinuz-$KVER

# ---- builds ----------------------------------------------------------------------------
if make --no-print-directory B="$B" kmod >"$T/kmod.log" 2>&1; then
	if grep -qE '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$T/kmod.log"; then
		bad kmod_builds_without_warnings "$(grep -m3 -E '\.[ch]:[0-9]+(:[0-9]+)?: warning:' "$T/kmod.log")"
	else ok kmod_builds_without_warnings; fi
else
	bad kmod_builds_without_warnings "make kmod failed: $(grep -m5 -E 'error|hw-validate:' "$T/kmod.log")"
	finish
fi
expect 0 objlist_matches_top_makefile make --no-print-directory B="$B" objlist-check
expect 2 kmod_without_headers_names_the_problem make --no-print-directory B="$B" KDIR=/nonexistent kmod &&
	grep_ok kmod_without_headers_message 'KDIR=/nonexistent: no kernel build tree' "$T/kmod_without_headers_names_the_problem.log"
if ! make --no-print-directory B="$B" harness >"$T/harness.log" 2>&1; then
	bad harness_builds "$(tail -5 "$T/harness.log")"
	finish
fi
HW=$B/harness/memsim-hw
if readelf -h "$HW" >/dev/null 2>&1 && ! readelf -l "$HW" | grep -q 'program interpreter'; then
	ok harness_is_static
else bad harness_is_static "$HW has a program interpreter (dynamically linked)"; fi

# ---- harness on the host, no module needed ------------------------------------------------
expect 2 harness_bad_usage_exits_2 "$HW"
expect 2 harness_unknown_event_exits_2 "$HW" -e nosuchevent,cycles --dev /nonexistent selftest none null &&
	grep_ok harness_unknown_event_is_named '--events nosuchevent: libpfm4 does not know' "$T/harness_unknown_event_exits_2.log"
expect 2 harness_bad_number_exits_2 "$HW" -n 12x selftest none null
expect 1 harness_missing_device_exits_1 "$HW" --dev /nonexistent/memsim selftest none null &&
	grep_ok harness_missing_device_gives_hint 'is memsim.ko loaded' "$T/harness_missing_device_exits_1.log"

# ---- the guest image and the runner's error paths ----------------------------------------
if ! make --no-print-directory B="$B" initramfs >"$T/initramfs.log" 2>&1; then
	bad initramfs_builds "$(tail -5 "$T/initramfs.log")"
	finish
fi
ok initramfs_builds
if [ ! -r "$KIMAGE" ]; then
	bad guest_kernel_readable "$KIMAGE is missing or unreadable (run as root; apt-get install linux-image-amd64)"
	finish
fi
RUN="qemu/run.sh --kernel $KIMAGE --cache $B"
expect 3 run_missing_kernel_is_reported qemu/run.sh --kernel /nonexistent/vmlinuz "$B/initramfs.cpio" qemu/plans/check.sh "$T/nokernel" &&
	grep_ok run_missing_kernel_message 'no such kernel image' "$T/run_missing_kernel_is_reported.log"
expect 3 run_boot_failure_is_reported qemu/run.sh --kernel /bin/busybox --boot bzimage --timeout 30 "$B/initramfs.cpio" qemu/plans/check.sh "$T/noboot" &&
	grep_ok run_boot_failure_message 'boot failure' "$T/run_boot_failure_is_reported.log"
expect 4 run_timeout_kills_qemu $RUN --timeout 2 "$B/initramfs.cpio" qemu/plans/check.sh "$T/timeout" &&
	grep_ok run_timeout_message 'timeout: the guest ran longer than 2s' "$T/run_timeout_kills_qemu.log"
# an image whose memsim.ko is not a module
: > "$T/bogus.ko"
qemu/mkinitramfs.sh "$T/bogus.cpio" "$T/bogus.ko" "$HW" >/dev/null 2>&1
expect 5 run_module_load_failure_is_reported $RUN --timeout 150 "$T/bogus.cpio" qemu/plans/check.sh "$T/badmod" &&
	grep_ok run_module_load_failure_message 'module load failure' "$T/run_module_load_failure_is_reported.log"

# ---- two deterministic runs -----------------------------------------------------------------
for run in a b; do
	t0=$(date +%s)
	expect 0 guest_run_${run}_passes $RUN --timeout 240 "$B/initramfs.cpio" qemu/plans/check.sh "$T/$run"
	echo "   run $run: $(cat "$T/$run/run.info" 2>/dev/null), $(( $(date +%s) - t0 )) s"
done
A=$T/a
grep_ok garbage_requests_all_handled '^garbage: [0-9]+ passed, 0 failed$' "$A/garbage.txt"
grep_ok info_lists_rmap_ops '^op rmap destroy policies=list,hash,tree' "$A/info.txt"
grep_ok info_lists_sharing_ops '^op sharing destroy ' "$A/info.txt"
grep_ok list_destroy_walks_n_squared_over_two 'wu\.list_hop=500500 ' "$A/rmap-list-destroy.txt"
grep_ok sharing_list_destroy_walks_n_squared_over_two 'wu\.list_hop=500500 ' "$A/sharing-list-monolithic-destroy.txt"
grep_ok selftest_walk_counts_every_node 'wu\.list_hop=1000 ' "$A/selftest-list-walk.txt"
grep_ok task_clock_counts 'event name=task-clock .*status=ok' "$A/rmap-list-destroy.txt"
# every request accepted, nothing leaked, no model assertion fired
reqs=$(cat "$A"/*.txt | grep -c '^request ')
goodreqs=$(cat "$A"/*.txt | grep '^request ' | grep -c ' status=0 .* leaked_bytes=0 asserts=0 ')
if [ "$reqs" -ge 11 ] && [ "$reqs" = "$goodreqs" ]; then ok requests_succeed_without_leaks_or_asserts
else bad requests_succeed_without_leaks_or_asserts "$goodreqs of $reqs requests clean"; fi
# basis=counters exactly when a hardware event counted
inconsistent=0
for f in "$A"/*.txt; do
	grep -q '^request ' "$f" || continue
	hw_ok=$(grep '^event ' "$f" | grep -v ' type=1 ' | grep -c 'status=ok')
	if [ "$hw_ok" -gt 0 ]; then want=counters; else want=clock-based; fi
	grep -q "^request .* basis=$want " "$f" || inconsistent=$((inconsistent + 1))
done
[ "$inconsistent" = 0 ] && ok basis_says_clock_based_without_hw_counters ||
	bad basis_says_clock_based_without_hw_counters "$inconsistent files disagree"
# under -icount the TSC is the instruction clock: 1 tick per ns
skew=$(cat "$A"/*.txt | sed -n 's/^batch .* ns=\([0-9]*\) cycles=\([0-9]*\) .*/\1 \2/p' |
	awk '{ d = $1 - $2; if (d < 0 || d > 1000) bad++ } END { print NR " " bad + 0 }')
if [ "${skew% *}" -gt 0 ] && [ "${skew#* }" = 0 ]; then ok icount_tsc_ticks_once_per_ns
else bad icount_tsc_ticks_once_per_ns "batches, off: $skew"; fi
n_unload=$(grep -c 'memsim: unloaded, 0 model bytes outstanding' "$A/dmesg.txt")
[ "$n_unload" = 2 ] && ok module_unloads_clean_twice || bad module_unloads_clean_twice "$n_unload clean unloads in dmesg"

# byte-identical results (the console log has QEMU's own escape codes: left out)
differ=""
nfiles=0
for f in "$A"/*.txt; do
	nfiles=$((nfiles + 1))
	cmp -s "$f" "$T/b/$(basename "$f")" || differ="$differ $(basename "$f")"
done
if [ "$nfiles" -ge 12 ] && [ -z "$differ" ]; then ok two_icount_runs_are_byte_identical
else bad two_icount_runs_are_byte_identical "$nfiles files, differing:${differ:- none}"; fi

# ---- calibration and validation in the guest (memsim calibrate / validate) ------------------
MEMSIM=${MEMSIM:-$(cd .. && pwd)/build/memsim}
if [ "$MEMSIM" = "$(cd .. && pwd)/build/memsim" ]; then
	make -s --no-print-directory -C .. all >"$T/memsim-build.log" 2>&1 ||
		{ bad memsim_builds "$(tail -3 "$T/memsim-build.log")"; finish; }
fi
[ -x "$MEMSIM" ] || { bad memsim_builds "$MEMSIM: not found"; finish; }
# SOURCE_DATE_EPOCH fixes the profile's date line, so that two calibrations compare whole
export SOURCE_DATE_EPOCH=0
unset MEMSIM_DB
CAL="$MEMSIM calibrate --qemu --hw $PWD --hw-build $B --plan small --name cal-small --quiet"
VAL="$MEMSIM validate --qemu --hw $PWD --hw-build $B --scenarios small --max-error 15 --quiet"
for run in a b; do
	t0=$(date +%s)
	expect 0 calibrate_small_plan_$run $CAL --keep "$T/cal-$run" --db "$T/cal.db" -o "$T/cal-$run.prof"
	expect 0 validate_small_scenarios_$run $VAL --profile "$T/cal-a.prof" --keep "$T/val-$run" \
		--db "$T/cal.db" --plot "$T/val-$run.png"
	echo "   calibrate + validate $run: $(( $(date +%s) - t0 )) s"
done
if cmp -s "$T/cal-a.prof" "$T/cal-b.prof"; then ok calibration_twice_gives_the_same_profile
else bad calibration_twice_gives_the_same_profile "$(diff "$T/cal-a.prof" "$T/cal-b.prof" | head -3 | tr '\n' ' ')"; fi
grep_ok profile_says_its_basis_is_instructions '^meta basis instructions$' "$T/cal-a.prof"
grep_ok profile_names_counters_used '^meta counters task-clock' "$T/cal-a.prof"
missing=
for u in list_hop bucket_visit tree_node alloc free p2m_entry preempt_check; do
	grep -q "^cost $u [0-9]" "$T/cal-a.prof" || missing="$missing $u"
done
[ -z "$missing" ] && ok profile_prices_every_unit_the_plan_exercises ||
	bad profile_prices_every_unit_the_plan_exercises "no cost line for:$missing"
# validate's table: every model within 15 % (also enforced by --max-error), same work counted
grep_ok validate_rmap_within_15_percent '^model rmap .*\(within --max-error\)' "$T/validate_small_scenarios_a.log"
grep_ok validate_relinquish_within_15_percent '^model relinquish .*\(within --max-error\)' "$T/validate_small_scenarios_a.log"
grep_ok validate_superpage_within_15_percent '^model superpage .*\(within --max-error\)' "$T/validate_small_scenarios_a.log"
for m in scrub shadow hinting; do
	grep_ok validate_${m}_within_15_percent "^model $m .*\(within --max-error\)" "$T/validate_small_scenarios_a.log"
done
grep_ok validate_simulator_counts_the_modules_work 'the same work units as the module in every scenario' \
	"$T/validate_small_scenarios_a.log"
# (the table: the lines on where it was stored and drawn name different files)
for run in a b; do
	grep -v -e '^validation ' -e '^plot ' "$T/validate_small_scenarios_$run.log" > "$T/val-$run.table"
done
if [ -s "$T/val-a.table" ] && cmp -s "$T/val-a.table" "$T/val-b.table" &&
   cmp -s "$T/val-a/r001.txt" "$T/val-b/r001.txt"; then ok validation_twice_gives_the_same_table
else bad validation_twice_gives_the_same_table "$(diff "$T/val-a.table" "$T/val-b.table" | head -4 | tr '\n' ' ')"; fi
[ -s "$T/val-a.png" ] && ok validate_draws_its_plot || bad validate_draws_its_plot "no $T/val-a.png"
# stored once: the second, identical calibration and validation are recognised
db_rows=$(sqlite3 "$T/cal.db" "SELECT (SELECT count(*) FROM calibrations) || ' ' ||
	(SELECT count(*) FROM calibration_batches) || ' ' || (SELECT count(*) FROM validations) || ' ' ||
	(SELECT count(*) FROM validation_rows) || ' ' || (SELECT count(*) FROM runs)" 2>&1)
nb=$(cat "$T"/cal-a/r*.txt | grep -c '^batch ')
ns=$($MEMSIM validate --print-scenarios --scenarios small | grep -c '^[a-z]')   # one row and one run each
[ "$db_rows" = "1 $nb 1 $ns $ns" ] && ok calibration_and_validation_stored_once ||
	bad calibration_and_validation_stored_once "calibrations, batches, validations, rows, runs: $db_rows (want 1 $nb 1 $ns $ns)"
# refit from the kept outputs: the very same profile
expect 0 calibrate_from_kept_outputs "$MEMSIM" calibrate --from "$T/cal-a" --plan small --name cal-small \
	-o "$T/cal-from.prof" &&
	{ cmp -s "$T/cal-a.prof" "$T/cal-from.prof" && ok refit_from_kept_outputs_is_identical ||
	  bad refit_from_kept_outputs_is_identical "$(diff "$T/cal-a.prof" "$T/cal-from.prof" | head -3 | tr '\n' ' ')"; }
# the native path, with a stand-in harness that replays the guest's outputs in order
cat > "$T/fake-hw" <<EOF
#!/bin/sh
i=\$(( \$(cat "$T/fake-hw.count" 2>/dev/null || echo 0) + 1 ))
echo \$i > "$T/fake-hw.count"
echo "\$*" >> "$T/fake-hw.args"
[ -n "\$FAKE_FAIL" ] && { echo "memsim-hw: /dev/memsim: No such file or directory (is memsim.ko loaded?)" >&2; exit 1; }
cat "$T/cal-a/r\$(printf %03d \$i).txt"
EOF
chmod +x "$T/fake-hw"
rm -f "$T/fake-hw.count" "$T/fake-hw.args"
expect 0 calibrate_native_runs_the_harness_per_request "$MEMSIM" calibrate --native --harness "$T/fake-hw" \
	--plan small --measure tsc --quiet -o "$T/cal-native.prof"
grep_ok native_harness_gets_the_plans_arguments '^-e cycles,instructions,task-clock -n 1 -k 2 selftest none null$' "$T/fake-hw.args"
if [ "$(grep '^cost ' "$T/cal-native.prof")" = "$(grep '^cost ' "$T/cal-a.prof")" ]; then
	ok native_path_fits_the_same_costs
else bad native_path_fits_the_same_costs "cost lines differ from the guest's"; fi
grep_ok native_tsc_profile_is_marked_clock_based '^meta basis clock-based$' "$T/cal-native.prof"
rm -f "$T/fake-hw.count"
FAKE_FAIL=1 expect 1 calibrate_native_reports_a_failing_harness "$MEMSIM" calibrate --native \
	--harness "$T/fake-hw" --plan small --quiet --keep "$T/cal-fail" -o "$T/cal-fail.prof" &&
	grep_ok calibrate_native_failure_names_the_request 'request 1 \(selftest none null n=1\): memsim-hw exit 1: .*is memsim.ko loaded' \
		"$T/calibrate_native_reports_a_failing_harness.log"
expect 2 validate_without_profile_is_usage "$MEMSIM" validate --from "$T/val-a"
expect 2 calibrate_unknown_plan_is_usage "$MEMSIM" calibrate --plan /nonexistent.plan -o "$T/x.prof"
finish
