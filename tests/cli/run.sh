#!/usr/bin/env bash
# tests/cli/run.sh — `memsim run`: output, determinism, storage, and bad input.
. "$(dirname "$0")/lib.sh"
db="$TMP/r.db"
small=(--scenario one-frame --set n=2000 --set writes=100 --model rmap --policy hash)

expect_status 0 run_help_exits_0 "$MEMSIM" run --help
expect_grep run_help_lists_models 'rmap' "$TMP/out"

expect_status 0 run_json_succeeds "$MEMSIM" run "${small[@]}" --json
cp "$TMP/out" "$TMP/a.json"
expect_grep run_json_has_fields '"run_id":"[0-9a-f]{16}".*"config":.*"metrics":.*"event_digest":"[0-9a-f]{16}"' "$TMP/a.json"
expect_grep run_json_reports_destroy_ns '"destroy_ns":[0-9]+' "$TMP/a.json"
"$MEMSIM" run "${small[@]}" --json >"$TMP/b.json" 2>/dev/null
if cmp -s "$TMP/a.json" "$TMP/b.json"; then ok same_run_twice_is_byte_identical; else bad same_run_twice_is_byte_identical "outputs differ"; fi
"$MEMSIM" run "${small[@]}" --seed 2 --json >"$TMP/c.json" 2>/dev/null
if ! cmp -s "$TMP/a.json" "$TMP/c.json"; then ok another_seed_gives_another_run; else bad another_seed_gives_another_run "same output"; fi

expect_status 0 run_stores_into_db "$MEMSIM" run "${small[@]}" --db "$db"
n=$(sqlite3 "$db" 'select count(*) from runs')
[ "$n" = 1 ] && ok db_has_one_run || bad db_has_one_run "runs=$n"
expect_status 0 rerun_is_recognised "$MEMSIM" run "${small[@]}" --db "$db"
expect_grep rerun_says_already_stored 'already stored' "$TMP/err"
n=$(sqlite3 "$db" 'select count(*) from runs')
[ "$n" = 1 ] && ok rerun_adds_nothing || bad rerun_adds_nothing "runs=$n"

# bad input: one line on stderr, exit 2, nothing written
expect_status 2 unknown_option_is_usage_error "$MEMSIM" run --bogus
expect_status 2 unknown_param_is_rejected "$MEMSIM" run "${small[@]}" --set hevy=4 --db "$db"
expect_grep unknown_param_message_names_it "unknown parameter 'hevy'" "$TMP/err"
expect_status 2 bad_value_is_rejected "$MEMSIM" run "${small[@]}" --set heavy=abc --db "$db"
expect_status 2 out_of_range_value_is_rejected "$MEMSIM" run "${small[@]}" --set heavy=0 --db "$db"
expect_status 2 inconsistent_hysteresis_is_rejected "$MEMSIM" run "${small[@]}" --set heavy=64 --set light=64 --db "$db"
expect_status 2 unknown_model_is_rejected "$MEMSIM" run --scenario one-frame --model nope
expect_status 2 unknown_policy_is_rejected "$MEMSIM" run --scenario one-frame --model rmap --policy nope
expect_grep unknown_policy_lists_known 'known: list hash tree hash-grow' "$TMP/err"
expect_status 2 unknown_scenario_is_rejected "$MEMSIM" run --scenario nope
expect_status 2 missing_trace_is_rejected "$MEMSIM" run --trace "$TMP/none.mst" --db "$db"
expect_status 2 trace_and_scenario_together_rejected "$MEMSIM" run --trace x --scenario one-frame
expect_status 2 bad_profile_is_rejected "$MEMSIM" run "${small[@]}" --profile "$TMP/none.prof"
printf 'name p\ncost hop 3\n' >"$TMP/bad.prof"
expect_status 2 bad_profile_line_is_rejected "$MEMSIM" run "${small[@]}" --profile "$TMP/bad.prof"
expect_grep bad_profile_message_names_line 'bad.prof:2:' "$TMP/err"
expect_status 2 bad_seed_is_rejected "$MEMSIM" run "${small[@]}" --seed x
lines=$(wc -l <"$TMP/err")
[ "$lines" = 1 ] && ok errors_are_one_line || bad errors_are_one_line "$lines lines"

