# tests/cli/plot_views.sh — what a plot shows: series windows (--from/--to) and decimation
# (min and max per pixel column), one colour per policy in every plot, trace base names in
# titles, units on the axes, logarithmic Pareto axes, and the superpage series' clock.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export MEMSIM_ANALYSIS="$top/analysis"

if [ ! -x "$MEMSIM" ] || ! command -v gnuplot >/dev/null || ! command -v sqlite3 >/dev/null; then
	bad plot_views_prerequisites "memsim, gnuplot or sqlite3 missing"
	finish
	exit 1
fi

# A database with known values: shadow runs a1 (accessed) and a2 (clock), both on the trace
# /some/long/dir/fork-tar.mst; a1 has a series of 1e6 points, a saw-tooth 0..999 with a
# period of 1000 points, 10 ns apart (10 ms), plus one spike (5000) and one dip (-7); a2 a
# short series.  a3 (clock, alone in its selection) on another trace.
db="$TMP/v.db"
"$MEMSIM" db init --db "$db" >/dev/null 2>&1
run_row() { # id policy trace
	echo "INSERT INTO runs VALUES ('$1', NULL, 'shadow', '$2', '$3', '00000000000000aa', 1,"
	echo "  'seed-2012', '00000000000000bb', '00000000000000cc', '0.1.0', '{}', 1000, 'ok',"
	echo "  '2024-01-01T00:00:01.000Z');"
}
{
	echo "BEGIN;"
	run_row 00000000000000a1 accessed /some/long/dir/fork-tar.mst
	run_row 00000000000000a2 clock /some/long/dir/fork-tar.mst
	run_row 00000000000000a3 clock other.mst
	echo "INSERT INTO metrics VALUES ('00000000000000a1', 'walk_ns', 1500, 0),"
	echo "  ('00000000000000a1', 'stretch_ns', 1000, 1),"
	echo "  ('00000000000000a2', 'walk_ns', 98000, 0), ('00000000000000a2', 'stretch_ns', 98000, 1),"
	echo "  ('00000000000000a3', 'walk_ns', 3000, 0), ('00000000000000a3', 'stretch_ns', 3000, 1);"
	echo "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 999999)"
	echo "INSERT INTO series SELECT '00000000000000a1', 'occupancy', i, i * 10,"
	echo "  CASE i WHEN 500123 THEN 5000 WHEN 777777 THEN -7 ELSE i % 1000 END FROM c;"
	echo "INSERT INTO series VALUES ('00000000000000a2', 'occupancy', 0, 0, 3),"
	echo "  ('00000000000000a2', 'occupancy', 1, 5000000, 9), ('00000000000000a3', 'occupancy', 0, 0, 4);"
	echo "COMMIT;"
} | sqlite3 "$db" || bad fixture "sqlite3 failed"

# ---- decimation ------------------------------------------------------------------------------
expect_status 0 series_1e6_points_exits_0 "$MEMSIM" plot series --db "$db" --run 00000000000000a1 \
	--size 900x400 --data "$TMP/dec.dat" -o "$TMP/dec.png"
rows=$(grep -vc '^#' "$TMP/dec.dat")
if [ "$rows" -le 1800 ] && [ "$rows" -ge 900 ]; then ok decimated_to_at_most_2_points_per_column
else bad decimated_to_at_most_2_points_per_column "$rows rows for 900 columns"; fi
# per column (t scaled to 0..899 over 0..9.99999 ms): never more than 2 points
maxper=$(grep -v '^#' "$TMP/dec.dat" | awk 'NF == 2 { c = int($1 / 9.99999 * 899); n[c]++ }
	END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }')
[ "$maxper" = 2 ] && ok decimation_at_most_2_per_pixel_column || bad decimation_at_most_2_per_pixel_column "$maxper"
read -r lo hi <<EOF
$(grep -v '^#' "$TMP/dec.dat" | awk 'NF == 2 { if (!n++ || $2 < lo) lo = $2; if (n == 1 || $2 > hi) hi = $2 } END { print lo, hi }')
EOF
[ "$lo" = -7 ] && [ "$hi" = 5000 ] && ok decimation_keeps_spike_and_dip || bad decimation_keeps_spike_and_dip "min $lo max $hi"
# the saw-tooth survives: most columns hold both the bottom (0) and the top (999) of a tooth
zeros=$(grep -c ' 0$' "$TMP/dec.dat"); tops=$(grep -c ' 999$' "$TMP/dec.dat")
[ "$zeros" -ge 800 ] && [ "$tops" -ge 800 ] && ok decimation_keeps_the_saw_tooth || bad decimation_keeps_the_saw_tooth "$zeros zeros, $tops tops"
# a short series is not decimated
expect_status 0 short_series_exits_0 "$MEMSIM" plot series --db "$db" --run 00000000000000a2 --data "$TMP/short.dat" -o "$TMP/short.png"
[ "$(grep -vc '^#' "$TMP/short.dat")" = 2 ] && ok short_series_keeps_every_point || bad short_series_keeps_every_point "$(cat "$TMP/short.dat")"

# ---- --from / --to ---------------------------------------------------------------------------
expect_status 0 series_window_exits_0 "$MEMSIM" plot series --db "$db" --run 00000000000000a1 \
	--from 2ms --to 2100us --data "$TMP/win.dat" -o "$TMP/win.svg"
