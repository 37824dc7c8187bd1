# tests/cli/db.sh — `memsim db`: ls, show, export, merge, init on databases filled with the
# sqlite3 CLI (so this test does not depend on `memsim run`).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi

# fill DB RUN_PREFIX SWEEP: two runs (ids PREFIX...01, PREFIX...02), the first in SWEEP;
# the second has seed 2^64-1, which memsim stores as its bit pattern (-1)
fill() {
	sqlite3 "$1" <<EOF
INSERT INTO sweeps VALUES ('$3', '2024-01-01T00:00:00.000Z', '{"grid":"heavy=64,256"}', '0.1.0');
INSERT INTO runs VALUES ('${2}01', '$3', 'rmap', 'hash', 'traces/a,"b".mtr', '00000000000000aa',
  7, 'flat', '00000000000000bb', '00000000000000c1', '0.1.0', '{"heavy":64}', 1000, 'ok',
  '2024-01-01T00:00:01.000Z');
INSERT INTO runs VALUES ('${2}02', NULL, 'rmap', 'list', 'scenario:one-frame', '00000000000000aa',
  -1, 'flat', '00000000000000bb', '00000000000000c2', '0.1.0', '{}', 2000,
  'ok', '2024-01-01T00:00:02.000Z');
INSERT INTO params VALUES ('${2}01', 'heavy', '64', 0), ('${2}01', 'light', '16', 1);
INSERT INTO metrics VALUES ('${2}01', 'destroy_ns', 1500000000.0, 0), ('${2}01', 'ratio', 0.1, 1),
  ('${2}02', 'destroy_ns', 4.2e11, 0);
INSERT INTO series VALUES ('${2}01', 'occupancy', 0, 0, 3.0), ('${2}01', 'occupancy', 1, 1000, 64.0),
  ('${2}01', 'occupancy', 2, 2000, 1.0);
EOF
}

db="$TMP/a.db"

expect_status 0 db_help_exits_0 "$MEMSIM" db --help
expect_grep db_help_lists_commands 'merge +OUT IN' "$TMP/out"
expect_status 2 db_without_command_is_usage_error "$MEMSIM" db
expect_status 2 db_unknown_command_is_usage_error "$MEMSIM" db frobnicate
expect_grep db_unknown_command_is_named 'frobnicate' "$TMP/err"
for sub in ls show export merge init; do
	expect_status 0 "db_${sub}_help_exits_0" "$MEMSIM" db "$sub" --help
	expect_grep "db_${sub}_help_shows_usage" "usage: memsim db $sub" "$TMP/out"
done

# read commands never create a database
expect_status 2 ls_of_missing_db_exits_2 "$MEMSIM" db ls --db "$TMP/missing.db"
expect_grep ls_of_missing_db_names_the_file "missing.db: no such database file" "$TMP/err"
expect_status 2 show_of_missing_db_exits_2 "$MEMSIM" db show 0123456789abcdef --db "$TMP/missing.db"
expect_status 2 export_of_missing_db_exits_2 "$MEMSIM" db export --csv --db "$TMP/missing.db"
if [ -e "$TMP/missing.db" ]; then bad read_commands_create_no_file "missing.db was created"
else ok read_commands_create_no_file; fi
echo "not a database" >"$TMP/junk.db"
expect_status 2 ls_of_foreign_file_exits_2 "$MEMSIM" db ls --db "$TMP/junk.db"
expect_grep ls_of_foreign_file_says_why "junk.db: .*not a (memsim )?database" "$TMP/err"

expect_status 0 init_creates_database "$MEMSIM" db init --db "$db"
if [ "$(sqlite3 "$db" "SELECT value FROM meta WHERE key = 'schema_version'")" = 1 ]; then
	ok init_writes_schema_version
else bad init_writes_schema_version "no schema_version 1"; fi
if [ "$(sqlite3 "$db" 'PRAGMA journal_mode')" = wal ]; then ok database_is_in_wal_mode
else bad database_is_in_wal_mode "journal_mode is $(sqlite3 "$db" 'PRAGMA journal_mode')"; fi

# every column of every table is documented in docs/schema.md
undoc=""
for t in meta sweeps runs params metrics series; do
	for c in $(sqlite3 "$db" "SELECT name FROM pragma_table_info('$t')"); do
		grep -q "^| \`$c\` |" "$top/docs/schema.md" || undoc="$undoc $t.$c"
	done
done
if [ -z "$undoc" ]; then ok every_column_is_documented
else bad every_column_is_documented "undocumented:$undoc"; fi