# a trace file replays like the scenario it was generated from
if "$MEMSIM" trace gen one-frame --set n=2000 --set writes=100 --seed 1 -o "$TMP/t.mst" 2>"$TMP/err"; then
	expect_status 0 run_replays_a_trace_file "$MEMSIM" run --trace "$TMP/t.mst" --model rmap --policy hash --json
	a=$(grep -o '"metrics":{[^}]*}' "$TMP/a.json"); b=$(grep -o '"metrics":{[^}]*}' "$TMP/out")
	[ "$a" = "$b" ] && ok file_replay_matches_generated_run || bad file_replay_matches_generated_run "metrics differ"
	# corrupt it: flip a byte in the middle; the run must fail with exit 2 and store nothing
	size=$(stat -c %s "$TMP/t.mst")
	cp "$TMP/t.mst" "$TMP/bad.mst"
	printf '\xff' | dd of="$TMP/bad.mst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	before=$(sqlite3 "$db" 'select count(*) from runs')
	expect_status 2 corrupt_trace_is_rejected "$MEMSIM" run --trace "$TMP/bad.mst" --db "$db"
	expect_grep corrupt_trace_message_names_offset 'offset [0-9]+' "$TMP/err"
	after=$(sqlite3 "$db" 'select count(*) from runs')
	[ "$before" = "$after" ] && ok corrupt_trace_stores_nothing || bad corrupt_trace_stores_nothing "$before -> $after"
else
	bad trace_gen_for_replay "$(cat "$TMP/err")"
fi
# where a run is stored: like a sweep, --db FILE, else $MEMSIM_DB, else ./memsim.db; --no-db
# stores nothing.  The results are printed first in every case.
mkdir -p "$TMP/where"
( cd "$TMP/where" && env -u MEMSIM_DB "$MEMSIM" run --scenario smoke --set n=50 >"$TMP/where.out" 2>"$TMP/where.err" )
expect_grep run_without_db_prints_results '^event_digest ' "$TMP/where.out"
if [ -f "$TMP/where/memsim.db" ] && "$MEMSIM" db ls --db "$TMP/where/memsim.db" | grep -q smoke; then
	ok run_without_db_stores_in_cwd_memsim_db
else bad run_without_db_stores_in_cwd_memsim_db "no run in $TMP/where/memsim.db: $(cat "$TMP/where.err")"; fi
( cd "$TMP/where" && MEMSIM_DB="$TMP/where/env.db" "$MEMSIM" run --scenario smoke --set n=60 >/dev/null 2>&1 )
if "$MEMSIM" db ls --db "$TMP/where/env.db" 2>/dev/null | grep -q smoke; then ok run_stores_in_MEMSIM_DB
else bad run_stores_in_MEMSIM_DB "no run in \$MEMSIM_DB"; fi
mkdir -p "$TMP/nodb"
( cd "$TMP/nodb" && MEMSIM_DB="$TMP/nodb/env.db" "$MEMSIM" run --no-db --scenario smoke --set n=50 >"$TMP/nodb.out" 2>&1 )
if [ -z "$(ls -A "$TMP/nodb")" ] && grep -q '^event_digest ' "$TMP/nodb.out"; then ok run_no_db_stores_nothing
else bad run_no_db_stores_nothing "$(ls -A "$TMP/nodb") $(head -c 300 "$TMP/nodb.out")"; fi
expect_status 2 run_db_and_no_db_refused "$MEMSIM" run --no-db --db "$TMP/x.db" --scenario smoke
expect_grep run_db_and_no_db_says_why 'choose one' "$TMP/err"
finish
