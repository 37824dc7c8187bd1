# tests/cli/sweep.sh — `memsim sweep`: specs, dry run, skip-done, workers give identical
# results, kill (SIGKILL, SIGINT) and resume, shards through GNU parallel merged back.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi

# A small sweep: 3 policies x 3 (heavy, light) pairs x 2 reps = 18 points, ~1 s in all.
SMALL="--scenario one-frame --set n=1500 --set writes=300 --policy list,hash,tree --reps 2"
AXES="heavy=32..128*2 light=heavy/4"

# canon DB: its runs and metrics as CSV, without the columns that are not deterministic
# (wall_ns, created: fields 12 and 14 of the runs export, before the JSON config).
canon() {
	"$MEMSIM" db export --csv --db "$1" --what runs |
		sed -E 's/^(([^,]*,){11})[^,]*,([^,]*,)[^,]*,/\1\3/'
	"$MEMSIM" db export --csv --db "$1" --what metrics
	"$MEMSIM" db export --csv --db "$1" --what params
}
nruns() { sqlite3 "$1" 'SELECT count(*) FROM runs' 2>/dev/null || echo 0; }
same() { # NAME FILE1 FILE2
	if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$(diff "$2" "$3" | head -5)"; fi
}

# ---- specs and dry run ------------------------------------------------------------------
expect_status 0 sweep_help_exits_0 "$MEMSIM" sweep --help
expect_grep sweep_help_shows_range_syntax 'heavy=64..4096\*2' "$TMP/out"

expect_status 0 dry_run_exits_0 "$MEMSIM" sweep --db "$TMP/none.db" $SMALL $AXES --dry-run
if [ "$(grep -c '^point ' "$TMP/out")" = 18 ]; then ok dry_run_prints_every_point
else bad dry_run_prints_every_point "$(grep -c '^point ' "$TMP/out") lines"; fi
expect_grep dry_run_shows_derived_values 'policy=tree heavy=128 light=32 rep=1' "$TMP/out"
expect_grep dry_run_counts_todo '18 points, 0 already stored, 18 to run' "$TMP/out"
if [ -e "$TMP/none.db" ]; then bad dry_run_creates_no_database "none.db exists"
else ok dry_run_creates_no_database; fi
grep '^point ' "$TMP/out" | awk '{print $4}' | sort >"$TMP/ids.all"
if [ "$(sort -u "$TMP/ids.all" | wc -l)" = 18 ]; then ok every_point_has_its_own_run_id
else bad every_point_has_its_own_run_id "$(sort -u "$TMP/ids.all" | wc -l) distinct"; fi
if [ "$(grep '^point ' "$TMP/out" | awk '{print $6}' | sort -u | wc -l)" = 2 ]; then
	ok reps_use_two_distinct_seeds
else bad reps_use_two_distinct_seeds "$(grep '^point ' "$TMP/out" | head -3)"; fi

# the same sweep written in a file: same sweep id and run ids
cat >"$TMP/spec.txt" <<'EOF'
# the axis order fixes the point numbering (and so the sweep id): policy first, as --policy
policy = list,hash,tree
# rmap hysteresis pair, moving as one
heavy = 32, 64, 128   # same values as 32..128*2
light = heavy / 4
EOF
"$MEMSIM" sweep --db "$TMP/none.db" --scenario one-frame --set n=1500 --set writes=300 \
	--reps 2 --file "$TMP/spec.txt" --dry-run >"$TMP/file.out" 2>&1
grep '^point ' "$TMP/file.out" | awk '{print $4}' | sort >"$TMP/ids.file"
same sweep_file_gives_the_same_points "$TMP/ids.all" "$TMP/ids.file"
if [ "$(tail -1 "$TMP/out" | awk '{print $2}')" = "$(tail -1 "$TMP/file.out" | awk '{print $2}')" ]
then ok sweep_file_gives_the_same_sweep_id
else bad sweep_file_gives_the_same_sweep_id "$(tail -1 "$TMP/file.out")"; fi

