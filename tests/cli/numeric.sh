# tests/cli/numeric.sh — numbers are never silently wrong (docs/security.md, 3, 5 and 7):
# simulated time that would wrap fails the run, --set and profiles are parsed strictly,
# --where compares numerically and rejects what it cannot parse.
. "$(dirname "$0")/lib.sh"
nruns() { if [ -e "$1" ]; then sqlite3 "$1" 'SELECT count(*) FROM runs'; else echo 0; fi; }

# ---- 3. simulated time never wraps ------------------------------------------------------
# A profile at the cost bound (1 s a unit): 2e8 list hops of 1 s overflow 2^64 ps.
printf 'name at-the-bound\ncost list_hop 1000000000\n' >"$TMP/bound.prof"
db="$TMP/t3.db"
expect_status 1 overflowing_run_exits_1 "$MEMSIM" run --scenario one-frame --set n=20000 \
	--set relinquish=monolithic --policy list --set list_fast=1 --profile "$TMP/bound.prof" --db "$db"
expect_grep overflow_message_names_the_unit 'time overflow: .*list_hop 200010000 units x 1000000000.000 ns' "$TMP/err"
[ "$(wc -l <"$TMP/err")" = 1 ] && ok overflow_message_is_one_line || bad overflow_message_is_one_line "$(cat "$TMP/err")"
[ "$(nruns "$db")" = 0 ] && ok overflowing_run_stores_nothing || bad overflowing_run_stores_nothing "runs=$(nruns "$db")"
[ ! -s "$TMP/out" ] && ok overflowing_run_prints_no_metrics || bad overflowing_run_prints_no_metrics "$(head -3 "$TMP/out")"
expect_status 0 same_run_below_the_limit_succeeds "$MEMSIM" run --scenario one-frame --set n=1000 \
	--set relinquish=monolithic --policy list --set list_fast=1 --profile "$TMP/bound.prof" --db "$db"
expect_grep below_the_limit_time_is_exact 'destroy_ns +500500000000000 ' "$TMP/out"

# a sweep whose one point overflows: exit 1, the other points stored, that one not
expect_status 1 sweep_with_overflowing_point_exits_1 "$MEMSIM" sweep --scenario one-frame \
	--set relinquish=monolithic --policy list --set list_fast=1 --profile "$TMP/bound.prof" \
	--db "$TMP/t3s.db" --quiet n=10,20000,30
expect_grep sweep_names_the_overflow 'time overflow' "$TMP/err"
[ "$(sqlite3 "$TMP/t3s.db" "SELECT count(*) FROM params WHERE key = 'n' AND value = '20000'")" = 0 ] &&
	ok sweep_stores_no_overflowed_point || bad sweep_stores_no_overflowed_point "stored"

# the issue's own case: the built-in profile, in-range parameters (25M entries: ~10 s, ~1 GB,
# so not under the sanitizers, where the unit test checks the same pricing)
if [ -z "${MEMSIM_SANITIZED:-}" ]; then
	db="$TMP/t3big.db"
	expect_status 1 issue_one_frame_25M_exits_1 "$MEMSIM" run --scenario one-frame --set n=25000000 \
		--set list_fast=1 --set relinquish=monolithic --policy list --db "$db"
	expect_grep issue_one_frame_names_what_overflowed 'time overflow: the work of one operation exceeds 2\^64 ps .*list_hop 312500012500000 units x 85.000 ns' "$TMP/err"
	[ "$(nruns "$db")" = 0 ] && ok issue_one_frame_stores_nothing || bad issue_one_frame_stores_nothing "runs=$(nruns "$db")"
fi

# a generated trace whose record times would pass 2^64 ns is refused before it starts
expect_status 2 scenario_time_overflow_is_refused "$MEMSIM" run --model scrub --scenario destroy-create \
	--set new_gb=65536 --set new_order=0 --set alloc_gap_ns=1099511627776 --db "$TMP/t3g.db"
expect_grep scenario_time_overflow_names_it 'time overflow: alloc_gap_ns 1099511627776 x 17179869184 allocations' "$TMP/err"
[ "$(nruns "$TMP/t3g.db")" = 0 ] && ok scenario_time_overflow_stores_nothing || bad scenario_time_overflow_stores_nothing "stored"

# a profile that could overflow is refused when loaded, naming its line
printf 'name huge\nmeta source test\ncost list_hop 1844674407370955\n' >"$TMP/huge.prof"
expect_status 2 huge_cost_profile_is_refused "$MEMSIM" run --scenario one-frame --set n=10 --profile "$TMP/huge.prof" --db "$TMP/t3h.db"
expect_grep huge_cost_message_names_the_line 'huge.prof:3: cost 1844674407370955 ns is above the largest a unit may cost' "$TMP/err"
[ "$(nruns "$TMP/t3h.db")" = 0 ] && ok huge_cost_stores_nothing || bad huge_cost_stores_nothing "stored"
printf 'name sum\ncost list_hop 600000000\ncost alloc 500000000\n' >"$TMP/sum.prof"
expect_status 2 costs_summing_above_1s_are_refused "$MEMSIM" run --scenario one-frame --set n=10 --profile "$TMP/sum.prof"
expect_grep sum_message_names_the_line 'sum.prof:3: .*in all' "$TMP/err"

