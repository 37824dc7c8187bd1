#!/usr/bin/env bash
# tests/cli/usability.sh — what a new user meets first: "did you mean", man pages made from
# the --help texts, bash completion read from the program, and what `make install` ships.
. "$(dirname "$0")/lib.sh"

# ---- did you mean ----------------------------------------------------------------------
expect_status 2 typo_of_a_command_is_a_usage_error "$MEMSIM" rnu
expect_grep typo_of_a_command_suggests_it "did you mean 'run'\?" "$TMP/err"
expect_status 2 prefix_of_a_command_is_a_usage_error "$MEMSIM" calib
expect_grep prefix_of_a_command_suggests_it "did you mean 'calibrate'\?" "$TMP/err"
expect_status 2 unrelated_word_is_a_usage_error "$MEMSIM" xyzzy
if grep -q "did you mean" "$TMP/err"; then bad unrelated_word_suggests_nothing "$(cat "$TMP/err")"
else ok unrelated_word_suggests_nothing; fi
expect_status 2 typo_of_a_trace_subcommand_is_a_usage_error "$MEMSIM" trace inof
expect_grep typo_of_a_trace_subcommand_suggests_it "did you mean 'info'\?" "$TMP/err"

# ---- man pages -------------------------------------------------------------------------
if command -v help2man >/dev/null; then
	if "$MEMSIM_TOP/sim/completion/mkman.sh" "$MEMSIM" "$TMP/man" 9.9.9 >"$TMP/out" 2>"$TMP/err"; then
		ok man_pages_are_generated
	else
		bad man_pages_are_generated "$(cat "$TMP/err")"
	fi
	# one page for memsim and one per command in its usage text
	want=$(( $("$MEMSIM" --help | grep -cE '^  [a-z]+  ') ))   # includes 'version', which has none
	have=$(ls "$TMP/man"/*.1 2>/dev/null | wc -l)
	if [ "$have" = "$want" ]; then ok man_page_per_command; else bad man_page_per_command "$have pages, wanted $want"; fi
	expect_grep man_page_has_a_name_section '^\.SH NAME' "$TMP/man/memsim-run.1"
	expect_grep man_page_names_the_command 'memsim-run \\- replay a trace' "$TMP/man/memsim-run.1"
	expect_grep man_page_carries_the_options 'scenario' "$TMP/man/memsim-run.1"
	expect_grep man_page_carries_the_version '9\.9\.9' "$TMP/man/memsim-sweep.1"
	if man -l "$TMP/man/memsim-db.1" 2>/dev/null | grep -q 'merge'; then ok man_page_renders
	else bad man_page_renders "man -l memsim-db.1 shows no 'merge'"; fi
else
	bad man_pages_are_generated "help2man is not installed (make deps installs it)"
fi

# ---- bash completion -------------------------------------------------------------------
complete_words() { # WORDS... : prints the candidates for the last word
	bash -c 'source "$1/sim/completion/memsim.bash"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _memsim; echo "${COMPREPLY[*]}"' \
		_ "$MEMSIM_TOP" "$MEMSIM" "$@"
}
expect_completion() { # NAME WANT WORDS...
	local name=$1 want=$2; shift 2
	local got
	got=$(complete_words "$@")
	if [ "$got" = "$want" ]; then ok "$name"; else bad "$name" "got '$got', wanted '$want'"; fi
}
expect_completion completion_of_commands "run report" r
expect_completion completion_of_trace_subcommands "info validate dump gen record" trace ""
expect_completion completion_of_models "scrub superpage shadow" run --model s
expect_completion completion_of_policies_follows_the_model "per-page marked" run --model superpage --policy ""
expect_completion completion_of_a_policy_list "sync,idle" sweep --model scrub --policy sync,i
expect_completion completion_of_scenarios "one-frame" run --scenario one
expect_completion completion_of_options "--scenario --seed --set" run --s
got=$(complete_words run --scenario one-frame --set "")
case " $got " in *" heavy= "*" n= "*) ok completion_of_parameters_includes_model_and_scenario ;;
*) bad completion_of_parameters_includes_model_and_scenario "got '$got'" ;; esac

# ---- progress of long runs -------------------------------------------------------------
# `script` gives the run a terminal for stderr; the first line is drawn at once with
# MEMSIM_PROGRESS_AFTER_MS=0, so the test does not depend on how fast this machine is.
on_tty() { script -qec "$*" /dev/null; }
RUN1="$MEMSIM run --no-db --scenario smoke --model null"   # stores nothing: stderr is only progress
MEMSIM_PROGRESS_AFTER_MS=0 on_tty "$RUN1 >/dev/null" >"$TMP/tty" 2>&1
expect_grep progress_line_on_a_terminal 'memsim: [0-9]+ records, [0-9]+ events, sim time' "$TMP/tty"
on_tty "$RUN1 >/dev/null" >"$TMP/tty" 2>&1
if grep -q 'records, ' "$TMP/tty"; then bad short_run_shows_no_progress "$(head -c 300 "$TMP/tty")"
else ok short_run_shows_no_progress; fi
MEMSIM_PROGRESS_AFTER_MS=0 MEMSIM_NO_PROGRESS=1 on_tty "$RUN1 >/dev/null" >"$TMP/tty" 2>&1
if grep -q 'records, ' "$TMP/tty"; then bad no_progress_when_disabled "$(head -c 300 "$TMP/tty")"
else ok no_progress_when_disabled; fi
MEMSIM_PROGRESS_AFTER_MS=0 $RUN1 >/dev/null 2>"$TMP/err"
if [ -s "$TMP/err" ]; then bad no_progress_when_stderr_is_a_file "$(head -c 300 "$TMP/err")"
else ok no_progress_when_stderr_is_a_file; fi

# ---- make help and make install --------------------------------------------------------
if make -s -C "$MEMSIM_TOP" help >"$TMP/out" 2>"$TMP/err"; then ok make_help_runs; else bad make_help_runs "$(cat "$TMP/err")"; fi
expect_grep make_help_lists_check '^make check' "$TMP/out"
if [ -z "${MEMSIM_SANITIZED-}" ]; then  # the sanitized build is not the one to install
	if make -s -C "$MEMSIM_TOP" install BUILD="$(realpath --relative-to="$MEMSIM_TOP" "$MEMSIM_BUILD")" \
		PREFIX="$TMP/usr" >"$TMP/out" 2>"$TMP/err"; then ok install_runs
	else bad install_runs "$(tail -5 "$TMP/err")"; fi
	for f in bin/memsim share/man/man1/memsim.1 share/man/man1/memsim-sweep.1 \
		share/bash-completion/completions/memsim share/memsim/hw-validate/Makefile \
		share/memsim/models/rmap.c share/memsim/analysis/line.gp share/doc/memsim/README.md; do
		if [ -e "$TMP/usr/$f" ]; then ok "install_ships_$(echo "$f" | tr '/.-' '___')"
		else bad "install_ships_$(echo "$f" | tr '/.-' '___')" "missing $TMP/usr/$f"; fi
	done
	if ls "$TMP/usr/share/memsim/samples/"*.mst >/dev/null 2>&1; then ok install_ships_samples
	else bad install_ships_samples "no samples in share/memsim/samples"; fi
	if [ -e "$TMP/usr/share/memsim/hw-validate/build" ]; then bad install_leaves_out_build_trees "hw-validate/build copied"
	else ok install_leaves_out_build_trees; fi
fi
finish
