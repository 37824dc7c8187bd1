# tests/cli/sweep_extend.sh — a sweep run again with more repetitions is the same sweep,
# extended (stored points reused); the report flags points with fewer runs than the
# repetitions; intervals of non-negative metrics stay >= 0.
. "$(dirname "$0")/lib.sh"
db="$TMP/e.db"
grid="--db $db --quiet --scenario one-frame --set n=1500 --set writes=300 --set light=8 --policy list,hash heavy=16,128"
sid() { sqlite3 "$db" "SELECT group_concat(sweep_id) FROM sweeps"; }

expect_status 0 extend_first_reps_2 $MEMSIM sweep $grid --reps 2
first=$(sid)
expect_status 0 extend_again_reps_3 $MEMSIM sweep $grid --reps 3
expect_grep extend_reuses_stored_points '12 points: 4 run, 8 already stored' "$TMP/err"
if [ "$(sid)" = "$first" ]; then ok extend_keeps_one_sweep_id; else bad extend_keeps_one_sweep_id "$first then $(sid)"; fi
got=$(sqlite3 "$db" "SELECT count(*) || ' ' || count(DISTINCT sweep_id) FROM runs")
if [ "$got" = "12 1" ]; then ok extend_all_runs_in_the_sweep; else bad extend_all_runs_in_the_sweep "$got"; fi
reps=$(sqlite3 "$db" "SELECT json_extract(spec, '\$.reps') FROM sweeps")
if [ "$reps" = 3 ]; then ok extend_spec_says_3_reps; else bad extend_spec_says_3_reps "$reps"; fi
# fewer reps again: nothing to run, the spec keeps the larger count
expect_status 0 extend_fewer_reps_is_done $MEMSIM sweep $grid --reps 2
expect_grep extend_fewer_reps_runs_nothing '8 points: 0 run, 8 already stored' "$TMP/err"
reps=$(sqlite3 "$db" "SELECT json_extract(spec, '\$.reps') || ' ' || count(*) FROM sweeps")
if [ "$reps" = "3 1" ]; then ok extend_spec_keeps_the_most_reps; else bad extend_spec_keeps_the_most_reps "$reps"; fi
# the summary as JSON on stdout
expect_status 0 extend_summary_json $MEMSIM sweep $grid --reps 3 --json
if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["sweep_id"] == sys.argv[2] and j["points"] == 12 and j["run"] == 0
assert j["already_stored"] == 12 and j["failed"] == 0 and j["interrupted"] is False' "$TMP/out" "$first"
then ok extend_summary_json_parses; else bad extend_summary_json_parses "$(cat "$TMP/out")"; fi
# another fixed setting is another sweep
expect_status 0 extend_other_setting $MEMSIM sweep $grid --reps 2 --set batch=64
n=$(sqlite3 "$db" "SELECT count(*) FROM sweeps")
if [ "$n" = 2 ]; then ok extend_other_setting_is_another_sweep; else bad extend_other_setting_is_another_sweep "$n sweeps"; fi

expect_status 0 extend_report_full "$MEMSIM" report --db "$db" --sweep "$first" -o "$TMP/r1" --metric destroy_ns
expect_grep extend_report_full_runs_per_point '<td>runs per point</td><td>3</td>' "$TMP/r1/index.html"
# a point short of a run (an interrupted shard) is flagged
sqlite3 "$db" "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE run_id = (SELECT run_id FROM runs WHERE sweep_id = '$first' ORDER BY run_id LIMIT 1)"
expect_status 0 extend_report_partial "$MEMSIM" report --db "$db" --sweep "$first" -o "$TMP/r2" --metric destroy_ns
expect_grep extend_report_flags_partial 'runs per point</td><td>2..3 \(partial: 1 of 4 points have fewer than 3 repetitions\)' "$TMP/r2/index.html"
expect_grep extend_report_says_clamped 'lower bound is clamped at 0' "$TMP/r2/index.html"
finish