# a condition leaves out points: heavy 64, 256, 1024 x light 16, 64, 256 with light < heavy
expect_status 0 condition_dry_run_exits_0 "$MEMSIM" sweep --scenario one-frame --policy hash heavy=64..1024*4 light=16..256*4 --if 'light < heavy' --dry-run
expect_grep condition_keeps_only_true_points '6 points, 0 already stored' "$TMP/out"
if grep -q 'heavy=64 light=64' "$TMP/out"; then bad condition_drops_light_equal_heavy "$(grep 'heavy=64 light=64' "$TMP/out")"
else ok condition_drops_light_equal_heavy; fi

# bad specs: exit 2, one line naming the problem
expect_status 2 unknown_parameter_is_usage_error "$MEMSIM" sweep $SMALL hevy=64 --dry-run
expect_grep unknown_parameter_is_named "hevy=64: unknown parameter 'hevy'" "$TMP/err"
expect_status 2 unknown_name_in_expression_is_usage_error "$MEMSIM" sweep $SMALL heavy=64 light=hevy/4 --dry-run
expect_grep unknown_name_in_expression_is_named "light=hevy/4: unknown parameter 'hevy'" "$TMP/err"
expect_status 2 derived_cycle_is_usage_error "$MEMSIM" sweep $SMALL heavy=light*4 light=heavy/4 --dry-run
expect_grep derived_cycle_is_shown 'cycle: heavy -> light -> heavy' "$TMP/err"
expect_status 2 bad_range_is_usage_error "$MEMSIM" sweep $SMALL heavy=64..32*2 --dry-run
expect_grep bad_range_says_why 'heavy=64..32\*2: range 64..32 is empty' "$TMP/err"
printf 'heavy=64\n# comment\nlight=heavy/0\n' >"$TMP/bad.txt"
expect_status 2 bad_file_line_is_usage_error "$MEMSIM" sweep $SMALL --file "$TMP/bad.txt" --dry-run
expect_grep bad_file_line_is_named "bad.txt:3: light=heavy/0: division by zero" "$TMP/err"
expect_status 2 value_out_of_range_is_usage_error "$MEMSIM" sweep $SMALL heavy=0,64 --dry-run
expect_grep value_out_of_range_names_the_point 'point #0 \(policy=list heavy=0 rep=0\): heavy=0: heavy must be in' "$TMP/err"
expect_status 2 unknown_policy_is_usage_error "$MEMSIM" sweep --scenario one-frame --policy list,hush --dry-run
expect_grep unknown_policy_is_named "'hush' is not a policy of model rmap" "$TMP/err"
expect_status 2 swept_and_set_is_usage_error "$MEMSIM" sweep $SMALL --set heavy=64 heavy=64,128 --dry-run
expect_grep swept_and_set_is_explained 'heavy is also fixed by --set' "$TMP/err"
expect_status 2 bad_shard_is_usage_error "$MEMSIM" sweep $SMALL --shard 3/2 --dry-run
expect_status 2 bad_reps_is_usage_error "$MEMSIM" sweep $SMALL --reps 0 --dry-run
expect_status 2 stray_argument_is_usage_error "$MEMSIM" sweep $SMALL heavy --dry-run

# ---- running, skip-done, workers ----------------------------------------------------------
ref="$TMP/ref.db"
expect_status 0 sweep_with_one_job_exits_0 "$MEMSIM" sweep --db "$ref" $SMALL $AXES --jobs 1
expect_grep summary_line_is_printed '18 points: 18 run, 0 already stored, 0 failed' "$TMP/err"
if [ "$(nruns "$ref")" = 18 ]; then ok sweep_stores_every_point
else bad sweep_stores_every_point "$(nruns "$ref") runs"; fi
sid=$(sqlite3 "$ref" 'SELECT sweep_id FROM sweeps')
if [ "$(sqlite3 "$ref" "SELECT count(*) FROM runs WHERE sweep_id = '$sid'")" = 18 ] &&
   [ "$(sqlite3 "$ref" "SELECT count(*) FROM sweeps WHERE spec LIKE '%\"axes\"%'")" = 1 ]; then
	ok sweep_id_is_recorded_with_spec_and_on_every_run
