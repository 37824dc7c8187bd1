#!/usr/bin/env bash
# tests/cli/shadow.sh — `memsim run --model shadow`: the seed-003 policies, tdp and the
# long-lived scenario from the command line, and their bad input.
. "$(dirname "$0")/lib.sh"
ll=(--scenario long-lived --set switches=200 --model shadow)

expect_status 0 help_lists_fifo_skip_roots "$MEMSIM" run --help
expect_grep help_names_fifo_skip_roots 'fifo-skip-roots +zap the oldest shadow page no vCPU has loaded' "$TMP/out"
expect_status 0 gen_list_has_long_lived "$MEMSIM" trace gen --list
expect_grep gen_list_names_long_lived '^long-lived' "$TMP/out"

expect_status 0 fifo_on_long_lived_runs "$MEMSIM" run "${ll[@]}" --policy fifo --json
expect_grep fifo_reports_root_reloads '"root_reloads":[1-9][0-9]*' "$TMP/out"
expect_grep fifo_reports_reload_requests '"reload_requests":[1-9][0-9]*' "$TMP/out"
expect_status 0 skip_roots_on_long_lived_runs "$MEMSIM" run "${ll[@]}" --policy fifo-skip-roots --json
expect_grep skip_roots_never_reloads '"root_reloads":0,' "$TMP/out"
expect_grep skip_roots_never_zaps_a_loaded_root '"roots_zapped":0,' "$TMP/out"

expect_status 0 tdp_clock_runs "$MEMSIM" run "${ll[@]}" --policy clock --set tdp=1 --json
expect_grep tdp_walks_the_ept '"ept_walks":[1-9][0-9]*' "$TMP/out"
expect_grep tdp_has_one_root_per_vcpu '"ept_root_loads":2,' "$TMP/out"
expect_grep tdp_sets_no_accessed_bit '"ptes_cleared":0,' "$TMP/out"

expect_status 0 tdp_shared_root_runs "$MEMSIM" run "${ll[@]}" --policy fifo --set tdp=1 --set tdp_roots=shared --json
expect_grep tdp_shared_root_walks_the_ept '"ept_walks":[1-9][0-9]*' "$TMP/out"

# bad input: one line, exit 2
expect_status 2 tdp_roots_is_a_choice "$MEMSIM" run "${ll[@]}" --policy fifo --set tdp=1 --set tdp_roots=each
expect_status 2 tdp_refuses_accessed "$MEMSIM" run "${ll[@]}" --policy accessed --set tdp=1
expect_grep tdp_refusal_says_why 'policy accessed needs accessed bits.*tdp=1' "$TMP/err"
n=$(wc -l <"$TMP/err")
[ "$n" = 1 ] && ok tdp_refusal_is_one_line || bad tdp_refusal_is_one_line "$n lines"
expect_status 2 fallback_switch_is_0_or_1 "$MEMSIM" run "${ll[@]}" --policy clock --set clock_fallback_skips_roots=2
expect_status 2 tdp_is_0_or_1 "$MEMSIM" run "${ll[@]}" --policy clock --set tdp=2
finish
