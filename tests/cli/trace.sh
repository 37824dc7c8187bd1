#!/usr/bin/env bash
# tests/cli/trace.sh — `memsim trace`: gen -> validate -> info -> dump, determinism, the
# partial-file protocol, and bad input (exit 2, one line naming the file and byte offset).
. "$(dirname "$0")/lib.sh"
t="$TMP/s.trace"

expect_status 0 trace_help_exits_0 "$MEMSIM" trace --help
expect_grep trace_help_lists_subcommands 'validate' "$TMP/out"
for sub in info validate dump gen; do
	expect_status 0 "trace_${sub}_help_exits_0" "$MEMSIM" trace "$sub" --help
done
expect_status 2 trace_without_subcommand_is_usage_error "$MEMSIM" trace
expect_status 2 unknown_subcommand_is_rejected "$MEMSIM" trace frobnicate

# ---- gen -> validate -> info -> dump -------------------------------------------------------
expect_status 0 gen_list_exits_0 "$MEMSIM" trace gen --list
expect_grep gen_list_shows_smoke_and_its_params '^smoke' "$TMP/out"
expect_grep gen_list_shows_param_defaults 'n +default 1000' "$TMP/out"

expect_status 0 gen_smoke_succeeds "$MEMSIM" trace gen smoke --set n=5000 --set domains=4 --seed 7 -o "$t"
expect_grep gen_reports_record_count '5008 records' "$TMP/out"
ls "$TMP" | grep -q '\.part-' && bad gen_leaves_no_part_file "$(ls "$TMP")" || ok gen_leaves_no_part_file

expect_status 0 validate_accepts_generated_trace "$MEMSIM" trace validate "$t"
expect_grep validate_prints_ok_and_count "^$t: ok, 5008 records$" "$TMP/out"

expect_status 0 info_succeeds "$MEMSIM" trace info "$t"
expect_grep info_shows_version 'version +1$' "$TMP/out"
expect_grep info_shows_source 'source +synthetic:smoke' "$TMP/out"
expect_grep info_shows_params 'params +n=5000 domains=4 pages=256 seed=7' "$TMP/out"
expect_grep info_shows_record_count 'records +5008$' "$TMP/out"
expect_grep info_shows_domains 'domains +4: 1 2 3 4' "$TMP/out"
expect_grep info_shows_time_span 'time span +0 \.\. [0-9]+ ns' "$TMP/out"
expect_grep info_counts_domain_creates 'domain_create +4$' "$TMP/out"
expect_grep info_shows_digest 'digest +[0-9a-f]{16}$' "$TMP/out"

expect_status 0 dump_succeeds "$MEMSIM" trace dump "$t" --limit 10
n=$(wc -l <"$TMP/out")
[ "$n" = 10 ] && ok dump_limit_prints_n_lines || bad dump_limit_prints_n_lines "$n lines"
expect_grep dump_line_format '^0 domain_create dom=1 vcpu=0 frame=0x0 arg=[0-9]+$' "$TMP/out"
expect_status 0 dump_type_filter_succeeds "$MEMSIM" trace dump "$t" --type page_free
if grep -qv ' page_free ' "$TMP/out"; then bad dump_type_filter_keeps_only_that_type "$(grep -v ' page_free ' "$TMP/out" | head -2)"
else ok dump_type_filter_keeps_only_that_type; fi
frees=$(wc -l <"$TMP/out")
"$MEMSIM" trace info "$t" >"$TMP/info"
grep -qE "page_free +$frees\$" "$TMP/info" && ok dump_and_info_agree_on_counts || bad dump_and_info_agree_on_counts "$frees frees dumped"
expect_status 0 dump_type_accepts_numbers "$MEMSIM" trace dump "$t" --type 4 --limit 1
expect_grep dump_type_number_4_is_page_free ' page_free ' "$TMP/out"

# ---- determinism and streams -------------------------------------------------------------
"$MEMSIM" trace gen smoke --set n=5000 --set domains=4 --seed 7 -o "$TMP/again.trace" >/dev/null
cmp -s "$t" "$TMP/again.trace" && ok same_seed_gives_identical_file || bad same_seed_gives_identical_file "files differ"
"$MEMSIM" trace gen smoke --set n=5000 --set domains=4 --seed 8 -o "$TMP/other.trace" >/dev/null
cmp -s "$t" "$TMP/other.trace" && bad other_seed_gives_other_file "identical" || ok other_seed_gives_other_file
"$MEMSIM" trace gen smoke --seed 2 -o - 2>/dev/null | "$MEMSIM" trace validate - >"$TMP/out" 2>"$TMP/err"
expect_grep gen_to_stdout_pipes_into_validate '^<stdin>: ok, 1006 records$' "$TMP/out"
"$MEMSIM" trace gen smoke --seed 2 -o - 2>/dev/null >"$TMP/streamed.trace"
"$MEMSIM" trace info "$TMP/streamed.trace" >"$TMP/out" 2>&1
expect_grep streamed_trace_info_says_count_unknown "header's count is 0: unknown" "$TMP/out"

