#!/usr/bin/env bash
# tests/cli/memlimit.sh — results never depend on host memory (docs/security.md, 4 and 11):
# a host allocation failure fails the run (exit 1, nothing stored, a message naming what
# ran out); --max-mem refuses a scenario whose estimate exceeds it before it starts and
# fails a run that reaches it; alloc_fail_ppm models -ENOMEM deterministically.
. "$(dirname "$0")/lib.sh"
top="$(cd "$(dirname "$0")/../.." && pwd)"
sample="$top/traces/samples/fork-tar-2g-10s.mst"

# runs stored in a database that may not exist (nothing created is as good as nothing stored)
runs_in() { if [ -e "$1" ]; then sqlite3 "$1" 'select count(*) from runs' 2>/dev/null || echo 0; else echo 0; fi; }
expect_runs() { # NAME DB N
	local n; n=$(runs_in "$2")
	if [ "$n" = "$3" ]; then ok "$1"; else bad "$1" "$n runs stored in $2, wanted $3"; fi
}

# fork-storm over 128 GiB per-page holds 256 MiB of page state; memsim itself starts in
# less than 20 MB of address space (measured), so 200000 KiB lets it start and fails the
# model's allocations part-way (at about 186 MiB held).
storm=(--scenario fork-storm --model superpage --policy per-page --set region_gb=128 --set forks=2)
LIMIT_KB=200000

# ---- 4: a host allocation failure fails the run ---------------------------------------------
if [ -n "${MEMSIM_SANITIZED:-}" ]; then
	# ASan reserves terabytes of shadow address space: no ulimit -v under it
	ok "host_oom_tests_skipped_under_sanitizers"
else
	db="$TMP/oom.db"
	expect_status 1 host_oom_fails_the_run \
		bash -c "ulimit -v $LIMIT_KB && exec \"\$0\" \"\$@\"" "$MEMSIM" run "${storm[@]}" --max-mem 0 --db "$db"
	expect_grep host_oom_message_names_host_memory 'out of host memory: allocating .* for the model failed' "$TMP/err"
	expect_grep host_oom_message_names_the_limit 'address-space limit 195.3 MiB' "$TMP/err"
	expect_grep host_oom_message_says_not_stored 'the run is not stored' "$TMP/err"
	[ "$(wc -l <"$TMP/err")" = 1 ] && ok host_oom_message_is_one_line || bad host_oom_message_is_one_line "$(cat "$TMP/err")"
	[ ! -s "$TMP/out" ] && ok host_oom_prints_no_metrics || bad host_oom_prints_no_metrics "$(head -c 200 "$TMP/out")"
	expect_runs host_oom_stores_nothing "$db" 0
	# the same configuration with enough memory is stored, not refused as a conflict
	expect_status 0 same_run_with_memory_is_stored "$MEMSIM" run "${storm[@]}" --db "$db"
	expect_runs same_run_with_memory_stored_once "$db" 1

	# the issue's case: region_gb=1024 forks=2 per-page under 400 MB used to be stored with a
	# destroy time 10x too small; now it fails, refused by its estimate or at the first failure
	big=(--scenario fork-storm --model superpage --policy per-page --set region_gb=1024 --set forks=2)
	expect_status 1 issue_case_refused_by_estimate \
		bash -c "ulimit -v 400000 && exec \"\$0\" \"\$@\"" "$MEMSIM" run "${big[@]}" --db "$TMP/big.db"
	expect_grep issue_case_estimate_names_limit 'estimated model memory 2.0 GiB \(268435456 pages x 8 B\) exceeds --max-mem [0-9.]+ MiB \(the default, 3/4 of' "$TMP/err"
	expect_status 1 issue_case_fails_on_host_memory \
		bash -c "ulimit -v 400000 && exec \"\$0\" \"\$@\"" "$MEMSIM" run "${big[@]}" --max-mem 0 --db "$TMP/big.db"
	expect_grep issue_case_names_host_memory 'out of host memory' "$TMP/err"
	expect_runs issue_case_stores_nothing "$TMP/big.db" 0

	# with the default --max-mem (3/4 of ulimit -v) the estimate refuses it before it starts
	expect_status 1 estimate_over_default_limit_is_refused \
		bash -c "ulimit -v $LIMIT_KB && exec \"\$0\" \"\$@\"" "$MEMSIM" run "${storm[@]}" --db "$TMP/est.db"
	expect_grep estimate_refusal_names_estimate 'estimated model memory 256.0 MiB \(33554432 pages x 8 B\)' "$TMP/err"
	expect_grep estimate_refusal_names_default_limit 'exceeds --max-mem 146.5 MiB \(the default, 3/4 of the address-space limit \(ulimit -v\) 195.3 MiB\); not run' "$TMP/err"
	expect_runs estimate_refusal_stores_nothing "$TMP/est.db" 0

	# 1e16 tuples under a memory cap, estimate switched off: stops at the first host failure
	# instead of running on at the cap
	expect_status 1 population_at_host_cap_fails_at_once \
		bash -c "ulimit -v 100000 && exec \"\$0\" \"\$@\"" "$MEMSIM" run --scenario population --model rmap \
		--set frames=100000000 --set mean_degree=100000000 --max-mem 0 --db "$TMP/popcap.db"
	expect_grep population_at_host_cap_names_host_memory 'out of host memory: allocating 32 B for the model failed' "$TMP/err"
	expect_runs population_at_host_cap_stores_nothing "$TMP/popcap.db" 0

	# a sweep point that runs out of host memory fails, and is not stored
	expect_status 1 sweep_host_oom_fails \
		bash -c "ulimit -v $LIMIT_KB && exec \"\$0\" \"\$@\"" "$MEMSIM" sweep "${storm[@]}" --max-mem 0 --quiet --db "$TMP/sw-oom.db" exit=0,1
	expect_grep sweep_host_oom_names_host_memory 'out of host memory' "$TMP/err"
	expect_runs sweep_host_oom_stores_nothing "$TMP/sw-oom.db" 0
