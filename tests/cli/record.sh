#!/usr/bin/env bash
# tests/cli/record.sh — `memsim trace record`: a few seconds recorded from one real QEMU
# guest, checked against the guest's own counters and replayed; and the failures that must
# be loud (no kernel, a guest that dies or hangs while booting, a lost data channel),
# never a silently empty trace.  Boots 4 guests in all (3 of them concurrently).
. "$(dirname "$0")/lib.sh"

R=("$MEMSIM" trace record -q)

# ---- usage errors: exit 2, nothing booted --------------------------------------------------
expect_status 2 record_rejects_zero_guests "${R[@]}" --guests 0 -o "$TMP/x.mst"
expect_grep record_names_the_bad_option '--guests 0' "$TMP/err"
expect_status 2 record_rejects_unknown_workload "${R[@]}" --workload nosuch -o "$TMP/x.mst"
expect_status 2 record_rejects_short_interval "${R[@]}" --interval-ms 10 -o "$TMP/x.mst"
expect_status 2 record_requires_output "${R[@]}" --seconds 1
expect_status 2 record_rejects_missing_script "${R[@]}" --workload "script:$TMP/none.sh" -o "$TMP/x.mst"

# ---- a missing or bogus kernel ---------------------------------------------------------------
expect_status 1 record_missing_kernel_fails "${R[@]}" --kernel "$TMP/vmlinuz-none" -o "$TMP/k.mst"
expect_grep record_missing_kernel_names_it 'vmlinuz-none' "$TMP/err"
expect_status 2 record_rejects_a_non_kernel_image "${R[@]}" --kernel /bin/sh -o "$TMP/k.mst"
expect_grep record_non_kernel_says_why 'not a bootable x86 kernel' "$TMP/err"
if [ -e "$TMP/k.mst" ]; then bad record_kernel_failure_writes_no_trace "$TMP/k.mst exists"; else ok record_kernel_failure_writes_no_trace; fi

# ---- guests that fail, in the background while the real recording runs ----------------------
# fault: poweroff = the guest dies before its agent says HELLO; notrace = the trace channel
# carries nothing; hang = the agent never says HELLO (boot timeout).
bg() { # NAME FAULT ARGS...
	local name=$1 fault=$2; shift 2
	( MEMSIM_RECORD_FAULT=$fault "${R[@]}" "$@" -o "$TMP/$name.mst" >"$TMP/$name.out" 2>"$TMP/$name.err"
	  echo $? >"$TMP/$name.rc" ) &
}
bg dies poweroff --seconds 1 --interval-ms 0
bg lost notrace --seconds 1 --interval-ms 0
bg hang hang --seconds 1 --interval-ms 0 --boot-timeout 4

# ---- a real recording: one guest, fork-tar, 3 guest seconds, RAM sampled every 500 ms -------
expect_status 0 record_one_guest_succeeds "${R[@]}" --workload fork-tar --seconds 3 \
	--interval-ms 500 --keep "$TMP/raw" -o "$TMP/t.mst"
wait

expect_status 0 recorded_trace_validates "$MEMSIM" trace validate "$TMP/t.mst"
expect_status 0 recorded_trace_info_runs "$MEMSIM" trace info "$TMP/t.mst"
cp "$TMP/out" "$TMP/info"
expect_grep recorded_trace_says_qemu_record '^source +qemu-record' "$TMP/info"
expect_grep recorded_trace_names_the_kernel '^kernel +Linux version' "$TMP/info"
expect_grep recorded_trace_names_qemu '^qemu +QEMU emulator version' "$TMP/info"
expect_grep recorded_trace_has_provenance_params 'guests=1 seconds=3 interval_ms=500 seed=1' "$TMP/info"
count() { awk -v t="$1" '$1 == t { print $2; f = 1 } END { if (!f) print 0 }' "$TMP/info"; }
for t in page_alloc page_free page_fault ctx_switch cr3_load pt_alloc fork; do
	n=$(count $t)
	if [ "$n" -gt 0 ]; then ok "recorded_trace_has_$t"; else bad "recorded_trace_has_$t" "none in info"; fi
done
# the first RAM sample gives every page of the 256 MiB guest a digest
n=$(count page_digest)
if [ "$n" -ge 65536 ]; then ok recorded_trace_digests_every_page; else bad recorded_trace_digests_every_page "$n page_digest records"; fi

# guest counters: /proc/vmstat deltas over the traced window against the trace's events
kv() { tr ' ' '\n' <"$TMP/t.mst.counters" | sed -n "s/^$1=//p" | head -1; }
near() { # NAME A B PERCENT : |A - B| <= PERCENT % of B, and B > 0
	if [ "$3" -gt 0 ] && [ $(( ($2 - $3) * ($2 - $3) * 10000 )) -le $(( $4 * $4 * $3 * $3 )) ]; then
		ok "$1"
	else
		bad "$1" "$2 vs $3 (more than $4 % apart)"
	fi
}
near recorded_allocs_match_guest_pgalloc "$(kv tr_alloc_pages)" "$(kv vm_pgalloc)" 5
near recorded_frees_match_guest_pgfree "$(kv tr_free_pages)" "$(kv vm_pgfree)" 5
near recorded_faults_match_guest_pgfault "$(kv tr_faults)" "$(kv vm_pgfault)" 5
if [ "$(kv lost)" = 0 ] && [ "$(kv overrun)" = 0 ] && [ "$(kv unparsed)" = 0 ]; then
	ok recorded_trace_lost_nothing
