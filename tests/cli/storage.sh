# tests/cli/storage.sh — the results database: a bad --db is refused before anything is
# simulated; results are printed even when storing them fails (exit 1); a sweep stops at the
# first point it cannot store; a database path must be a regular file (or not exist yet).
# A full disk is simulated without mounts: `ulimit -f` (RLIMIT_FSIZE) in a subshell that
# ignores SIGXFSZ, so writes past the limit fail with EFBIG, as root too.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	finish
	exit 1
fi
T="timeout 20"
small=(--scenario one-frame --set n=1500 --set writes=300)

# ---- non-regular database paths --------------------------------------------------------------
# a character device made here (c 1 3 is /dev/null's); without the right to mknod, a FIFO
if mknod "$TMP/nulldev" c 1 3 2>/dev/null; then dev="$TMP/nulldev" kind="a character device"
else mkfifo "$TMP/nulldev"; dev="$TMP/nulldev" kind="a FIFO"; fi
expect_status 2 run_refuses_device_as_db $T "$MEMSIM" run "${small[@]}" --db "$dev"
expect_grep run_device_db_says_why "nulldev: not a regular file \($kind\)" "$TMP/err"
if [ ! -s "$TMP/out" ]; then ok run_device_db_simulates_nothing
else bad run_device_db_simulates_nothing "$(head -3 "$TMP/out")"; fi
if ls "$TMP"/nulldev?* >/dev/null 2>&1; then bad device_db_gets_no_journal "$(ls "$TMP")"
else ok device_db_gets_no_journal; fi
mkfifo "$TMP/fifo.db"
expect_status 2 run_refuses_fifo_as_db $T "$MEMSIM" run "${small[@]}" --db "$TMP/fifo.db"
expect_grep run_fifo_db_says_why 'fifo\.db: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 sweep_refuses_fifo_as_db $T "$MEMSIM" sweep "${small[@]}" --db "$TMP/fifo.db" heavy=64,128 --quiet
expect_status 2 db_ls_refuses_fifo $T "$MEMSIM" db ls --db "$TMP/fifo.db"
expect_status 1 db_init_refuses_fifo $T "$MEMSIM" db init --db "$TMP/fifo.db"
expect_grep db_init_fifo_says_why 'not a regular file' "$TMP/err"

# ---- a bad --db is found before the simulation ---------------------------------------------
# The trace's header and framing are valid but a chunk is corrupt: only the replay finds
# that.  With a bad --db the database's error comes first: nothing was replayed.
"$MEMSIM" trace gen smoke --set n=2000 --seed 1 -o "$TMP/t.mst" >/dev/null 2>&1
cp "$TMP/t.mst" "$TMP/crc.mst"
printf '\xff\xff\xff\xff' | dd of="$TMP/crc.mst" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_status 2 corrupt_chunk_is_found_by_the_replay $T "$MEMSIM" run --trace "$TMP/crc.mst" --model null
expect_grep corrupt_chunk_message 'crc\.mst: offset [0-9]+: ' "$TMP/err"
echo "not a database" >"$TMP/junk.db"
expect_status 2 run_checks_db_before_simulating $T "$MEMSIM" run --trace "$TMP/crc.mst" --model null --db "$TMP/junk.db"
if grep -q 'junk\.db: not a database' "$TMP/err" && ! grep -q 'crc\.mst' "$TMP/err"; then
	ok run_reports_the_db_not_the_trace
else bad run_reports_the_db_not_the_trace "$(cat "$TMP/err")"; fi
expect_status 2 run_refuses_db_in_missing_directory $T "$MEMSIM" run "${small[@]}" --db "$TMP/no/dir/x.db" --json
if [ ! -s "$TMP/out" ]; then ok run_missing_dir_simulates_nothing
else bad run_missing_dir_simulates_nothing "$(head -c 200 "$TMP/out")"; fi
expect_status 2 sweep_checks_db_first $T "$MEMSIM" sweep --trace "$TMP/crc.mst" --db "$TMP/junk.db" heavy=64,128 light=16 --quiet
if grep -q 'junk\.db: not a database' "$TMP/err" && ! grep -q 'crc\.mst' "$TMP/err"; then
	ok sweep_reports_the_db_not_the_trace
else bad sweep_reports_the_db_not_the_trace "$(cat "$TMP/err")"; fi

# calibrate and validate measure for minutes: their --db is checked before (here the --from
# directory does not exist, which they would find first otherwise)
expect_status 2 validate_checks_db_first $T "$MEMSIM" validate --profile unit --from "$TMP/nodir" --db "$dev"
if grep -q 'validate: --db .*nulldev: not a regular file' "$TMP/err" && ! grep -q nodir "$TMP/err"; then
	ok validate_reports_the_db_first
else bad validate_reports_the_db_first "$(cat "$TMP/err")"; fi
expect_status 2 calibrate_checks_db_first $T "$MEMSIM" calibrate -o "$TMP/x.prof" --from "$TMP/nodir" --db "$dev"
if grep -q 'calibrate: --db .*nulldev: not a regular file' "$TMP/err" && ! grep -q nodir "$TMP/err"; then
	ok calibrate_reports_the_db_first