fi

# ---- 11: the run-time cap (traces have no estimate) ------------------------------------------
trace_run=(--trace "$sample" --model rmap --policy hash)   # holds 4.1 MiB at its peak
expect_status 1 cap_reached_fails_the_run "$MEMSIM" run "${trace_run[@]}" --max-mem 1Mi --db "$TMP/cap.db"
expect_grep cap_message_names_the_limit 'model memory limit reached: allocating .* for the model would exceed --max-mem 1.0 MiB' "$TMP/err"
expect_grep cap_message_says_not_stored 'the run is not stored' "$TMP/err"
expect_runs cap_reached_stores_nothing "$TMP/cap.db" 0
"$MEMSIM" run "${trace_run[@]}" --max-mem 0 --json >"$TMP/nolimit.json" 2>"$TMP/err"
"$MEMSIM" run "${trace_run[@]}" --max-mem 8Mi --json >"$TMP/limit.json" 2>>"$TMP/err"
if [ -s "$TMP/limit.json" ] && cmp -s "$TMP/nolimit.json" "$TMP/limit.json"; then
	ok cap_not_reached_changes_nothing
else
	bad cap_not_reached_changes_nothing "results differ with --max-mem 8Mi: $(head -c 300 "$TMP/err")"
fi

# ---- 11: estimates refuse before anything runs -----------------------------------------------
expect_status 2 population_1e16_tuples_is_impossible \
	"$MEMSIM" run --scenario population --model rmap --set frames=100000000 --set mean_degree=100000000 --db "$TMP/pop.db"
expect_grep population_1e16_names_tuples 'estimated model memory 283.9 PiB \(9.99e\+15 tuples x 32 B\) exceeds what any machine can address' "$TMP/err"
expect_runs population_1e16_stores_nothing "$TMP/pop.db" 0
expect_status 1 population_over_max_mem_is_refused \
	"$MEMSIM" run --scenario population --model rmap --max-mem 100M --db "$TMP/pop.db"
