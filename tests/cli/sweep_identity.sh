# tests/cli/sweep_identity.sh — a sweep's identity is its trace's base name and digest (as
# run ids are), not how the path was spelled: `a.mst`, `./a.mst` and an absolute path give one
# sweep id, and shards run with different spellings merge into one sweep whose report covers
# the whole grid.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export MEMSIM_ANALYSIS="$top/analysis"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi
T="timeout 60"
mkdir -p "$TMP/traces" "$TMP/elsewhere"
"$MEMSIM" trace gen smoke --set n=3000 --seed 1 -o "$TMP/traces/a.mst" >/dev/null 2>&1
AX=(--policy list,hash heavy=64,128 light=16 --quiet)

sweep_id() { # DIR TRACE: the sweep id of a dry run started in DIR with --trace TRACE
	( cd "$1" && $T "$MEMSIM" sweep --trace "$2" "${AX[@]}" --dry-run --db "$TMP/none.db" ) |
		awk '/^sweep / { sub(":", "", $2); print $2 }'
}
rel=$(sweep_id "$TMP/traces" a.mst)
dot=$(sweep_id "$TMP/traces" ./a.mst)
abs=$(sweep_id "$TMP/elsewhere" "$TMP/traces/a.mst")
up=$(sweep_id "$TMP/elsewhere" ../traces/a.mst)
if [ -n "$rel" ] && [ "$rel" = "$dot" ] && [ "$rel" = "$abs" ] && [ "$rel" = "$up" ]; then
	ok three_spellings_give_one_sweep_id
else bad three_spellings_give_one_sweep_id "a.mst $rel, ./a.mst $dot, absolute $abs, ../ $up"; fi

# another trace (other contents) under the same base name is another sweep
mkdir -p "$TMP/other"
"$MEMSIM" trace gen smoke --set n=3000 --seed 2 -o "$TMP/other/a.mst" >/dev/null 2>&1
oth=$(sweep_id "$TMP/other" a.mst)
if [ -n "$oth" ] && [ "$oth" != "$rel" ]; then ok same_name_other_contents_is_another_sweep
else bad same_name_other_contents_is_another_sweep "both $oth"; fi

# shards recorded with different spellings, merged: one sweep, the whole grid
( cd "$TMP/traces" && $T "$MEMSIM" sweep --trace a.mst --shard 1/2 --db "$TMP/s1.db" "${AX[@]}" ) 2>/dev/null
( cd "$TMP/elsewhere" && $T "$MEMSIM" sweep --trace "$TMP/traces/a.mst" --shard 2/2 --db "$TMP/s2.db" "${AX[@]}" ) 2>/dev/null
expect_status 0 merge_shards_of_two_spellings "$MEMSIM" db merge "$TMP/m.db" "$TMP/s1.db" "$TMP/s2.db"
got=$(sqlite3 "$TMP/m.db" "SELECT (SELECT count(*) FROM sweeps) || ' ' || (SELECT count(DISTINCT sweep_id) FROM runs) || ' ' || (SELECT count(*) FROM runs) || ' ' || (SELECT sweep_id FROM sweeps)")
if [ "$got" = "1 1 4 $rel" ]; then ok merged_shards_are_one_sweep
else bad merged_shards_are_one_sweep "sweeps, sweep ids of runs, runs, id: $got (want 1 1 4 $rel)"; fi
if command -v gnuplot >/dev/null; then
	expect_status 0 report_of_merged_sweep "$MEMSIM" report --db "$TMP/m.db" --sweep "$rel" -o "$TMP/rep"
	expect_grep report_covers_the_whole_grid '4 runs in the database' "$TMP/rep/index.html"
else
	bad report_prerequisites "gnuplot missing"
fi
# the spec names the trace by base name and digest, not by a path
spec=$(sqlite3 "$TMP/m.db" "SELECT json_extract(spec, '\$.trace') || ' ' || length(json_extract(spec, '\$.trace_digest')) FROM sweeps")
if [ "$spec" = "a.mst 16" ]; then ok sweep_spec_names_trace_by_base_name_and_digest
else bad sweep_spec_names_trace_by_base_name_and_digest "$spec"; fi
# resuming with a third spelling finds every point stored
( cd "$TMP" && $T "$MEMSIM" sweep --trace ./traces/a.mst --db "$TMP/m.db" "${AX[@]}" ) 2>"$TMP/err"
expect_grep resume_with_third_spelling_runs_nothing "sweep $rel: 4 points: 0 run, 4 already stored" "$TMP/err"

finish