else bad calibrate_reports_the_db_first "$(cat "$TMP/err")"; fi

# ---- results are printed even when storing fails ----------------------------------------------
db="$TMP/r.db"
expect_status 0 run_stores "$MEMSIM" run "${small[@]}" --db "$db" --json
id=$(sed -E 's/^\{"run_id":"([0-9a-f]{16})".*/\1/' "$TMP/out")
sqlite3 "$db" "UPDATE metrics SET value = value * 1000 WHERE name = 'destroy_ns'"
expect_status 1 run_conflicting_with_stored_results_exits_1 $T "$MEMSIM" run "${small[@]}" --db "$db" --json
expect_grep run_conflict_still_prints_json "^\{\"run_id\":\"$id\",.*\"destroy_ns\":" "$TMP/out"
expect_grep run_conflict_names_the_metric "run $id is already stored .*metric destroy_ns .*not stored" "$TMP/err"
expect_status 1 run_conflict_prints_human_results_too $T "$MEMSIM" run "${small[@]}" --db "$db"
expect_grep run_conflict_human_has_metrics '^  destroy_ns ' "$TMP/out"

# a full disk at store time: the results are on stdout, the database unchanged
"$MEMSIM" db init --db "$TMP/full.db" >/dev/null
( trap '' XFSZ; ulimit -f 40; exec $T "$MEMSIM" run --scenario working-set --model shadow \
	--db "$TMP/full.db" --json ) >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" = 1 ]; then ok run_on_full_disk_exits_1; else bad run_on_full_disk_exits_1 "exit $rc: $(cat "$TMP/err")"; fi
expect_grep run_on_full_disk_prints_results '^\{"run_id":"[0-9a-f]{16}",.*"metrics":' "$TMP/out"
expect_grep run_on_full_disk_says_not_stored 'full\.db: .*(disk I/O error|full).*not stored' "$TMP/err"
if [ "$(sqlite3 "$TMP/full.db" 'PRAGMA integrity_check; SELECT count(*) FROM runs')" = "ok
0" ]; then ok full_disk_run_leaves_db_consistent_and_empty
else bad full_disk_run_leaves_db_consistent_and_empty "$(sqlite3 "$TMP/full.db" 'PRAGMA integrity_check; SELECT count(*) FROM runs')"; fi

# a new database that cannot even be set up is not left behind
( trap '' XFSZ; ulimit -f 4; exec $T "$MEMSIM" run "${small[@]}" --db "$TMP/new.db" ) >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" = 2 ] && [ ! -s "$TMP/out" ]; then ok run_unusable_new_db_exits_2_before_running
else bad run_unusable_new_db_exits_2_before_running "exit $rc: $(cat "$TMP/err")"; fi
if ls "$TMP"/new.db* >/dev/null 2>&1; then bad unusable_new_db_is_removed "$(ls -la "$TMP"/new.db*)"
else ok unusable_new_db_is_removed; fi

# ---- a sweep stops at the first point it cannot store -----------------------------------------
SW=("${small[@]}" --policy list,hash,tree --reps 20 heavy=32..512*2 light=heavy/4 --quiet)
"$MEMSIM" db init --db "$TMP/sw.db" >/dev/null
( trap '' XFSZ; ulimit -f 100; exec $T "$MEMSIM" sweep "${SW[@]}" --db "$TMP/sw.db" ) >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" = 1 ]; then ok sweep_on_full_disk_exits_1; else bad sweep_on_full_disk_exits_1 "exit $rc: $(tail -3 "$TMP/err")"; fi
expect_grep sweep_full_disk_names_the_point 'point #[0-9]+ .*cannot store: .*sw\.db' "$TMP/err"
expect_grep sweep_full_disk_says_it_stopped 'stopped at the first point that could not be stored' "$TMP/err"
if [ "$(grep -c 'cannot store' "$TMP/err")" = 1 ]; then ok sweep_full_disk_fails_one_point_only
else bad sweep_full_disk_fails_one_point_only "$(grep -c 'cannot store' "$TMP/err") store failures"; fi
stored=$(sqlite3 "$TMP/sw.db" 'SELECT count(*) FROM runs')
if [ "$(sqlite3 "$TMP/sw.db" 'PRAGMA integrity_check')" = ok ] && [ "$stored" -lt 300 ]; then
	ok sweep_full_disk_leaves_db_consistent
else bad sweep_full_disk_leaves_db_consistent "$stored runs"; fi
if grep -qE "$((300 - stored - 1)) points not run" "$TMP/err"; then ok sweep_full_disk_counts_points_not_run
else bad sweep_full_disk_counts_points_not_run "$stored stored; $(tail -1 "$TMP/err")"; fi
# with room again, the same command finishes the sweep
expect_status 0 sweep_resumes_after_full_disk $T "$MEMSIM" sweep "${SW[@]}" --db "$TMP/sw.db" --jobs 2
if [ "$(sqlite3 "$TMP/sw.db" 'SELECT count(*) FROM runs')" = 300 ]; then ok sweep_resumed_has_every_point
else bad sweep_resumed_has_every_point "$(sqlite3 "$TMP/sw.db" 'SELECT count(*) FROM runs')"; fi

finish