expect_grep population_refusal_names_both 'scenario population: estimated model memory 1.4 GiB \(4.82e\+07 tuples x 32 B\) exceeds --max-mem 95.4 MiB; not run' "$TMP/err"
expect_runs population_refusal_stores_nothing "$TMP/pop.db" 0
expect_status 1 one_frame_over_max_mem_is_refused "$MEMSIM" run --scenario one-frame --set n=100000000 --max-mem 1Gi
expect_grep one_frame_refusal_names_tuples '1e\+08 tuples x 32 B' "$TMP/err"
expect_status 1 churn_over_max_mem_is_refused \
	"$MEMSIM" run --scenario churn --model hinting --set guests=64 --set guest_mib=65536 --max-mem 1Gi
expect_grep churn_refusal_names_pages 'estimated model memory 2.0 GiB \(1073741824 guest pages x 2 B\) exceeds --max-mem 1.0 GiB; not run' "$TMP/err"
expect_status 0 estimate_under_max_mem_runs "$MEMSIM" run --scenario one-frame --set n=1000 --max-mem 1Mi
# a model the scenario does not estimate for is not refused (null holds nothing)
expect_status 0 no_estimate_for_null_model "$MEMSIM" run --scenario one-frame --set n=100000 --model null --max-mem 1Ki

# a sweep is refused whole, before the database is touched, dry run or not
expect_status 1 sweep_point_over_max_mem_refuses_sweep \
	"$MEMSIM" sweep --scenario population --model rmap --set mean_degree=10 --max-mem 10M --quiet --db "$TMP/sw.db" frames=1000,10000000
expect_grep sweep_refusal_names_the_point 'point #1 \(frames=10000000 rep=0\): scenario population: estimated model memory' "$TMP/err"
[ ! -e "$TMP/sw.db" ] && ok sweep_refusal_creates_no_database || bad sweep_refusal_creates_no_database "$TMP/sw.db exists"
expect_status 1 sweep_dry_run_refuses_too \
	"$MEMSIM" sweep --scenario population --model rmap --set mean_degree=10 --max-mem 10M --dry-run --db "$TMP/sw.db" frames=1000,10000000
expect_status 2 sweep_impossible_point_is_usage_error \
	"$MEMSIM" sweep --scenario population --model rmap --set frames=1000000 --set big_ppm=0 --set mid_ppm=0 --max-mem 1Gi --dry-run --db "$TMP/sw.db" mean_degree=10,100000000
expect_grep sweep_impossible_point_named 'point #1 \(mean_degree=100000000 rep=0\): .* exceeds what any machine can address' "$TMP/err"
# the defaults of a swept parameter do not count: only the points do
expect_status 0 sweep_base_defaults_not_estimated \
	"$MEMSIM" sweep --scenario population --model rmap --set mean_degree=10 --max-mem 10M --dry-run --db "$TMP/sw.db" frames=1000,2000

# the point check passing must not turn a later usage error into success
echo "not a database" >"$TMP/garbage.db"
expect_status 2 sweep_bad_db_after_point_check_is_still_an_error \
	"$MEMSIM" sweep --scenario smoke --max-mem 1Gi --dry-run --db "$TMP/garbage.db" n=1,2

# --max-mem values
expect_status 2 max_mem_not_a_size_is_rejected "$MEMSIM" run --scenario smoke --max-mem lots
expect_grep max_mem_message_names_option '^memsim run: --max-mem lots: not a size' "$TMP/err"
expect_status 2 max_mem_time_suffix_is_rejected "$MEMSIM" run --scenario smoke --max-mem 5us
expect_status 2 sweep_max_mem_not_a_size_is_rejected "$MEMSIM" sweep --scenario smoke --max-mem 1X --dry-run n=1
expect_status 0 max_mem_with_unit_b_is_accepted "$MEMSIM" run --scenario smoke --max-mem 8GiB
expect_status 0 run_help_documents_max_mem "$MEMSIM" run --help
expect_grep run_help_mentions_max_mem '--max-mem SIZE' "$TMP/out"
expect_status 0 sweep_help_documents_max_mem "$MEMSIM" sweep --help
expect_grep sweep_help_mentions_max_mem '--max-mem SIZE' "$TMP/out"

# ---- 4: modelled allocation failure is a seeded parameter ------------------------------------
enomem=(--scenario one-frame --set n=20000 --set writes=500 --model rmap --policy hash --set alloc_fail_ppm=20000)
"$MEMSIM" run "${enomem[@]}" --json >"$TMP/e1.json" 2>"$TMP/err"
"$MEMSIM" run "${enomem[@]}" --json >"$TMP/e2.json" 2>>"$TMP/err"
if [ -s "$TMP/e1.json" ] && cmp -s "$TMP/e1.json" "$TMP/e2.json"; then
	ok modelled_failures_are_deterministic
