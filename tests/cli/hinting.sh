#!/usr/bin/env bash
# tests/cli/hinting.sh — the hinting model's volatile pages from the command line: the
# page-cache scenario written to a trace file replays to the same figures (the page_write arg
# convention survives the file format), hint_mech choices, bad scenario input.
. "$(dirname "$0")/lib.sh"

small=(--set guests=2 --set guest_mib=16 --set data_mib=64 --set hot_mib=4 --set duration_ms=500
       --set tmp_kib=256)
host=(--set host_mem_pages=5000 --set lazy_pages=64)
metrics() { # JSON on stdin -> the metrics, one per line
	python3 -c 'import json, sys
for k, v in json.load(sys.stdin)["metrics"].items(): print(k, repr(v))'
}

expect_status 0 page_cache_trace_gen "$MEMSIM" trace gen page-cache "${small[@]}" --seed 3 -o "$TMP/pc.mst"
"$MEMSIM" run --scenario page-cache "${small[@]}" --seed 3 --model hinting --policy volatile-lazy \
	"${host[@]}" --json | metrics >"$TMP/scen.txt"
"$MEMSIM" run --trace "$TMP/pc.mst" --model hinting --policy volatile-lazy "${host[@]}" --json |
	metrics >"$TMP/file.txt"
if diff -q "$TMP/scen.txt" "$TMP/file.txt" >/dev/null; then
	ok page_cache_file_replays_like_the_scenario
else
	bad page_cache_file_replays_like_the_scenario "$(diff "$TMP/scen.txt" "$TMP/file.txt" | head -c 600)"
fi
expect_grep page_cache_fills_reach_the_model '^cache_fills [1-9]' "$TMP/file.txt"
expect_grep page_cache_discard_faults '^discard_faults [1-9]' "$TMP/file.txt"
expect_grep page_cache_no_stable_page_lost '^stable_pages_lost 0' "$TMP/file.txt"
expect_grep page_cache_invariants_hold '^invariant_violations 0' "$TMP/file.txt"

expect_status 0 hint_mech_essa_runs "$MEMSIM" run --scenario page-cache "${small[@]}" \
	--model hinting --policy volatile "${host[@]}" --set hint_mech=essa --json
expect_grep hint_mech_essa_counts_instructions '"essa_ops":[1-9]' "$TMP/out"
expect_grep hint_mech_essa_recorded '"hint_mech":"essa"' "$TMP/out"
expect_status 2 hint_mech_unknown_is_a_usage_error "$MEMSIM" run --scenario page-cache "${small[@]}" \
	--model hinting --policy volatile --set hint_mech=vmcall
expect_grep hint_mech_unknown_names_the_setting 'hint_mech' "$TMP/err"
expect_status 2 page_cache_hot_above_data_is_refused "$MEMSIM" run --scenario page-cache \
	--set data_mib=8 --set hot_mib=16 --model hinting --policy volatile
expect_grep page_cache_hot_above_data_says_why 'hot_mib=16: above data_mib' "$TMP/err"
if [ "$(wc -l <"$TMP/err")" = 1 ]; then ok page_cache_error_is_one_line; else bad page_cache_error_is_one_line "$(cat "$TMP/err")"; fi
expect_status 2 lazy_is_no_longer_a_policy "$MEMSIM" run --scenario page-cache "${small[@]}" \
	--model hinting --policy lazy
expect_status 0 page_cache_run_into_db "$MEMSIM" run --db "$TMP/r.db" --scenario page-cache "${small[@]}" \
	--model hinting --policy volatile "${host[@]}"
sqlite3 "$TMP/r.db" "select name from series group by name" >"$TMP/series"
expect_grep page_cache_series_volatile_pages '^volatile_pages$' "$TMP/series"
expect_grep page_cache_series_stable_cache_pages '^stable_cache_pages$' "$TMP/series"
finish