n=$(grep -vc '^#' "$TMP/win.dat")
out=$(grep -v '^#' "$TMP/win.dat" | awk 'NF == 2 && ($1 < 2 || $1 > 2.1)' | wc -l)
# 10001 points in the window (2.000 to 2.100 ms) are more than 1800: decimated too
if [ "$out" = 0 ] && [ "$n" -gt 100 ] && [ "$n" -le 1800 ]; then ok series_window_holds_only_the_window
else bad series_window_holds_only_the_window "$n rows, $out outside 2..2.1 ms"; fi
expect_grep series_window_in_title '2-2.1 ms' "$TMP/win.svg"
expect_status 2 series_from_after_to_refused "$MEMSIM" plot series --db "$db" --from 5ms --to 1ms -o "$TMP/x.png"
expect_grep series_from_after_to_says_why 'is not before --to' "$TMP/err"
expect_status 2 series_bad_from_refused "$MEMSIM" plot series --db "$db" --from soon -o "$TMP/x.png"
expect_grep series_bad_from_says_why '^memsim plot: --from soon: not a time' "$TMP/err"
expect_status 1 series_empty_window_fails "$MEMSIM" plot series --db "$db" --from 50ms -o "$TMP/x.png"
expect_grep series_empty_window_says_why 'no points' "$TMP/err"

# ---- one colour per policy -------------------------------------------------------------------
# clock is shadow's third policy (#2ca02c, rgb 44 160 44) whether it is drawn first or second
green="rgb\\( 44, 160,  44\\)"
expect_status 0 series_two_policies_svg "$MEMSIM" plot series --db "$db" --where trace=/some/long/dir/fork-tar.mst -o "$TMP/c1.svg"
expect_status 0 pareto_one_policy_svg "$MEMSIM" plot pareto --db "$db" --where policy=clock --x walk_ns --y stretch_ns -o "$TMP/c2.svg"
expect_status 0 cdf_two_policies_svg "$MEMSIM" plot cdf --db "$db" --metric walk_ns -o "$TMP/c3.svg"
for f in c1 c2 c3; do
	expect_grep "clock_is_green_in_$f" "$green" "$TMP/$f.svg"
done
# accessed (shadow's fourth, #ff7f0e) is orange in the series and the cdf, absent with clock alone
expect_grep accessed_is_orange_in_series "rgb\\(255, 127,  14\\)" "$TMP/c1.svg"
expect_grep accessed_is_orange_in_cdf "rgb\\(255, 127,  14\\)" "$TMP/c3.svg"
if grep -qE "rgb\\(255, 127,  14\\)|rgb\\( 31, 119, 180\\)" "$TMP/c2.svg"; then
	bad lone_clock_takes_no_other_colour "c2.svg has another policy's colour"
else ok lone_clock_takes_no_other_colour; fi

# ---- titles, units, log axes -----------------------------------------------------------------
expect_grep title_has_trace_base_name 'trace fork-tar.mst' "$TMP/c1.svg"
if grep -q '/some/long/dir' "$TMP/c1.svg"; then bad title_has_no_trace_path "$(grep -m1 /some "$TMP/c1.svg")"
else ok title_has_no_trace_path; fi
expect_grep series_y_axis_in_pages '<text>occupancy \(pages\)</text>' "$TMP/c1.svg"
expect_grep cdf_axis_in_microseconds '<text>walk \(µs\)</text>' "$TMP/c3.svg"
# pareto over both policies: stretch spans 1 us .. 98 us (98x): a logarithmic y axis
expect_status 0 pareto_two_policies "$MEMSIM" plot pareto --db "$db" --where trace=/some/long/dir/fork-tar.mst \
	--x walk_ns --y stretch_ns -o "$TMP/p.svg"
# (tics 1, 10, 100 on a log axis; 0, 10, ..., 50, ..., 100 on a linear one)
if grep -q '<text> 1</text>' "$TMP/p.svg" && ! grep -q '<text> 50</text>' "$TMP/p.svg"; then
	ok pareto_spanning_decades_is_logarithmic
else bad pareto_spanning_decades_is_logarithmic "$(grep -o '<text> [0-9]*</text>' "$TMP/p.svg" | tr '\n' ' ')"; fi
expect_status 0 pareto_forced_linear "$MEMSIM" plot pareto --db "$db" --where trace=/some/long/dir/fork-tar.mst \
	--x walk_ns --y stretch_ns --log none -o "$TMP/plin.svg"
expect_grep pareto_log_none_is_linear '<text> 50</text>' "$TMP/plin.svg"

# ---- demo-plots.sh names files by the trace's base name, not its mangled path ------------------
sh "$top/analysis/demo-plots.sh" "$MEMSIM" "$db" "$TMP/demo" >"$TMP/demo.out" 2>&1
if [ -f "$TMP/demo/runs-shadow-fork-tar.mst-series.png" ] && ! ls "$TMP/demo" | grep -q '_some_'; then
	ok demo_plot_files_named_by_trace_base_name
else bad demo_plot_files_named_by_trace_base_name "$(ls "$TMP/demo" | tr '\n' ' ')"; fi

# ---- the superpage series' clock -------------------------------------------------------------
# each fork's point is stamped when the vCPU starts it, after the work before it: forks are at
# least one fork's mapping time apart (the trace's own stamps are ~10 ms apart)
sp="$TMP/sp.db"
expect_status 0 superpage_run "$MEMSIM" run --db "$sp" --scenario fork-storm --set region_gb=1 \
	--set forks=4 --set pt_attempts=8 --model superpage --policy per-page
"$MEMSIM" db export --csv --db "$sp" --what series >"$TMP/sp.csv" 2>&1
gaps=$(awk -F, 'NR > 1 && $7 == "fork_map_ns" { if (n++ && $9 - t < v) bad++; t = $9; v = $10 }
	END { print n + 0, bad + 0 }' "$TMP/sp.csv")
[ "$gaps" = "4 0" ] && ok superpage_forks_apart_by_their_mapping_time || bad superpage_forks_apart_by_their_mapping_time "$gaps: $(head -6 "$TMP/sp.csv")"
finish
