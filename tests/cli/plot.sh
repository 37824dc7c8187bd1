# tests/cli/plot.sh — `memsim plot` and `memsim report`: the numbers behind each kind of plot
# (checked in the --data file on a database with known values), PNG and SVG output, the
# selection options, errors, and the report page.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export MEMSIM_ANALYSIS="$top/analysis"

if [ ! -x "$MEMSIM" ] || ! command -v gnuplot >/dev/null; then
	bad plot_prerequisites "memsim or gnuplot missing"
	finish
	exit 1
fi

# A database with known values, filled with the sqlite3 CLI: sweep feedbeeffeedbeef over
# policy {hash, list} x heavy {64, 128} x light {16, 32}, 3 seeds each.
#   destroy_ns      = (seed * 1e6) for hash, heavy 64; shifted by policy/heavy/light elsewhere
#   rmap_bytes_peak = heavy * 100 + light (hash), heavy * 50 + light (list)
db="$TMP/k.db"
"$MEMSIM" db init --db "$db" >/dev/null 2>&1
{
	echo "BEGIN;"
	echo "INSERT INTO sweeps VALUES ('feedbeeffeedbeef', '2024-01-01T00:00:00.000Z',"
	echo "  '{\"model\":\"rmap\",\"axes\":[{\"name\":\"policy\",\"values\":[\"hash\",\"list\"]},{\"name\":\"heavy\",\"values\":[64,128]},{\"name\":\"light\",\"values\":[16,32]}]}', '0.1.0');"
	i=0
	for pol in hash list; do for heavy in 64 128; do for light in 16 32; do for seed in 1 2 3; do
		i=$((i + 1))
		id=$(printf '%016x' "$i")
		off=0
		[ "$pol" = list ] && off=10000000
		[ "$heavy" = 128 ] && off=$((off + 500000))
		[ "$light" = 32 ] && off=$((off + 100000))
		d=$((seed * 1000000 + off))
		if [ "$pol" = hash ]; then mem=$((heavy * 100 + light)); else mem=$((heavy * 50 + light)); fi
		echo "INSERT INTO runs VALUES ('$id', 'feedbeeffeedbeef', 'rmap', '$pol', 'scenario:one-frame',"
		echo "  '00000000000000aa', $seed, 'seed-2012', '00000000000000bb', '00000000000000cc', '0.1.0',"
		echo "  '{}', 1000, 'ok', '2024-01-01T00:00:0$seed.000Z');"
		echo "INSERT INTO params VALUES ('$id', 'heavy', '$heavy', 0), ('$id', 'light', '$light', 1),"
		echo "  ('$id', 'relinquish', 'preemptible', 2);"
		echo "INSERT INTO metrics VALUES ('$id', 'destroy_ns', $d, 0), ('$id', 'rmap_bytes_peak', $mem, 1),"
		echo "  ('$id', 'unshare_p99_ns', $((d / 1000)), 2);"
		if [ "$i" -le 14 ]; then
			echo "INSERT INTO series VALUES ('$id', 'occupancy', 0, 0, 1), ('$id', 'occupancy', 1, 2000000, 64),"
			echo "  ('$id', 'occupancy', 2, 4000000, 3);"
		fi
	done; done; done; done
	echo "COMMIT;"
} | sqlite3 "$db"
if [ "$(sqlite3 "$db" 'SELECT count(*) FROM runs')" = 24 ]; then ok known_database_is_filled
else bad known_database_is_filled "$(sqlite3 "$db" 'SELECT count(*) FROM runs')"; fi

is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }

# ---- line: mean and 95 % CI over repetitions -----------------------------------------------
expect_status 0 line_plot_exits_0 "$MEMSIM" plot line --db "$db" --sweep feed --x heavy \
	--metric destroy_ns --where light=16 --data "$TMP/line.dat" -o "$TMP/line.png"
if is_png "$TMP/line.png"; then ok line_plot_writes_a_png; else bad line_plot_writes_a_png "not a PNG"; fi
# hash, heavy 64, light 16: 1, 2, 3 ms -> mean 2, sd 1, t(0.975, 2) = 4.302653 -> +-2.484138,
# the lower bound clamped at 0 (a time is never negative)
if awk '$1 == 64 && $2 == 2 && $3 == 0 && $4 > 4.48413 && $4 < 4.48415 && $5 == 3 { f = 1 } END { exit !f }' "$TMP/line.dat"
then ok line_data_has_mean_and_student_t_interval
else bad line_data_has_mean_and_student_t_interval "$(head -5 "$TMP/line.dat")"; fi
if grep -q '(y in ms)' "$TMP/line.dat"; then ok line_scales_ns_to_ms
else bad line_scales_ns_to_ms "$(head -1 "$TMP/line.dat")"; fi
if [ "$(grep -c '^$' "$TMP/line.dat")" = 2 ]; then ok line_has_one_block_per_policy
else bad line_has_one_block_per_policy "$(grep -c '^$' "$TMP/line.dat") blank lines"; fi

