# tests/cli/ids.sh — one resolver for run and sweep ids (exact id, unique prefix, `last`) in
# every command that takes one: db ls, db show, db export, plot, report.  An unknown or
# ambiguous id exits 2 with a message; an ambiguous one lists the candidates.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export MEMSIM_ANALYSIS="$top/analysis"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi

# Three sweeps: abcd1111..., abcd2222... (share the prefix abcd), feed3333... (created last).
# Each has two runs (heavy 64 and 128): run ids 12340000000000NN in the first two sweeps,
# 9999N000000000NN in the third.
db="$TMP/ids.db"
"$MEMSIM" db init --db "$db" >/dev/null 2>&1
{
	echo "BEGIN;"
	n=0
	for sw in abcd111111111111:1 abcd222222222222:2 feed333333333333:3; do
		id=${sw%:*} k=${sw#*:}
		echo "INSERT INTO sweeps VALUES ('$id', '2024-01-0${k}T00:00:00.000Z',"
		echo "  '{\"model\":\"rmap\",\"axes\":[{\"name\":\"heavy\",\"values\":[64,128]}]}', '0.1.0');"
		for heavy in 64 128; do
			n=$((n + 1))
			if [ "$k" = 3 ]; then rid=$(printf '9999%x000000000%02x' "$n" "$n")
			else rid=$(printf '12340000000000%02x' "$n"); fi
			echo "INSERT INTO runs VALUES ('$rid', '$id', 'rmap', 'hash', 'scenario:one-frame',"
			echo "  '00000000000000aa', 1, 'seed-2012', '00000000000000bb', '00000000000000cc', '0.1.0',"
			echo "  '{}', 1000, 'ok', '2024-01-0${k}T00:00:0${n}.000Z');"
			echo "INSERT INTO params VALUES ('$rid', 'heavy', '$heavy', 0);"
			echo "INSERT INTO metrics VALUES ('$rid', 'destroy_ns', $((heavy * 1000 + n)), 0);"
		done
	done
	echo "COMMIT;"
} | sqlite3 "$db"
if [ "$(sqlite3 "$db" 'SELECT count(*) FROM runs')" = 6 ]; then ok id_database_is_filled
else bad id_database_is_filled "$(sqlite3 "$db" 'SELECT count(*) FROM runs')"; fi

runs_listed() { grep -cE '^[0-9a-f]{16} ' "$TMP/out"; }

# ---- db ls --sweep ----------------------------------------------------------------------
expect_status 0 ls_sweep_exact_id "$MEMSIM" db ls --db "$db" --sweep abcd111111111111
if [ "$(runs_listed)" = 2 ] && grep -q '^1234000000000001 ' "$TMP/out"; then ok ls_sweep_exact_lists_its_runs
else bad ls_sweep_exact_lists_its_runs "$(cat "$TMP/out")"; fi
expect_status 0 ls_sweep_unique_prefix "$MEMSIM" db ls --db "$db" --sweep abcd2
if [ "$(runs_listed)" = 2 ] && grep -q '^1234000000000003 ' "$TMP/out"; then ok ls_sweep_prefix_lists_its_runs
else bad ls_sweep_prefix_lists_its_runs "$(cat "$TMP/out")"; fi
expect_status 0 ls_sweep_prefix_in_upper_case "$MEMSIM" db ls --db "$db" --sweep ABCD2
expect_grep ls_sweep_upper_case_resolves '^1234000000000004 ' "$TMP/out"
expect_status 0 ls_sweep_last "$MEMSIM" db ls --db "$db" --sweep last
if [ "$(runs_listed)" = 2 ] && grep -q '^9999500000000005 ' "$TMP/out"; then ok ls_sweep_last_is_the_newest_sweep
else bad ls_sweep_last_is_the_newest_sweep "$(cat "$TMP/out")"; fi
expect_status 2 ls_unknown_sweep_exits_2 "$MEMSIM" db ls --db "$db" --sweep 0bad0bad
expect_grep ls_unknown_sweep_says_so 'db ls: --sweep 0bad0bad: no sweep' "$TMP/err"
if [ ! -s "$TMP/out" ]; then ok ls_unknown_sweep_prints_no_header
else bad ls_unknown_sweep_prints_no_header "$(cat "$TMP/out")"; fi
expect_status 2 ls_ambiguous_sweep_exits_2 "$MEMSIM" db ls --db "$db" --sweep abcd
expect_grep ls_ambiguous_sweep_lists_candidates 'ambiguous.*abcd111111111111, abcd222222222222' "$TMP/err"
expect_status 2 ls_too_short_prefix_exits_2 "$MEMSIM" db ls --db "$db" --sweep fee
expect_grep ls_too_short_prefix_says_so 'at least 4' "$TMP/err"
expect_status 2 ls_sweep_quote_is_just_unknown "$MEMSIM" db ls --db "$db" --sweep "x' OR 1=1 --"
"$MEMSIM" db init --db "$TMP/empty.db" >/dev/null 2>&1
expect_status 2 ls_last_of_empty_database_exits_2 "$MEMSIM" db ls --db "$TMP/empty.db" --sweep last
expect_grep ls_last_of_empty_database_says_so 'has no sweep' "$TMP/err"

# ---- db export --sweep ---------------------------------------------------------------------
expect_status 0 export_sweep_prefix "$MEMSIM" db export --csv --what metrics --db "$db" --sweep feed
if [ "$(grep -c ',feed333333333333,' "$TMP/out")" = 2 ] && [ "$(wc -l <"$TMP/out")" = 3 ]; then
	ok export_sweep_prefix_exports_its_rows
else bad export_sweep_prefix_exports_its_rows "$(cat "$TMP/out")"; fi
expect_status 0 export_sweep_last "$MEMSIM" db export --csv --db "$db" --sweep last
if [ "$(grep -c '^9999' "$TMP/out")" = 2 ]; then ok export_sweep_last_exports_the_newest
else bad export_sweep_last_exports_the_newest "$(cat "$TMP/out")"; fi
expect_status 2 export_unknown_sweep_exits_2 "$MEMSIM" db export --csv --db "$db" --sweep 0bad0bad
expect_grep export_unknown_sweep_says_so 'db export: --sweep 0bad0bad: no sweep' "$TMP/err"
expect_status 2 export_ambiguous_sweep_exits_2 "$MEMSIM" db export --csv --db "$db" --sweep abcd
expect_grep export_ambiguous_sweep_lists_candidates 'abcd111111111111, abcd222222222222' "$TMP/err"

# ---- db show RUN_ID --------------------------------------------------------------------------
expect_status 0 show_exact_run "$MEMSIM" db show --db "$db" 1234000000000002
expect_grep show_exact_run_shows_it '^run_id +1234000000000002$' "$TMP/out"
expect_status 0 show_run_prefix "$MEMSIM" db show --db "$db" 99995
expect_grep show_run_prefix_resolves "^run_id +9999500000000005$" "$TMP/out"
expect_status 2 show_run_prefix_ambiguous_exits_2 "$MEMSIM" db show --db "$db" 9999
expect_grep show_run_prefix_ambiguous_lists_candidates 'ambiguous.*9999500000000005, 9999600000000006' "$TMP/err"
expect_status 0 show_last_run "$MEMSIM" db show --db "$db" last
expect_grep show_last_is_the_newest_run '^run_id +9999600000000006$' "$TMP/out"
expect_status 2 show_unknown_run_exits_2 "$MEMSIM" db show --db "$db" 5555
expect_grep show_unknown_run_says_so 'no run 5555' "$TMP/err"

# ---- plot and report: the same resolver ------------------------------------------------------
if command -v gnuplot >/dev/null; then
	expect_status 0 plot_sweep_prefix "$MEMSIM" plot line --db "$db" --sweep abcd1 --x heavy \
		--metric destroy_ns --data "$TMP/p.dat" -o "$TMP/p.png"
	if grep -qE '^64 +64\.001 ' "$TMP/p.dat" && ! grep -q '64\.003' "$TMP/p.dat"; then
		ok plot_sweep_prefix_selects_that_sweep
	else bad plot_sweep_prefix_selects_that_sweep "$(cat "$TMP/p.dat")"; fi
	expect_status 0 plot_sweep_last "$MEMSIM" plot line --db "$db" --sweep last --x heavy \
		--metric destroy_ns --data "$TMP/l.dat" -o "$TMP/l.png"
	expect_grep plot_sweep_last_selects_the_newest '^64 +64\.005 ' "$TMP/l.dat"
	expect_status 0 report_sweep_last "$MEMSIM" report --db "$db" --sweep last -o "$TMP/rep"
	expect_grep report_last_names_the_newest_sweep 'feed333333333333' "$TMP/rep/index.html"
else
	bad plot_prerequisites "gnuplot missing"
fi
expect_status 2 plot_unknown_sweep_exits_2 "$MEMSIM" plot line --db "$db" --sweep 0bad0bad -o "$TMP/x.png"
expect_grep plot_unknown_sweep_says_so '--sweep 0bad0bad: no sweep' "$TMP/err"
expect_status 2 plot_ambiguous_sweep_exits_2 "$MEMSIM" plot line --db "$db" --sweep abcd -o "$TMP/x.png"
expect_grep plot_ambiguous_sweep_lists_candidates 'abcd111111111111, abcd222222222222' "$TMP/err"
expect_status 2 plot_ambiguous_run_exits_2 "$MEMSIM" plot series --db "$db" --run 1234 -o "$TMP/x.png"
expect_grep plot_ambiguous_run_lists_candidates '1234000000000001, 1234000000000002' "$TMP/err"
expect_status 2 report_unknown_sweep_exits_2 "$MEMSIM" report --db "$db" --sweep 0bad0bad -o "$TMP/rep2"
expect_grep report_unknown_sweep_says_so '--sweep 0bad0bad: no sweep' "$TMP/err"
expect_status 2 report_ambiguous_sweep_exits_2 "$MEMSIM" report --db "$db" --sweep abcd -o "$TMP/rep2"
expect_grep report_ambiguous_sweep_lists_candidates 'abcd111111111111, abcd222222222222' "$TMP/err"

finish