else bad sweep_id_is_recorded_with_spec_and_on_every_run "sweep $sid"; fi
sqlite3 "$ref" 'SELECT run_id FROM runs ORDER BY run_id' >"$TMP/ids.ref"
same stored_run_ids_are_the_dry_run_ids "$TMP/ids.all" "$TMP/ids.ref"
canon "$ref" >"$TMP/ref.csv"

expect_status 0 rerun_exits_0 "$MEMSIM" sweep --db "$ref" $SMALL $AXES
expect_grep rerun_skips_every_stored_point '18 points: 0 run, 18 already stored' "$TMP/err"
canon "$ref" >"$TMP/rerun.csv"
same rerun_changes_nothing "$TMP/ref.csv" "$TMP/rerun.csv"

expect_status 0 dry_run_after_sweep_exits_0 "$MEMSIM" sweep --db "$ref" $SMALL $AXES --dry-run
expect_grep dry_run_sees_stored_points '18 already stored, 0 to run' "$TMP/out"

j2="$TMP/j2.db"
expect_status 0 sweep_with_two_jobs_exits_0 "$MEMSIM" sweep --db "$j2" $SMALL $AXES --jobs 2
canon "$j2" >"$TMP/j2.csv"
same two_jobs_give_identical_results "$TMP/ref.csv" "$TMP/j2.csv"

# a wider sweep adds only its new points
expect_status 0 extended_sweep_exits_0 "$MEMSIM" sweep --db "$j2" $SMALL heavy=32..256*2 light=heavy/4 --jobs 2
expect_grep extended_sweep_runs_only_new_points '24 points: 6 run, 18 already stored' "$TMP/err"

# a point that fails at run time (heavy 16 with the default light 64 is refused by the model)
# is reported by name; the other points are stored and the exit status is 1
expect_status 1 failing_point_exits_1 "$MEMSIM" sweep --db "$TMP/fail.db" --scenario one-frame --set n=500 --policy hash heavy=16,128
expect_grep failing_point_is_named 'point #0 \(policy=hash heavy=16 rep=0\), run [0-9a-f]{16}: .*light' "$TMP/err"
expect_grep failing_point_is_counted '2 points: 1 run, 0 already stored, 1 failed' "$TMP/err"
expect_status 0 jobs_0_means_one_per_cpu "$MEMSIM" sweep --db "$TMP/fail.db" --scenario one-frame --set n=500 --policy hash,tree heavy=128 --jobs 0

# concurrent writers: the same sweep twice at once (2 workers each) and its two shards, all
# into one database; every point exactly once, results identical to the one-process sweep
c="$TMP/conc.db"
"$MEMSIM" sweep --db "$c" $SMALL $AXES --jobs 2 --quiet 2>"$TMP/c1.err" &
p1=$!
"$MEMSIM" sweep --db "$c" $SMALL $AXES --jobs 2 --quiet 2>"$TMP/c2.err" &
p2=$!
"$MEMSIM" sweep --db "$c" $SMALL $AXES --shard 1/2 --quiet 2>"$TMP/c3.err" &
p3=$!
"$MEMSIM" sweep --db "$c" $SMALL $AXES --shard 2/2 --quiet 2>"$TMP/c4.err" &
p4=$!
rcs=""
for p in $p1 $p2 $p3 $p4; do wait "$p"; rcs="$rcs$?"; done
if [ "$rcs" = 0000 ]; then ok concurrent_sweeps_on_one_database_exit_0
else bad concurrent_sweeps_on_one_database_exit_0 "exits $rcs: $(cat "$TMP"/c?.err | head -3)"; fi
canon "$c" >"$TMP/conc.csv"
same concurrent_writers_store_every_point_once "$TMP/ref.csv" "$TMP/conc.csv"