fill "$db" aaaaaaaaaaaaaa sw1

expect_status 0 ls_lists_runs "$MEMSIM" db ls --db "$db"
expect_grep ls_has_header '^run_id +model +policy +trace +seed +metrics +status +created$' "$TMP/out"
expect_grep ls_shows_first_run '^aaaaaaaaaaaaaa01 +rmap +hash .* 7 +2 +ok +2024-01-01T00:00:01' "$TMP/out"
expect_grep ls_prints_seed_unsigned '^aaaaaaaaaaaaaa02 .* 18446744073709551615 +1 ' "$TMP/out"
expect_status 0 ls_filters_by_sweep "$MEMSIM" db ls --db "$db" --sweep sw1
if [ "$(wc -l <"$TMP/out")" = 2 ] && grep -q aaaaaaaaaaaaaa01 "$TMP/out"; then ok ls_sweep_keeps_only_its_runs
else bad ls_sweep_keeps_only_its_runs "$(cat "$TMP/out")"; fi
( cd "$TMP" && MEMSIM_DB="$db" "$MEMSIM" db ls >"$TMP/env.out" 2>&1 )
expect_grep ls_defaults_to_MEMSIM_DB aaaaaaaaaaaaaa02 "$TMP/env.out"
cp "$db" "$TMP/memsim.db"
( cd "$TMP" && env -u MEMSIM_DB "$MEMSIM" db ls >"$TMP/cwd.out" 2>&1 )
expect_grep ls_defaults_to_memsim_db_in_cwd aaaaaaaaaaaaaa01 "$TMP/cwd.out"
expect_status 2 ls_rejects_unknown_option "$MEMSIM" db ls --db "$db" --bogus
expect_grep unknown_option_is_named '--bogus' "$TMP/err"
expect_status 2 ls_rejects_show_only_arguments "$MEMSIM" db ls --db "$db" extra

expect_status 0 show_prints_a_run "$MEMSIM" db show aaaaaaaaaaaaaa01 --db "$db"
expect_grep show_has_provenance '^event_digest +00000000000000c1$' "$TMP/out"
expect_grep show_has_config '^  \{"heavy":64\}$' "$TMP/out"
expect_grep show_has_params '^  light +16$' "$TMP/out"
expect_grep show_prints_integral_metric_exactly '^  destroy_ns +1500000000$' "$TMP/out"
expect_grep show_prints_fraction_shortest '^  ratio +0\.1$' "$TMP/out"
expect_grep show_counts_series_points '^  occupancy +3 points, t_ns 0\.\.2000$' "$TMP/out"
expect_status 0 show_accepts_unique_prefix "$MEMSIM" db show --db "$db" aaaaaaaaaaaaaa02
expect_grep show_prefix_resolves '^run_id +aaaaaaaaaaaaaa02$' "$TMP/out"
expect_status 2 show_of_unknown_run_exits_2 "$MEMSIM" db show 0123456789abcdef --db "$db"
expect_grep show_of_unknown_run_names_it 'no run 0123456789abcdef' "$TMP/err"
expect_status 2 show_of_ambiguous_prefix_exits_2 "$MEMSIM" db show aaaa --db "$db"
expect_grep show_of_ambiguous_prefix_says_so 'ambiguous' "$TMP/err"
expect_status 2 show_of_non_hex_id_exits_2 "$MEMSIM" db show 'x;drop' --db "$db"
expect_status 2 show_without_id_exits_2 "$MEMSIM" db show --db "$db"

expect_status 0 export_runs_csv "$MEMSIM" db export --csv --db "$db"
expect_grep export_runs_has_header '^run_id,sweep_id,model,policy,trace,trace_digest,seed,' "$TMP/out"
# a field with a comma and quotes survives a real CSV parser
got=$(python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), r[0]["trace"], r[1]["seed"], r[0]["config_json"])' "$TMP/out")
if [ "$got" = '2 traces/a,"b".mtr 18446744073709551615 {"heavy":64}' ]; then ok export_csv_quotes_fields
else bad export_csv_quotes_fields "parsed: $got"; fi
expect_status 0 export_metrics_csv "$MEMSIM" db export --csv --what metrics --db "$db"
expect_grep export_metrics_prints_exact_integers '^aaaaaaaaaaaaaa01,sw1,rmap,hash,"traces/a,""b"".mtr",7,destroy_ns,1500000000$' "$TMP/out"
expect_grep export_metrics_prints_large_value '^aaaaaaaaaaaaaa02,,rmap,list,scenario:one-frame,18446744073709551615,destroy_ns,420000000000$' "$TMP/out"
expect_status 0 export_series_of_sweep "$MEMSIM" db export --csv --what series --sweep sw1 --db "$db"
if [ "$(wc -l <"$TMP/out")" = 4 ] && grep -q '^aaaaaaaaaaaaaa01,sw1,.*,occupancy,1,1000,64$' "$TMP/out"; then
	ok export_series_rows
