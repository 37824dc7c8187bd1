# tests/cli/hangs.sh — no input makes memsim hang or read without bound: traces, sweep spec
# files and profiles that are FIFOs, character devices or huge sparse files are refused at
# once (exit 2, one line naming the file).  Every command runs under `timeout 20`, so a
# regression fails (exit 124) instead of hanging the suite.
. "$(dirname "$0")/lib.sh"

if [ ! -x "$MEMSIM" ]; then
	bad memsim_binary_exists "$MEMSIM is missing"
	# ---- calibrate plans and validate scenario lists -----------------------------------------------
expect_status 2 calibrate_plan_fifo_exits_2 $T "$MEMSIM" calibrate -o "$TMP/x.prof" --plan "$TMP/fifo" --from "$TMP"
expect_grep calibrate_plan_fifo_says_why 'plan .*fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 validate_scenarios_fifo_exits_2 $T "$MEMSIM" validate --profile unit --scenarios "$TMP/fifo" --from "$TMP"
expect_grep validate_scenarios_fifo_says_why 'scenarios .*fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 validate_scenarios_char_device_exits_2 $T "$MEMSIM" validate --profile unit --scenarios "$zero" --from "$TMP"
expect_grep validate_scenarios_char_device_says_why 'not a regular file \(a character device\)' "$TMP/err"

finish
	exit 1
fi
T="timeout 20"

mkfifo "$TMP/fifo"
# a zero device of our own (c 1 5); without the right to mknod, the system's, read only
if mknod "$TMP/zero" c 1 5 2>/dev/null; then zero="$TMP/zero"; else zero=/dev/zero; fi
truncate -s 4G "$TMP/sparse.mst"                       # 4 GiB of zeros: no header
"$MEMSIM" trace gen smoke --set n=2000 --seed 1 -o "$TMP/t.mst" >/dev/null 2>&1
cp "$TMP/t.mst" "$TMP/tail.mst"
truncate -s +4G "$TMP/tail.mst"                        # a valid trace, then 4 GiB of zeros

# ---- traces -------------------------------------------------------------------------------------
expect_status 2 run_trace_fifo_exits_2 $T "$MEMSIM" run --trace "$TMP/fifo" --model null
expect_grep run_trace_fifo_says_why 'fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 run_trace_char_device_exits_2 $T "$MEMSIM" run --trace "$zero" --model null
expect_grep run_trace_char_device_says_why 'zero: not a regular file \(a character device\)' "$TMP/err"
expect_status 2 sweep_dry_run_char_device_exits_2 $T "$MEMSIM" sweep --trace "$zero" --dry-run heavy=64,128 light=16
expect_grep sweep_dry_run_char_device_says_why 'zero: not a regular file' "$TMP/err"
expect_status 2 sweep_dry_run_fifo_exits_2 $T "$MEMSIM" sweep --trace "$TMP/fifo" --dry-run heavy=64,128 light=16
expect_status 2 run_sparse_4G_bad_header_exits_2 $T "$MEMSIM" run --trace "$TMP/sparse.mst" --model null
expect_grep run_sparse_4G_names_offset_0 'sparse\.mst: offset 0: not a memsim trace' "$TMP/err"
expect_status 2 run_trace_then_4G_zeros_exits_2 $T "$MEMSIM" run --trace "$TMP/tail.mst" --model null
expect_grep run_trace_then_4G_zeros_says_why 'tail\.mst: offset [0-9]+: trailing garbage after the end marker' "$TMP/err"
expect_status 0 run_regular_trace_still_runs $T "$MEMSIM" run --trace "$TMP/t.mst" --model null

# ---- sweep spec files ------------------------------------------------------------------------------
expect_status 2 sweep_file_char_device_exits_2 $T "$MEMSIM" sweep --scenario one-frame --file "$zero" --dry-run
expect_grep sweep_file_char_device_says_why 'zero: not a regular file \(a character device\)' "$TMP/err"
expect_status 2 sweep_file_fifo_exits_2 $T "$MEMSIM" sweep --scenario one-frame --file "$TMP/fifo" --dry-run
expect_grep sweep_file_fifo_says_why 'fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 sweep_file_4G_exits_2 $T "$MEMSIM" sweep --scenario one-frame --file "$TMP/sparse.mst" --dry-run
expect_grep sweep_file_4G_says_too_big 'sparse\.mst: 4294967296 bytes, more than the 1048576' "$TMP/err"
printf 'heavy=64\0,128\n' >"$TMP/nul.spec"
expect_status 2 sweep_file_with_nul_exits_2 $T "$MEMSIM" sweep --scenario one-frame --file "$TMP/nul.spec" --dry-run
expect_grep sweep_file_with_nul_names_line 'nul\.spec:1: a NUL byte' "$TMP/err"
printf 'heavy = 64,128\nlight = 16\n' >"$TMP/ok.spec"
expect_status 0 sweep_regular_file_still_works $T "$MEMSIM" sweep --scenario one-frame --set n=100 --file "$TMP/ok.spec" --dry-run --db "$TMP/none.db"
expect_grep sweep_regular_file_gives_points '2 points' "$TMP/out"

# ---- profiles ------------------------------------------------------------------------------------
expect_status 2 profile_fifo_exits_2 $T "$MEMSIM" run --scenario one-frame --set n=100 --profile "$TMP/fifo"
expect_grep profile_fifo_says_why 'fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 profile_char_device_exits_2 $T "$MEMSIM" run --scenario one-frame --set n=100 --profile "$zero"
expect_grep profile_char_device_says_why 'not a regular file \(a character device\)' "$TMP/err"
expect_status 2 profile_4G_exits_2 $T "$MEMSIM" run --scenario one-frame --set n=100 --profile "$TMP/sparse.mst"
expect_grep profile_4G_says_too_big 'more than the 1048576' "$TMP/err"
expect_status 2 missing_profile_is_still_named $T "$MEMSIM" run --scenario one-frame --set n=100 --profile "$TMP/none.prof"
expect_grep missing_profile_lists_builtins 'not a built-in profile' "$TMP/err"

# ---- calibrate plans and validate scenario lists -----------------------------------------------
expect_status 2 calibrate_plan_fifo_exits_2 $T "$MEMSIM" calibrate -o "$TMP/x.prof" --plan "$TMP/fifo" --from "$TMP"
expect_grep calibrate_plan_fifo_says_why 'plan .*fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 validate_scenarios_fifo_exits_2 $T "$MEMSIM" validate --profile unit --scenarios "$TMP/fifo" --from "$TMP"
expect_grep validate_scenarios_fifo_says_why 'scenarios .*fifo: not a regular file \(a FIFO\)' "$TMP/err"
expect_status 2 validate_scenarios_char_device_exits_2 $T "$MEMSIM" validate --profile unit --scenarios "$zero" --from "$TMP"
expect_grep validate_scenarios_char_device_says_why 'not a regular file \(a character device\)' "$TMP/err"

finish