# a point a plain `memsim run` stored before is not run again, and joins the sweep
a="$TMP/adopt.db"
"$MEMSIM" run --db "$a" --scenario one-frame --set n=1500 --set writes=300 --policy tree \
	--set heavy=64 --set light=16 >/dev/null 2>&1
expect_status 0 sweep_over_a_plain_run_exits_0 "$MEMSIM" sweep --db "$a" $SMALL $AXES
expect_grep sweep_skips_the_plain_run '18 points: 17 run, 1 already stored' "$TMP/err"
expect_grep sweep_says_it_adopted_the_plain_run '1 of the stored points were runs outside any sweep' "$TMP/err"
if [ "$(sqlite3 "$a" "SELECT count(*) FROM runs WHERE sweep_id = '$sid'")" = 18 ]; then
	ok adopted_run_belongs_to_the_sweep
else bad adopted_run_belongs_to_the_sweep "$(sqlite3 "$a" 'SELECT sweep_id, count(*) FROM runs GROUP BY 1')"; fi

# ---- kill and resume ------------------------------------------------------------------------
# Test hook: the whole sweep (parent and workers) dies by SIGKILL right after a worker has
# stored its 3rd run; the re-run must finish with every point exactly once.
k="$TMP/kill.db"
exec 3>&2 2>/dev/null	# no "Killed" notice from the shell
MEMSIM_SWEEP_KILL_AFTER=3 "$MEMSIM" sweep --db "$k" $SMALL $AXES --jobs 2 --quiet \
	>"$TMP/out" 2>"$TMP/err"
rc=$?
exec 2>&3 3>&-
n=$(nruns "$k")
if [ "$rc" = 137 ] && [ "$n" -ge 3 ] && [ "$n" -lt 18 ]; then ok sigkill_mid_sweep_leaves_part
else bad sigkill_mid_sweep_leaves_part "exit $rc, $n runs stored"; fi
expect_status 0 resume_after_sigkill_exits_0 "$MEMSIM" sweep --db "$k" $SMALL $AXES --jobs 2
expect_grep resume_runs_only_missing_points "18 points: $((18 - n)) run, $n already stored, 0 failed" "$TMP/err"
canon "$k" >"$TMP/kill.csv"
same resume_after_sigkill_has_every_point_once "$TMP/ref.csv" "$TMP/kill.csv"

# SIGKILL from outside at an arbitrary moment (slower points so it lands mid-run)
SLOW="--scenario one-frame --set n=6000 --policy list --reps 3 light=heavy/4"
expect_status 0 slow_reference_sweep_exits_0 "$MEMSIM" sweep --db "$TMP/slowref.db" $SLOW heavy=16..512*2 --jobs 2 --quiet
canon "$TMP/slowref.db" >"$TMP/slowref.csv"
x="$TMP/ext.db"
"$MEMSIM" sweep --db "$x" $SLOW heavy=16..512*2 --jobs 2 --quiet 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ "$(nruns "$x")" -ge 2 ] && break; sleep 0.05; done
exec 3>&2 2>/dev/null	# no "Killed" notice from the shell
kill -KILL "$pid"
wait "$pid"
exec 2>&3 3>&-
echo "sigkill from outside after $(nruns "$x") of 18 runs"
expect_status 0 resume_after_external_sigkill_exits_0 "$MEMSIM" sweep --db "$x" $SLOW heavy=16..512*2 --jobs 2
canon "$x" >"$TMP/ext.csv"
same resume_after_external_sigkill_has_every_point_once "$TMP/slowref.csv" "$TMP/ext.csv"

# SIGINT: the sweep stops with 130 and a message (or had already finished), then resumes
i="$TMP/int.db"
"$MEMSIM" sweep --db "$i" $SLOW heavy=16..512*2 --jobs 2 --quiet >/dev/null 2>"$TMP/int.err" &
pid=$!
for _ in $(seq 200); do [ "$(nruns "$i")" -ge 2 ] && break; sleep 0.05; done
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ "$rc" = 130 ] && grep -q 'interrupted; run the same command again' "$TMP/int.err"; then
	ok sigint_stops_with_130_and_says_how_to_resume
