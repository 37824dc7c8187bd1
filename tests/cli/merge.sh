# tests/cli/merge.sh — `memsim db merge` compares a run's stored results, not only its event
# digest: a shard whose metrics (params, series, configuration) were altered is a conflict
# that names the run and the first difference, exits 1, and leaves the output unchanged.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi

# two shards of one small sweep (2 policies x 2 heavy = 4 runs)
SW="--scenario one-frame --set n=1500 --set writes=300 --policy list,hash --quiet heavy=32,64 light=heavy/4"
a="$TMP/a.db" b="$TMP/b.db" out="$TMP/out.db"
timeout 60 "$MEMSIM" sweep --db "$a" --shard 1/2 $SW 2>/dev/null
timeout 60 "$MEMSIM" sweep --db "$b" --shard 2/2 $SW 2>/dev/null
expect_status 0 merge_shards "$MEMSIM" db merge "$out" "$a" "$b"
expect_grep merge_copies_the_second_shard 'b\.db: 2 runs copied, 0 already present' "$TMP/out"
expect_status 0 merge_identical_shard_again "$MEMSIM" db merge "$out" "$b"
expect_grep identical_shard_is_already_present 'b\.db: 0 runs copied, 2 already present' "$TMP/out"

dump() { sqlite3 "$1" 'SELECT * FROM runs ORDER BY run_id; SELECT * FROM params ORDER BY 1, 2;
	SELECT * FROM metrics ORDER BY 1, 2; SELECT * FROM series ORDER BY 1, 2, 3;
	SELECT * FROM sweeps ORDER BY 1'; }
dump "$out" >"$TMP/before"

# tamper SQL... : a copy of shard b changed by the SQL, merged into out: must be a conflict
# whose message matches PATTERN; out must not change.
tampered() { # NAME PATTERN SQL
	cp "$b" "$TMP/t.db"
	rm -f "$TMP/t.db-wal" "$TMP/t.db-shm"
	sqlite3 "$TMP/t.db" "$3"
	expect_status 1 "merge_refuses_$1" "$MEMSIM" db merge "$out" "$TMP/t.db"
	expect_grep "merge_names_run_and_difference_$1" "$2" "$TMP/err"
	dump "$out" >"$TMP/after"
	if cmp -s "$TMP/before" "$TMP/after"; then ok "merge_leaves_output_unchanged_$1"
	else bad "merge_leaves_output_unchanged_$1" "$(diff "$TMP/before" "$TMP/after" | head -3)"; fi
}
first=$(sqlite3 "$b" 'SELECT run_id FROM runs ORDER BY run_id LIMIT 1')
dns=$(sqlite3 "$b" "SELECT CAST(value AS INTEGER) FROM metrics WHERE run_id = '$first' AND name = 'destroy_ns'")
# every destroy_ns multiplied by 1000 (the event digests are untouched)
tampered destroy_ns_times_1000 \
	"conflict with .*out\.db: run $first: metric destroy_ns is $((dns * 1000)) in the input but $dns here" \
	"UPDATE metrics SET value = value * 1000 WHERE name = 'destroy_ns'"
tampered metric_missing "run $first: metric destroy_ns is absent in the input but $dns here" \
	"DELETE FROM metrics WHERE name = 'destroy_ns'"
tampered metric_nan "run $first: metric destroy_ns is NULL in the input" \
	"UPDATE metrics SET value = NULL WHERE name = 'destroy_ns' AND run_id = '$first'"
tampered extra_series "run $first: series occupancy point 0 is 5 ns: 7.0 in the input but absent here" \
	"INSERT INTO series VALUES ('$first', 'occupancy', 0, 5, 7.0)"
tampered param_changed "run $first: param heavy is 4096 in the input" \
	"UPDATE params SET value = '4096' WHERE key = 'heavy'"
tampered seed_changed "run $first: seed is 99 in the input but 1 here" "UPDATE runs SET seed = 99"
tampered event_digest "run $first: event_digest is 00000000000000ff in the input" \
	"UPDATE runs SET event_digest = '00000000000000ff'"

# a conflicting input is skipped whole, the others are merged (exit 1 all the same)
"$MEMSIM" db init --db "$TMP/fresh.db" >/dev/null
cp "$b" "$TMP/t.db"
sqlite3 "$TMP/t.db" "UPDATE metrics SET value = value * 1000 WHERE name = 'destroy_ns'"
expect_status 0 merge_into_fresh_database "$MEMSIM" db merge "$TMP/fresh.db" "$b"
expect_status 1 merge_several_inputs_one_conflicting "$MEMSIM" db merge "$TMP/fresh.db" "$TMP/t.db" "$a"
expect_grep merge_several_names_the_conflict "t\.db: conflict .*metric destroy_ns" "$TMP/err"
expect_grep merge_several_merges_the_others 'a\.db: 2 runs copied' "$TMP/out"
if [ "$(sqlite3 "$TMP/fresh.db" 'PRAGMA integrity_check; SELECT count(*) FROM runs')" = "ok
4" ]; then ok merge_output_is_consistent_after_a_conflict
else bad merge_output_is_consistent_after_a_conflict "$(sqlite3 "$TMP/fresh.db" 'PRAGMA integrity_check; SELECT count(*) FROM runs')"; fi
n=$(sqlite3 "$TMP/fresh.db" "SELECT count(*) FROM metrics WHERE name = 'destroy_ns' AND value > 1e12")
if [ "$n" = 0 ]; then ok merge_stored_no_tampered_value; else bad merge_stored_no_tampered_value "$n"; fi

finish