else bad export_series_rows "$(head -5 "$TMP/out")"; fi
expect_status 0 export_params_csv "$MEMSIM" db export --csv --what params --db "$db"
expect_grep export_params_in_order '^aaaaaaaaaaaaaa01,.*,heavy,64$' "$TMP/out"
expect_status 2 export_without_format_exits_2 "$MEMSIM" db export --db "$db"
expect_status 2 export_of_unknown_table_exits_2 "$MEMSIM" db export --csv --what nothing --db "$db"
expect_grep export_of_unknown_table_names_it 'nothing' "$TMP/err"
expect_status 2 export_option_needs_value "$MEMSIM" db export --csv --db
expect_grep missing_option_value_is_named 'needs a value' "$TMP/err"

# merge: shards b (one run shared with a) and c (one run conflicting with a)
b="$TMP/b.db" c="$TMP/c.db" out="$TMP/out.db"
"$MEMSIM" db init --db "$b" && fill "$b" bbbbbbbbbbbbbb sw2
sqlite3 "$b" "INSERT INTO runs SELECT * FROM (SELECT 'aaaaaaaaaaaaaa01' AS run_id, sweep_id, model, policy, trace, trace_digest, seed, profile_name, profile_digest, '00000000000000c1', memsim_version, config_json, wall_ns, status, created FROM runs WHERE run_id = 'bbbbbbbbbbbbbb01')"
# ... with the same results (merge compares params, metrics and series, not only the digest)
sqlite3 "$b" "INSERT INTO params SELECT 'aaaaaaaaaaaaaa01', key, value, ord FROM params WHERE run_id = 'bbbbbbbbbbbbbb01';
  INSERT INTO metrics SELECT 'aaaaaaaaaaaaaa01', name, value, ord FROM metrics WHERE run_id = 'bbbbbbbbbbbbbb01';
  INSERT INTO series SELECT 'aaaaaaaaaaaaaa01', name, idx, t_ns, value FROM series WHERE run_id = 'bbbbbbbbbbbbbb01'"
expect_status 0 merge_two_shards "$MEMSIM" db merge "$out" "$db" "$b"
expect_grep merge_reports_copied "a\.db: 2 runs copied, 0 already present" "$TMP/out"
expect_grep merge_skips_run_it_has "b\.db: 2 runs copied, 1 already present" "$TMP/out"
expect_status 0 merge_again_is_idempotent "$MEMSIM" db merge "$out" "$db" "$b"
expect_grep merge_again_copies_nothing "b\.db: 0 runs copied, 3 already present" "$TMP/out"
n=$(sqlite3 "$out" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM series) || ' ' || (SELECT count(*) FROM sweeps)")
if [ "$n" = "4 6 2" ]; then ok merged_db_has_every_run_once; else bad merged_db_has_every_run_once "runs series sweeps = $n"; fi
"$MEMSIM" db init --db "$c" && fill "$c" cccccccccccccc sw3
sqlite3 "$c" "UPDATE runs SET run_id = 'aaaaaaaaaaaaaa02', event_digest = '00000000000000ff' WHERE run_id = 'cccccccccccccc02'"
expect_status 1 merge_conflict_exits_1 "$MEMSIM" db merge "$out" "$c"
expect_grep merge_conflict_names_run 'conflict.*run aaaaaaaaaaaaaa02' "$TMP/err"
if [ "$(sqlite3 "$out" "SELECT count(*) FROM runs WHERE run_id LIKE 'cccc%'")" = 0 ]; then
	ok conflicting_shard_is_not_merged_at_all
else bad conflicting_shard_is_not_merged_at_all "cccc runs were copied"; fi
expect_status 2 merge_of_missing_input_exits_2 "$MEMSIM" db merge "$out" "$TMP/nope.db"
expect_status 2 merge_needs_an_input "$MEMSIM" db merge "$out"
if [ "$(sqlite3 "$out" 'PRAGMA integrity_check')" = ok ]; then ok merged_db_passes_integrity_check
else bad merged_db_passes_integrity_check "integrity_check failed"; fi

finish