# ---- 5. options and profiles are parsed strictly -------------------------------------------
small=(--scenario one-frame --policy hash)
db="$TMP/t5.db"
expect_status 2 set_twice_is_an_error "$MEMSIM" run "${small[@]}" --set n=10 --set n=20 --db "$db"
expect_grep set_twice_names_the_parameter '^memsim run: --set n=20: n is given twice' "$TMP/err"
expect_status 2 set_twice_in_a_sweep_is_an_error "$MEMSIM" sweep "${small[@]}" --set n=10 --set n=20 --db "$db" --quiet heavy=64,128
expect_grep sweep_set_twice_names_the_parameter 'n is given twice' "$TMP/err"
expect_status 2 set_twice_in_trace_gen_is_an_error "$MEMSIM" trace gen one-frame --set n=10 --set n=20 -o "$TMP/t.mst"
[ ! -e "$TMP/t.mst" ] && ok trace_gen_set_twice_writes_nothing || bad trace_gen_set_twice_writes_nothing "file written"
expect_status 2 time_suffix_on_a_count_is_an_error "$MEMSIM" run "${small[@]}" --set n=5us --db "$db"
expect_grep time_suffix_message_says_why "--set n=5us: '5us' has a time suffix .*accepted only by a time parameter" "$TMP/err"
expect_status 0 time_suffix_on_a_time_is_converted "$MEMSIM" run "${small[@]}" --set n=10 --set dom0_burst_ns=5us --json
expect_grep time_suffix_gives_ns '"dom0_burst_ns":5000[,}]' "$TMP/out"
expect_status 0 multiplier_on_a_count_is_fine "$MEMSIM" run "${small[@]}" --set n=2k --json
expect_grep multiplier_gives_the_count '"n":2000[,}]' "$TMP/out"
expect_status 2 time_suffix_on_a_swept_count_is_an_error "$MEMSIM" sweep "${small[@]}" --db "$db" --dry-run n=5us,10us
expect_grep swept_count_message_names_the_value "'5us' has a time suffix" "$TMP/err"
[ "$(nruns "$db")" = 0 ] && ok strict_options_store_nothing || bad strict_options_store_nothing "runs=$(nruns "$db")"

printf 'name fine\ncost list_hop 85.0009\n' >"$TMP/fine.prof"
expect_status 2 sub_picosecond_cost_is_an_error "$MEMSIM" run "${small[@]}" --set n=10 --profile "$TMP/fine.prof"
expect_grep sub_picosecond_cost_names_the_line "fine.prof:2: '85.0009' has more than 3 decimals" "$TMP/err"
printf 'name one\ncost list_hop 85\nname two\n' >"$TMP/names.prof"
expect_status 2 two_name_lines_are_an_error "$MEMSIM" run "${small[@]}" --set n=10 --profile "$TMP/names.prof"
expect_grep two_name_lines_name_the_line "names.prof:3: a second 'name' line \(the first is line 1\)" "$TMP/err"
printf 'name m\nmeta source a\nmeta source b\ncost list_hop 85\n' >"$TMP/meta.prof"
expect_status 2 meta_key_twice_is_an_error "$MEMSIM" run "${small[@]}" --set n=10 --profile "$TMP/meta.prof"
expect_grep meta_key_twice_names_the_line 'meta.prof:3: meta source given twice' "$TMP/err"

# ---- 7. --where is parsed strictly and compared numerically --------------------------------
db="$TMP/t7.db"
"$MEMSIM" sweep --scenario one-frame --set n=300 --policy list,hash --db "$db" --quiet \
	heavy=128,256,512,1024 >/dev/null 2>&1
xs() { grep -v '^#' "$1" | awk 'NF {print $1}' | sort -un | tr '\n' ' '; }
plotw() { "$MEMSIM" plot line --db "$db" --x heavy --data "$TMP/w.dat" -o "$TMP/w.png" "$@"; }
expect_status 2 where_with_or_is_refused plotw --where 'heavy>=16 OR 1'
expect_grep where_or_names_the_character "--where 'heavy>=16 OR 1': at character 11 \('OR 1'\)" "$TMP/err"
expect_status 2 where_out_of_range_number_is_refused plotw --where 'heavy>=1e400'
expect_grep where_out_of_range_says_so 'at character 8 .*1e400 is out of range' "$TMP/err"
expect_status 0 where_compares_integers_numerically plotw --where 'heavy>=256'
[ "$(xs "$TMP/w.dat")" = "256 512 1024 " ] && ok where_numeric_keeps_every_point || bad where_numeric_keeps_every_point "x: $(xs "$TMP/w.dat")"
expect_status 0 where_compares_decimals_exactly plotw --where 'heavy<256.5' --where 'heavy>1.28e2'
[ "$(xs "$TMP/w.dat")" = "256 " ] && ok where_decimal_bounds_select_exactly || bad where_decimal_bounds_select_exactly "x: $(xs "$TMP/w.dat")"
expect_status 0 where_metric_with_time_suffix plotw --where 'destroy_ns>=0us'
[ "$(xs "$TMP/w.dat")" = "128 256 512 1024 " ] && ok where_metric_compares_as_number || bad where_metric_compares_as_number "x: $(xs "$TMP/w.dat")"
expect_status 2 where_orders_a_choice_is_an_error plotw --where 'relinquish<3'
expect_grep where_choice_error_names_the_run "run [0-9a-f]{16}: relinquish is 'preemptible', not a number" "$TMP/err"
expect_status 2 where_orders_a_word_is_an_error plotw --where 'policy<hash'
expect_status 2 where_time_suffix_on_a_count_is_an_error plotw --where 'heavy>=5us'
expect_status 2 where_orders_an_id_is_an_error plotw --where 'run_id>5'
expect_status 0 where_text_still_works plotw --where 'policy=hash' --where trace=scenario:one-frame

finish
