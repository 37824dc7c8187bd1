#!/usr/bin/env bash
# tests/cli/kmod_ops.sh — the module ops of scrub, shadow and hinting (hw-validate/kmod/
# ops_scrub.c, ops_shadow.c, ops_hinting.c) run by memsim-user, the module's request loop as
# a program: each op's work units as the models define them, invariants checked, nothing
# leaked; bad requests refused with a message naming the parameter; `memsim validate` of the
# three families through memsim-user finds the simulator counting the same work, unit by
# unit; bad validate scenario lines refused.
. "$(dirname "$0")/lib.sh"

U=${MEMSIM_BUILD:-build}/hw-validate/memsim-user
if [ ! -x "$U" ]; then
	echo "kmod_ops: $U not built: skipped"
	echo "0 passed, 0 failed"
	exit 0
fi

# run_op NAME N MODEL POLICY OP [-s NAME=VALUE]...: one batch with the invariant check,
# its units (wu.NAME=V ...) on one line in $TMP/units
run_op() {
	local name=$1 n=$2; shift 2
	if "$U" -e "" --check -n "$n" -k 1 "$@" >"$TMP/out" 2>"$TMP/err" &&
	   grep -q 'status=0 .*leaked_bytes=0 asserts=0' "$TMP/out" &&
	   grep -q '^batch .* status=0 ' "$TMP/out"; then
		ok "$name"
	else
		bad "$name" "$(head -c 400 "$TMP/err") $(grep -E '^(request|batch)' "$TMP/out" | head -c 400)"
	fi
	grep '^batch' "$TMP/out" | tr ' ' '\n' | grep '^wu\.' | grep -v '=0$' | tr '\n' ' ' >"$TMP/units"
}
# units NAME 'wu.a=1 wu.b=2 ...': exactly these non-zero units
units() {
	local got want
	got=$(tr ' ' '\n' <"$TMP/units" | grep . | sort | tr '\n' ' ')
	want=$(echo "$2" | tr ' \t' '\n\n' | grep . | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then ok "$1"; else bad "$1" "units: $got; wanted: $want"; fi
}

# ---- scrub: per page of a sync free a refcount, a list hop, two page_puts, a preemption
# check, a clear, a free and the heap lock; a scrubber's batch one lock to take it and one to
# give it back, an entry move, a clear and a free per page
run_op scrub_sync_destroy_runs 1024 scrub sync destroy
units scrub_sync_destroy_units "wu.list_hop=1024 wu.free=1024 wu.page_put=2048 wu.preempt_check=1024
	wu.page_scrub=1024 wu.lock=1024 wu.refcount=1024"
run_op scrub_deferred_percpu_destroy_runs 1024 scrub deferred-percpu destroy
units scrub_deferred_destroy_units "wu.list_hop=1024 wu.entry_move=1024 wu.page_put=2048
	wu.preempt_check=1024 wu.lock=1024 wu.refcount=1024"
run_op scrub_on_alloc_destroy_runs 1024 scrub on-alloc destroy
units scrub_on_alloc_destroy_units "wu.list_hop=1024 wu.free=1024 wu.page_put=2048
	wu.preempt_check=1024 wu.lock=1024 wu.refcount=1024"
run_op scrub_batch64_scrub_runs 1024 scrub deferred-percpu scrub -s batch=64
units scrub_batch64_scrub_units "wu.entry_move=1024 wu.free=1024 wu.page_scrub=1024 wu.lock=32"
run_op scrub_tasklet_scrub_runs 256 scrub deferred scrub
units scrub_tasklet_scrub_units "wu.entry_move=256 wu.free=256 wu.page_scrub=256 wu.lock=512"
run_op scrub_on_alloc_alloc_runs 1024 scrub on-alloc alloc -s order=9
units scrub_on_alloc_alloc_units "wu.page_scrub=1024 wu.lock=2"
run_op scrub_no_pool_runs 1024 scrub sync destroy -s pool_pages=0
units scrub_no_pool_same_units "wu.list_hop=1024 wu.free=1024 wu.page_put=2048
	wu.preempt_check=1024 wu.page_scrub=1024 wu.lock=1024 wu.refcount=1024"

# ---- shadow: a pool that holds everything builds the L3 and the first L2 once and a leaf
# per walk, each looked up once and linked to its parent (a list hop per link made); a
# second pass finds everything (the hardware walks)
run_op shadow_walk_runs 10 shadow fifo walk -s limit=1000
units shadow_walk_units "wu.bucket_visit=12 wu.shadow_build=12 wu.list_hop=12"
run_op shadow_rewalk_runs 10 shadow clock rewalk -s limit=1000
units shadow_rewalk_counts_nothing ""
for p in fifo fifo-skip-roots clock accessed; do
	run_op "shadow_${p}_reclaims" 300 shadow "$p" walk
	expect_grep "shadow_${p}_zaps" 'wu.shadow_zap=[1-9]' "$TMP/units"
done

# ---- hinting: per-page hints every allocation stable, one call per page; the first
# allocation of a page supplies a zero page
run_op hinting_fill_runs 256 hinting per-page fill
units hinting_fill_units "wu.page_scrub=256 wu.hypercall=256 wu.hint_page=256"
run_op hinting_free_runs 256 hinting per-page free
units hinting_free_units "wu.hypercall=256 wu.hint_page=256"
for p in none per-page batched lazy-unused volatile volatile-lazy; do
	for op in realloc cycle reclaim cache; do
		run_op "hinting_${p}_${op}_runs" 512 hinting "$p" "$op"
	done
done
run_op hinting_none_reclaim_swaps 1024 hinting none reclaim
expect_grep hinting_none_reclaim_swap_io 'wu.swap_io=[1-9]' "$TMP/units"
run_op hinting_order_runs 1024 hinting batched cycle -s order=2

# ---- bad requests: refused (EINVAL) with a line naming what is wrong
reject() { # NAME PATTERN ARGS...
	local name=$1 pat=$2; shift 2
	"$U" -e "" -n 256 "$@" >"$TMP/out" 2>"$TMP/err"
	if [ $? = 1 ] && grep -q 'Invalid argument' "$TMP/err" && grep -qE -- "$pat" "$TMP/err"; then
		ok "$name"
	else
		bad "$name" "stderr: $(head -c 400 "$TMP/err")"
	fi
}
reject reject_scrub_batch_range 'batch=0: out of range 1\.\.' -s batch=0 scrub deferred-percpu scrub
reject reject_scrub_policy 'unknown scrub policy' scrub bogus destroy
reject reject_scrub_sync_scrub 'op scrub: sync leaves no dirty page' scrub sync scrub
reject reject_scrub_alloc_policy 'op alloc: only on-alloc' scrub sync alloc
reject reject_scrub_order_elsewhere 'parameter order: not one this op takes' -s order=3 scrub sync destroy
reject reject_scrub_pool_range 'pool_pages=70000: out of range 0\.\.65536' -s pool_pages=70000 scrub sync destroy
reject reject_shadow_limit 'limit=2: out of range 5\.\.' -s limit=2 shadow fifo walk
reject reject_shadow_refill 'limit=64 min_free=30 refill=20' -s min_free=30 -s refill=20 shadow fifo walk
reject reject_shadow_tdp_accessed 'tdp=1: the accessed policy' -s tdp=1 shadow accessed walk
reject reject_hinting_order 'n=256: want a multiple of 2\^order = 512' -s order=9 hinting batched fill
reject reject_hinting_max_gb 'do not fit in max_gb=1' -n 300000 -s max_gb=1 hinting batched fill
reject reject_unknown_op 'shadow nope: no such model and op' shadow fifo nope

# ---- memsim validate of the three families, measured by memsim-user
cat >"$TMP/scen" <<'EOF'
scrub sync n=1024
scrub deferred-percpu n=1024 batch=16
scrub idle n=1024
scrub on-alloc n=2048
shadow fifo n=300
shadow fifo-skip-roots n=300 limit=100
shadow clock n=300
shadow accessed n=300
hinting none n=512
hinting per-page n=512
hinting batched n=1024 order=1
hinting lazy-unused n=2048 lazy_pages=64
hinting volatile n=512
hinting volatile-lazy n=512
EOF
expect_status 0 validate_three_families env MEMSIM_DB= "$MEMSIM" validate --native --harness "$U" \
	--events task-clock --quiet --profile seed-2012 --scenarios "$TMP/scen"
expect_grep validate_work_same_everywhere 'the same work units as the module in every scenario' "$TMP/out"
for m in scrub shadow hinting; do
	expect_grep "validate_model_line_$m" "^model $m " "$TMP/out"
done
if grep -E '^(scrub|shadow|hinting) ' "$TMP/out" | grep -vq ' same$'; then
	bad validate_rows_same "$(grep -E '^(scrub|shadow|hinting) ' "$TMP/out" | grep -v ' same$' | head -3)"
else
	ok validate_rows_same
fi

# bad scenario lines: refused before anything is measured, naming the line and the problem
vbad() { # NAME PATTERN LINE
	printf '%s\n' "$3" >"$TMP/bad"
	expect_status 2 "$1" "$MEMSIM" validate --native --harness /nonexistent --profile seed-2012 \
		--scenarios "$TMP/bad"
	expect_grep "$1_says" "$2" "$TMP/err"
}
vbad validate_refuses_scrub_deferred 'bad:1: policy deferred: its polling tasklet' "scrub deferred n=1024"
vbad validate_refuses_scrub_partial_mib 'n=1000: scrub scenarios want whole MiB' "scrub sync n=1000"
vbad validate_refuses_shadow_tdp 'tdp=1: the module walks shadow tables' "shadow fifo n=10 tdp=1"
vbad validate_refuses_hinting_order 'n=10 order=2: want order 0..10 and n a multiple' "hinting batched n=10 order=2"
vbad validate_refuses_unknown_param 'shadow scenarios take limit,.*; not batch' "shadow clock n=10 batch=3"
vbad validate_refuses_bad_policy 'policy lru: not a shadow policy' "shadow lru n=10"
expect_status 0 validate_print_builtin_lists_families "$MEMSIM" validate --print-scenarios
for m in scrub shadow hinting; do
	expect_grep "validate_builtin_has_$m" "^$m " "$TMP/out"
done

# calibrate: the plans hold the three families, and a plan of them fits from memsim-user
expect_status 0 calibrate_print_plan "$MEMSIM" calibrate --print-plan -o "$TMP/x.prof"
for op in "scrub sync destroy" "scrub deferred scrub" "shadow clock walk" "hinting batched cycle"; do
	expect_grep "calibrate_builtin_plan_has_${op// /_}" "^$op " "$TMP/out"
done
finish