else
	bad modelled_failures_are_deterministic "outputs differ: $(head -c 300 "$TMP/err")"
fi
metric() { python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["metrics"].get(sys.argv[2], -1)))' "$1" "$2"; }
inj=$(metric "$TMP/e1.json" alloc_fail_injected); errs=$(metric "$TMP/e1.json" model_errors)
# 20000 per million of ~20100 allocations: about 400
if [ "$inj" -gt 300 ] && [ "$inj" -lt 520 ]; then ok modelled_failures_follow_ppm; else bad modelled_failures_follow_ppm "alloc_fail_injected=$inj"; fi
[ "$errs" = "$inj" ] && ok modelled_failures_reach_the_model || bad modelled_failures_reach_the_model "model_errors=$errs injected=$inj"
"$MEMSIM" run "${enomem[@]}" --seed 2 --json >"$TMP/e3.json" 2>/dev/null
[ "$(metric "$TMP/e3.json" alloc_fail_injected)" != "$inj" ] && ok modelled_failures_follow_the_seed \
	|| bad modelled_failures_follow_the_seed "same count with seed 2"
"$MEMSIM" run --scenario one-frame --set n=20000 --set writes=500 --model rmap --policy hash --json >"$TMP/e0.json" 2>/dev/null
[ "$(metric "$TMP/e0.json" alloc_fail_injected)" = -1 ] && [ "$(metric "$TMP/e0.json" model_errors)" = 0 ] \
	&& ok no_modelled_failures_by_default || bad no_modelled_failures_by_default "$(head -c 300 "$TMP/e0.json")"
expect_grep alloc_fail_ppm_is_in_the_configuration '"alloc_fail_ppm":20000' "$TMP/e1.json"
# at 0 it is left out, so runs without modelled failures keep the ids they had before it
if ! grep -q alloc_fail_ppm "$TMP/e0.json"; then ok alloc_fail_ppm_0_left_out_of_configuration
else bad alloc_fail_ppm_0_left_out_of_configuration "$(head -c 300 "$TMP/e0.json")"; fi
expect_status 0 modelled_failure_run_is_stored "$MEMSIM" run "${enomem[@]}" --db "$TMP/e.db"
expect_status 0 default_run_is_stored_beside_it \
	"$MEMSIM" run --scenario one-frame --set n=20000 --set writes=500 --model rmap --policy hash --db "$TMP/e.db"
expect_runs ppm_makes_another_run "$TMP/e.db" 2
v=$(sqlite3 "$TMP/e.db" "select count(*) from params where key='alloc_fail_ppm' and value='20000'" 2>&1)
[ "$v" = 1 ] && ok alloc_fail_ppm_is_stored_as_a_parameter || bad alloc_fail_ppm_is_stored_as_a_parameter "$v"
v=$(sqlite3 "$TMP/e.db" "select count(*) from params where key='alloc_fail_ppm'" 2>&1)
[ "$v" = 1 ] && ok alloc_fail_ppm_0_not_stored || bad alloc_fail_ppm_0_not_stored "$v rows"
# a sweep over it: 0 and 1000 are two runs, the 0 one the same as a plain run
expect_status 0 sweep_over_alloc_fail_ppm "$MEMSIM" sweep --scenario one-frame --set n=20000 --set writes=500 \
	--model rmap --policy hash --quiet --db "$TMP/e.db" alloc_fail_ppm=0,20000
expect_grep sweep_over_alloc_fail_ppm_finds_both_stored '2 points: 0 run, 2 already stored' "$TMP/err"
expect_status 2 alloc_fail_ppm_out_of_range "$MEMSIM" run --scenario smoke --set alloc_fail_ppm=1000001
expect_status 0 params_list_alloc_fail_ppm "$MEMSIM" run --params --model scrub
expect_grep params_show_alloc_fail_ppm '^  run +alloc_fail_ppm' "$TMP/out"
finish