else
	bad recorded_trace_lost_nothing "$(head -3 "$TMP/t.mst.counters" | tail -1)"
fi
# the trace's own page_alloc records sum (2^order) to the counted pages
sum=$("$MEMSIM" trace dump --type page_alloc "$TMP/t.mst" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^arg=/) { split($i, a, "="); s += 2 ^ a[2] } } END { printf "%d", s }')
if [ "$sum" = "$(kv tr_alloc_pages)" ]; then ok recorded_alloc_records_sum_to_counter; else bad recorded_alloc_records_sum_to_counter "$sum vs $(kv tr_alloc_pages)"; fi

# replay through the models
expect_status 0 recorded_trace_replays_through_null "$MEMSIM" run --trace "$TMP/t.mst" --model null
expect_status 0 recorded_trace_replays_through_rmap "$MEMSIM" run --trace "$TMP/t.mst" --model rmap --policy hash

# the raw recording converts again to the same bytes; --share none drops the share records
expect_status 0 record_convert_again_succeeds "${R[@]}" --convert "$TMP/raw" -o "$TMP/t2.mst"
if cmp -s "$TMP/t.mst" "$TMP/t2.mst"; then ok record_conversion_is_deterministic; else bad record_conversion_is_deterministic "t.mst and t2.mst differ"; fi
sed -i 's/^share=.*/share=none/' "$TMP/raw/recording.txt"
expect_status 0 record_convert_share_none "${R[@]}" --convert "$TMP/raw" -o "$TMP/t3.mst"
"$MEMSIM" trace info "$TMP/t3.mst" >"$TMP/info3"
if ! grep -qE '^ +share ' "$TMP/info3"; then ok record_share_none_has_no_share_records; else bad record_share_none_has_no_share_records "share records present"; fi

# damaged raw recordings are refused, naming the problem
cp -r "$TMP/raw" "$TMP/cut" && head -n 200 "$TMP/raw/g1/trace.txt" >"$TMP/cut/g1/trace.txt"
expect_status 1 record_convert_refuses_a_cut_stream "${R[@]}" --convert "$TMP/cut" -o "$TMP/cut.mst"
expect_grep record_cut_stream_says_so 'guest 1: data channel lost: no memsim_end marker' "$TMP/err"
grep tracing_mark_write "$TMP/raw/g1/trace.txt" >"$TMP/cut/g1/trace.txt"
expect_status 1 record_convert_refuses_an_empty_stream "${R[@]}" --convert "$TMP/cut" -o "$TMP/cut.mst"
expect_grep record_empty_stream_says_so 'guest 1: empty event stream' "$TMP/err"
grep -v '^DONE' "$TMP/raw/g1/ctl.log" >"$TMP/cut/g1/ctl.log"
expect_status 1 record_convert_refuses_an_unfinished_guest "${R[@]}" --convert "$TMP/cut" -o "$TMP/cut.mst"
expect_grep record_unfinished_guest_says_so 'guest 1: control channel incomplete .*no DONE' "$TMP/err"
if [ -e "$TMP/cut.mst" ]; then bad record_damaged_recording_writes_no_trace "$TMP/cut.mst exists"; else ok record_damaged_recording_writes_no_trace; fi

# ---- the failures --------------------------------------------------------------------------
rc_of() { cat "$TMP/$1.rc" 2>/dev/null || echo none; }
[ "$(rc_of dies)" = 1 ] && ok record_guest_dying_at_boot_fails || bad record_guest_dying_at_boot_fails "exit $(rc_of dies): $(head -c 300 "$TMP/dies.err")"
expect_grep record_guest_dying_says_before_hello 'guest 1: QEMU exited .*before the agent said HELLO' "$TMP/dies.err"
[ "$(rc_of lost)" = 1 ] && ok record_lost_channel_fails || bad record_lost_channel_fails "exit $(rc_of lost): $(head -c 300 "$TMP/lost.err")"
expect_grep record_lost_channel_says_so 'guest 1: data channel lost' "$TMP/lost.err"
[ "$(rc_of hang)" = 1 ] && ok record_boot_hang_times_out || bad record_boot_hang_times_out "exit $(rc_of hang): $(head -c 300 "$TMP/hang.err")"
expect_grep record_boot_hang_says_so 'no agent HELLO within 4 s' "$TMP/hang.err"
for f in dies lost hang; do
	if [ -e "$TMP/$f.mst" ]; then bad "record_failure_${f}_writes_no_trace" "$TMP/$f.mst exists"; else ok "record_failure_${f}_writes_no_trace"; fi
	# the kept raw recording of a failed run is named; clean it up
	d=$(sed -n 's/.*raw recording is kept in //p' "$TMP/$f.err")
	[ -n "$d" ] && [ -d "$d" ] && rm -rf "$d"
done
finish