expect_status 0 line_mixing_exits_0 "$MEMSIM" plot line --db "$db" --x heavy --metric destroy_ns -o "$TMP/mix.svg"
expect_grep line_warns_when_another_parameter_varies 'light takes several values at one heavy' "$TMP/err"
if grep -q '<svg' "$TMP/mix.svg"; then ok line_plot_writes_svg; else bad line_plot_writes_svg "no <svg"; fi
expect_status 0 line_by_exits_0 "$MEMSIM" plot line --db "$db" --x heavy --by light --data "$TMP/by.dat" -o "$TMP/by.png"
if [ "$(grep -c '^$' "$TMP/by.dat")" = 6 ] && ! grep -q 'several values' "$TMP/err"; then
	ok line_by_splits_lines_without_warning
else bad line_by_splits_lines_without_warning "$(grep -c '^$' "$TMP/by.dat") blank lines; $(cat "$TMP/err")"; fi
expect_status 0 line_defaults_from_sweep_axes "$MEMSIM" plot line --db "$db" --sweep last --where light=32 --data "$TMP/def.dat" -o "$TMP/def.png"
expect_grep line_default_metric_and_x 'destroy_ns against heavy' "$TMP/def.dat"
expect_status 0 line_categorical_parameter_exits_0 "$MEMSIM" plot line --db "$db" --x relinquish --where light=16 --where heavy=64 -o "$TMP/cat.png"

# ---- heatmap ------------------------------------------------------------------------------
expect_status 0 heatmap_exits_0 "$MEMSIM" plot heatmap --db "$db" --x heavy --y light --metric rmap_bytes_peak --data "$TMP/heat.dat" -o "$TMP/heat.png"
# hash panel, heavy 128 (xi 1), light 32 (yi 1): 12832 bytes = 12.53125 KiB
if awk '$1 == 1 && $2 == 1 && $3 == 12.53125 { f = 1 } END { exit !f }' "$TMP/heat.dat"
then ok heatmap_cell_is_the_mean_in_scaled_units
else bad heatmap_cell_is_the_mean_in_scaled_units "$(head -8 "$TMP/heat.dat")"; fi
# a metric filter empties two cells: 6416 bytes are hash 64/16 and list 128/16
expect_status 0 heatmap_with_missing_cell_exits_0 "$MEMSIM" plot heatmap --db "$db" --x heavy --y light --where 'rmap_bytes_peak!=6416' --data "$TMP/heat2.dat" -o "$TMP/heat2.png"
if [ "$(grep -c ' NaN$' "$TMP/heat2.dat")" = 2 ] && grep -q '^0 0 NaN$' "$TMP/heat2.dat" &&
   grep -q '^1 0 NaN$' "$TMP/heat2.dat"; then
	ok heatmap_marks_the_empty_cells_nan
else bad heatmap_marks_the_empty_cells_nan "$(head -8 "$TMP/heat2.dat")"; fi

# ---- cdf ------------------------------------------------------------------------------------
expect_status 0 cdf_of_metric_exits_0 "$MEMSIM" plot cdf --db "$db" --metric destroy_ns --where policy=hash --data "$TMP/cdf.dat" -o "$TMP/cdf.png"
if [ "$(grep -vc '^#' "$TMP/cdf.dat")" = 13 ] && tail -1 "$TMP/cdf.dat" | grep -q ' 1$'; then
	ok cdf_of_metric_rises_to_one_over_every_run
else bad cdf_of_metric_rises_to_one_over_every_run "$(tail -3 "$TMP/cdf.dat")"; fi
expect_status 0 cdf_of_series_exits_0 "$MEMSIM" plot cdf --db "$db" --series occupancy -o "$TMP/cdfs.png"

# ---- series ---------------------------------------------------------------------------------
expect_status 0 series_exits_0 "$MEMSIM" plot series --db "$db" --series occupancy --data "$TMP/ser.dat" -o "$TMP/ser.png"
cp "$TMP/err" "$TMP/ser.err"
if grep -q '^2 64$' "$TMP/ser.dat" && grep -q 't (ms)' "$TMP/ser.dat"; then ok series_time_in_ms
else bad series_time_in_ms "$(head -4 "$TMP/ser.dat")"; fi
# 14 runs have the series: the first 12 are drawn, and the plot says so
if [ "$(grep -c '^0 1$' "$TMP/ser.dat")" = 12 ]; then ok series_draws_at_most_12_runs
else bad series_draws_at_most_12_runs "$(grep -c '^0 1$' "$TMP/ser.dat") runs"; fi
expect_grep series_says_how_many_were_left_out '2 more runs have series occupancy' "$TMP/ser.err"
expect_status 0 series_of_one_run_exits_0 "$MEMSIM" plot series --db "$db" --run 0000000000000002 -o "$TMP/ser1.png"

