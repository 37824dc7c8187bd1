# tests/cli/experiment.sh — an experiment file names the whole sweep (model, policies,
# scenario or trace, profile, reps, fixed set lines, axes); it is stored verbatim with the
# sweep; the command line overrides its settings.
. "$(dirname "$0")/lib.sh"
db="$TMP/x.db"
cat >"$TMP/exp.txt" <<'TXT'
# hysteresis of the rmap on one frame
model    = rmap
scenario = one-frame
profile  = seed-2012
reps     = 2
seed     = 7
set n = 1500
set writes=300
set light = 8
policy   = list, hash
heavy    = 16, 128
TXT

expect_status 0 experiment_runs "$MEMSIM" sweep --db "$db" --quiet --file "$TMP/exp.txt"
expect_grep experiment_has_8_points '8 points: 8 run' "$TMP/err"
# the same sweep spelled on the command line has the same id
expect_status 0 experiment_same_as_command_line "$MEMSIM" sweep --db "$db" --quiet --model rmap \
	--scenario one-frame --profile seed-2012 --reps 2 --seed 7 --set n=1500 --set writes=300 \
	--set light=8 --policy list,hash heavy=16,128
expect_grep experiment_command_line_finds_it_stored '8 points: 0 run, 8 already stored' "$TMP/err"
got=$(sqlite3 "$db" "SELECT count(*) FROM sweeps")
if [ "$got" = 1 ]; then ok experiment_is_one_sweep; else bad experiment_is_one_sweep "$got sweeps"; fi
# stored verbatim
if [ "$(sqlite3 "$db" "SELECT text = CAST(readfile('$TMP/exp.txt') AS TEXT) FROM sweep_files")" = 1 ]; then
	ok experiment_file_stored_verbatim
else bad experiment_file_stored_verbatim "$(sqlite3 "$db" "SELECT text FROM sweep_files" | head -3)"; fi
name=$(sqlite3 "$db" "SELECT name || ' ' || (sweep_id = (SELECT sweep_id FROM sweeps)) FROM sweep_files")
if [ "$name" = "exp.txt 1" ]; then ok experiment_file_named_with_its_sweep; else bad experiment_file_named_with_its_sweep "$name"; fi
expect_status 0 experiment_report "$MEMSIM" report --db "$db" --sweep last -o "$TMP/rep" --metric destroy_ns
expect_grep experiment_report_shows_the_file 'Experiment file <code>exp.txt</code>' "$TMP/rep/index.html"
expect_grep experiment_report_shows_its_text 'set light = 8' "$TMP/rep/index.html"
# fixed settings reached the runs
got=$(sqlite3 "$db" "SELECT count(*) FROM params WHERE key = 'light' AND value = '8'")
if [ "$got" = 8 ]; then ok experiment_set_lines_apply; else bad experiment_set_lines_apply "$got"; fi

# the command line overrides: --reps 3 extends the file's sweep, --set light=4 wins
expect_status 0 experiment_reps_override "$MEMSIM" sweep --db "$db" --quiet --file "$TMP/exp.txt" --reps 3
expect_grep experiment_reps_override_extends '12 points: 4 run, 8 already stored' "$TMP/err"
expect_status 0 experiment_set_override "$MEMSIM" sweep --db "$db" --quiet --file "$TMP/exp.txt" --set light=4 --dry-run
expect_grep experiment_set_override_is_todo 'todo' "$TMP/out"
expect_status 0 experiment_set_override_runs "$MEMSIM" sweep --db "$db" --quiet --file "$TMP/exp.txt" --set light=4
got=$(sqlite3 "$db" "SELECT count(*) FROM params WHERE key = 'light' AND value = '4'")
if [ "$got" = 8 ]; then ok experiment_command_line_set_wins; else bad experiment_command_line_set_wins "$got"; fi

# bad lines: one line naming file and line, exit 2, nothing stored
printf 'model = rmap\nreps = many\nheavy = 16\n' >"$TMP/bad.txt"
expect_status 2 experiment_bad_reps "$MEMSIM" sweep --db "$TMP/bad.db" --quiet --scenario one-frame --file "$TMP/bad.txt"
expect_grep experiment_bad_reps_named 'reps = many' "$TMP/err"
printf 'model = rmap\nmodel = rmap\n' >"$TMP/twice.txt"
expect_status 2 experiment_twice "$MEMSIM" sweep --db "$TMP/bad.db" --quiet --file "$TMP/twice.txt"
expect_grep experiment_twice_names_line 'twice.txt:2: model is set twice' "$TMP/err"
printf 'set heavy\n' >"$TMP/set.txt"
expect_status 2 experiment_bad_set "$MEMSIM" sweep --db "$TMP/bad.db" --quiet --scenario one-frame --file "$TMP/set.txt"
expect_grep experiment_bad_set_named 'set.txt:1: set heavy: expected set NAME=VALUE' "$TMP/err"
printf 'trace = a.mst\nscenario = one-frame\n' >"$TMP/both.txt"
expect_status 2 experiment_trace_and_scenario "$MEMSIM" sweep --db "$TMP/bad.db" --quiet --file "$TMP/both.txt"
if [ ! -e "$TMP/bad.db" ] || [ "$(sqlite3 "$TMP/bad.db" 'SELECT count(*) FROM runs')" = 0 ]; then
	ok experiment_bad_files_store_nothing
else bad experiment_bad_files_store_nothing "runs stored"; fi
finish