elif [ "$rc" = 0 ]; then ok sigint_stops_with_130_and_says_how_to_resume # finished first
else bad sigint_stops_with_130_and_says_how_to_resume "exit $rc: $(cat "$TMP/int.err")"; fi
"$MEMSIM" sweep --db "$i" $SLOW heavy=16..512*2 --quiet 2>/dev/null
canon "$i" >"$TMP/int.csv"
same resume_after_sigint_has_every_point_once "$TMP/slowref.csv" "$TMP/int.csv"

# ---- shards through GNU parallel, merged -------------------------------------------------
"$MEMSIM" sweep --db "$TMP/none.db" $SMALL $AXES --shard 1/2 --dry-run | grep '^point ' |
	awk '{print $4}' >"$TMP/s1"
"$MEMSIM" sweep --db "$TMP/none.db" $SMALL $AXES --shard 2/2 --dry-run | grep '^point ' |
	awk '{print $4}' >"$TMP/s2"
sort "$TMP/s1" "$TMP/s2" >"$TMP/s12"
if [ "$(wc -l <"$TMP/s1")" = 9 ] && [ -z "$(comm -12 <(sort "$TMP/s1") <(sort "$TMP/s2"))" ]; then
	ok shards_are_disjoint_halves
else bad shards_are_disjoint_halves "$(wc -l <"$TMP/s1") and $(wc -l <"$TMP/s2")"; fi
same shards_cover_every_point "$TMP/ids.all" "$TMP/s12"

if command -v parallel >/dev/null; then
	# shellcheck disable=SC2086
	parallel --will-cite -j 2 "$MEMSIM" sweep --db "$TMP/shard{}.db" $SMALL $AXES \
		--shard {}/2 --quiet ::: 1 2 2>"$TMP/par.err"
	rc=$?
	if [ "$rc" = 0 ]; then ok shards_run_under_gnu_parallel
	else bad shards_run_under_gnu_parallel "exit $rc: $(head -3 "$TMP/par.err")"; fi
	expect_status 0 merge_of_shards_exits_0 "$MEMSIM" db merge "$TMP/merged.db" "$TMP/shard1.db" "$TMP/shard2.db"
	canon "$TMP/merged.db" >"$TMP/merged.csv"
	same merged_shards_equal_single_process_sweep "$TMP/ref.csv" "$TMP/merged.csv"
	if [ "$(sqlite3 "$TMP/merged.db" 'SELECT sweep_id FROM sweeps')" = "$sid" ]; then
		ok shards_share_the_sweep_id
	else bad shards_share_the_sweep_id "$(sqlite3 "$TMP/merged.db" 'SELECT sweep_id FROM sweeps')"; fi
	expect_status 0 merging_again_exits_0 "$MEMSIM" db merge "$TMP/merged.db" "$TMP/shard1.db"
	canon "$TMP/merged.db" >"$TMP/merged2.csv"
	same merging_again_changes_nothing "$TMP/ref.csv" "$TMP/merged2.csv"
else
	bad shards_run_under_gnu_parallel "GNU parallel is not installed (make deps)"
fi

# ---- progress display ---------------------------------------------------------------------
if command -v script >/dev/null; then
	script -qec "$MEMSIM sweep --db $TMP/tty.db $SMALL $AXES" /dev/null >"$TMP/tty.out" 2>&1
	expect_grep progress_is_shown_on_a_terminal 'points/s' "$TMP/tty.out"
fi
"$MEMSIM" sweep --db "$TMP/notty.db" $SMALL $AXES >"$TMP/out" 2>"$TMP/err"
if grep -q 'points/s' "$TMP/err"; then bad no_progress_when_not_a_terminal "$(head -c 200 "$TMP/err")"
else ok no_progress_when_not_a_terminal; fi

finish