# ---- pareto ---------------------------------------------------------------------------------
expect_status 0 pareto_exits_0 "$MEMSIM" plot pareto --db "$db" --x rmap_bytes_peak --y destroy_ns --data "$TMP/par.dat" -o "$TMP/par.png"
# configurations: hash (6416..12832 B, 2..2.6 ms), list (3216..6432 B, 12..12.6 ms); the front:
# list 64/16 (cheapest memory), then hash 64/16 (fastest); nothing else
front=$(awk 'BEGIN { b = 0 } /^$/ { b++ } b >= 4 && NF >= 3' "$TMP/par.dat")
if [ "$(echo "$front" | wc -l)" = 2 ] && echo "$front" | grep -q '"list heavy=64 light=16"' &&
   echo "$front" | grep -q '"hash heavy=64 light=16"'; then ok pareto_front_keeps_undominated_configurations
else bad pareto_front_keeps_undominated_configurations "$front"; fi

# ---- errors ---------------------------------------------------------------------------------
expect_status 2 unknown_kind_is_usage_error "$MEMSIM" plot pie --db "$db" -o "$TMP/x.png"
expect_grep unknown_kind_is_named "'pie' is not a kind of plot" "$TMP/err"
expect_status 2 bad_extension_is_usage_error "$MEMSIM" plot line --db "$db" -o "$TMP/x.jpg"
expect_status 2 missing_output_is_usage_error "$MEMSIM" plot line --db "$db"
expect_status 2 unknown_metric_is_usage_error "$MEMSIM" plot line --db "$db" --metric nope_ns -o "$TMP/x.png"
expect_grep unknown_metric_lists_the_known_ones '--metric nope_ns: no selected run has it; metrics: destroy_ns' "$TMP/err"
expect_status 2 unknown_where_name_is_usage_error "$MEMSIM" plot line --db "$db" --where hevy=64 -o "$TMP/x.png"
expect_grep unknown_where_name_is_named "no run has a parameter or metric 'hevy'" "$TMP/err"
expect_status 2 unknown_sweep_is_usage_error "$MEMSIM" plot line --db "$db" --sweep 0bad -o "$TMP/x.png"
expect_status 1 empty_selection_fails "$MEMSIM" plot line --db "$db" --where heavy=5 -o "$TMP/x.png"
expect_grep empty_selection_says_so 'no run matches' "$TMP/err"
if [ -e "$TMP/x.png" ]; then bad failed_plot_leaves_no_file "x.png exists"; else ok failed_plot_leaves_no_file; fi
expect_status 2 missing_db_is_usage_error "$MEMSIM" plot line --db "$TMP/none.db" -o "$TMP/x.png"

# ---- report ---------------------------------------------------------------------------------
expect_status 0 report_exits_0 "$MEMSIM" report --db "$db" --sweep feedbeeffeedbeef -o "$TMP/rep"
r="$TMP/rep/index.html"
expect_grep report_names_the_sweep 'Sweep <code>feedbeeffeedbeef</code>' "$r"
expect_grep report_shows_the_axes '<td>heavy</td><td>\[64,128\]</td>' "$r"
expect_grep report_shows_provenance '<td>24</td><td>3</td><td>0.1.0</td>' "$r"
# best by destroy_ns: hash heavy 64 light 16 (mean 2 ms) first
expect_grep report_ranks_best_configuration '<tr><td>1</td><td>hash</td><td>64</td><td>16</td><td>2</td>' "$r"
missing=0
for img in $(grep -o 'img src="[^"]*"' "$r" | sed 's/img src="//; s/"$//'); do
	is_png "$TMP/rep/$img" || missing=$((missing + 1))
done
if [ "$(grep -c 'img src=' "$r")" -ge 5 ] && [ "$missing" = 0 ]; then ok report_images_exist
else bad report_images_exist "$(grep -c 'img src=' "$r") images, $missing missing"; fi
expect_status 2 report_without_sweep_is_usage_error "$MEMSIM" report --db "$db" -o "$TMP/rep2"

# ---- the demo script ------------------------------------------------------------------------
expect_status 0 demo_plots_script_exits_0 "$top/analysis/demo-plots.sh" "$MEMSIM" "$db" "$TMP/demo"
if [ "$(ls "$TMP/demo"/*.png 2>/dev/null | wc -l)" -ge 3 ] && [ -f "$TMP/demo/sweep-feedbeeffeedbeef/index.html" ]; then ok demo_plots_script_draws_plots
else bad demo_plots_script_draws_plots "$(ls "$TMP/demo")"; fi

finish