# ---- a killed writer leaves no file under the final name -------------------------------------
k="$TMP/killed.trace"
"$MEMSIM" trace gen smoke --set n=10G -o "$k" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do   # until the first chunks reach the part file
	p=$(ls "$TMP"/killed.trace.part-* 2>/dev/null | head -1)
	[ -n "$p" ] && [ "$(stat -c %s "$p")" -gt 200000 ] && break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
[ -e "$k" ] && bad killed_writer_leaves_no_final_file "$k exists" || ok killed_writer_leaves_no_final_file
p=$(ls "$TMP"/killed.trace.part-* 2>/dev/null | head -1)
if [ -n "$p" ]; then
	expect_status 2 killed_writers_part_file_is_rejected "$MEMSIM" trace validate "$p"
	expect_grep killed_writers_part_file_reads_as_truncated 'truncated|empty file' "$TMP/err"
	rm -f "$p"
else
	bad killed_writers_part_file_is_rejected "no part file in $TMP"
fi

# ---- bad input: exit 2, "FILE: offset N: ..." --------------------------------------------
expect_status 2 gen_unknown_scenario_is_rejected "$MEMSIM" trace gen nope -o "$TMP/x.trace"
expect_grep gen_unknown_scenario_lists_known "unknown scenario 'nope' \(known: smoke" "$TMP/err"
expect_status 2 gen_unknown_param_is_rejected "$MEMSIM" trace gen smoke --set bogus=1 -o "$TMP/x.trace"
expect_grep gen_unknown_param_names_it "unknown parameter 'bogus'" "$TMP/err"
expect_status 2 gen_bad_value_is_rejected "$MEMSIM" trace gen smoke --set n=abc -o "$TMP/x.trace"
expect_status 2 gen_out_of_range_is_rejected "$MEMSIM" trace gen smoke --set domains=0 -o "$TMP/x.trace"
expect_status 2 gen_bad_seed_is_rejected "$MEMSIM" trace gen smoke --seed -3 -o "$TMP/x.trace"
expect_status 2 gen_without_output_is_rejected "$MEMSIM" trace gen smoke
expect_status 2 gen_without_scenario_is_rejected "$MEMSIM" trace gen -o "$TMP/x.trace"
[ -e "$TMP/x.trace" ] && bad rejected_gen_writes_nothing "x.trace exists" || ok rejected_gen_writes_nothing
expect_status 2 dump_unknown_type_is_rejected "$MEMSIM" trace dump "$t" --type nope
expect_status 2 dump_bad_limit_is_rejected "$MEMSIM" trace dump "$t" --limit x
expect_status 2 unknown_option_is_usage_error "$MEMSIM" trace info --bogus "$t"

expect_status 2 missing_file_is_rejected "$MEMSIM" trace validate "$TMP/none.trace"
expect_grep missing_file_is_named "none.trace: cannot open" "$TMP/err"

size=$(stat -c %s "$t")
head -c $((size - 7)) "$t" >"$TMP/trunc.trace"
expect_status 2 truncated_trace_is_rejected "$MEMSIM" trace validate "$TMP/trunc.trace"
expect_grep truncated_trace_names_offset "trunc.trace: offset $((size - 7)): file ends inside the end marker" "$TMP/err"
expect_status 2 truncated_trace_info_fails "$MEMSIM" trace info "$TMP/trunc.trace"

cp "$t" "$TMP/flip.trace"
printf '\xff' | dd of="$TMP/flip.trace" bs=1 seek=300 conv=notrunc status=none
expect_status 2 corrupted_payload_is_rejected "$MEMSIM" trace validate "$TMP/flip.trace"
expect_grep corruption_is_named_as_crc_mismatch 'flip.trace: offset [0-9]+: chunk CRC mismatch' "$TMP/err"

printf 'not a trace at all\n' >"$TMP/text.trace"
expect_status 2 non_trace_is_rejected "$MEMSIM" trace validate "$TMP/text.trace"
expect_grep non_trace_message 'text.trace: offset 0: not a memsim trace' "$TMP/err"

: >"$TMP/empty.trace"
expect_status 2 empty_file_is_rejected "$MEMSIM" trace info "$TMP/empty.trace"

cp "$t" "$TMP/v2.trace"
printf '\x02' | dd of="$TMP/v2.trace" bs=1 seek=8 conv=notrunc status=none
expect_status 2 future_version_is_rejected "$MEMSIM" trace validate "$TMP/v2.trace"
expect_grep future_version_message 'offset 8: unsupported trace version 2 \(this memsim reads version 1\)' "$TMP/err"

{ cat "$t"; printf 'x'; } >"$TMP/garbage.trace"
expect_status 2 trailing_garbage_is_rejected "$MEMSIM" trace validate "$TMP/garbage.trace"
expect_grep trailing_garbage_offset "offset $size: trailing garbage" "$TMP/err"

expect_status 2 validate_of_several_fails_if_one_is_bad "$MEMSIM" trace validate "$t" "$TMP/flip.trace"
expect_grep validate_of_several_reports_the_good_one "^$t: ok" "$TMP/out"

finish
