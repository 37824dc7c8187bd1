# tests/cli/security.sh — docs/security.md guarantees 1, 2 and the plot part of 12:
# strings from a database, profile, trace name or option never run as gnuplot code; writers
# refuse devices, FIFOs and directories and follow symlinks; a failed plot keeps the old
# picture, exits 1 and leaves no temporary directory.  Every canary, device node, FIFO and
# symlink is made inside $TMP.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export MEMSIM_ANALYSIS="$top/analysis"
GNUPLOT_BIN=$(command -v gnuplot)
if [ ! -x "$MEMSIM" ] || [ -z "$GNUPLOT_BIN" ]; then
	bad security_prerequisites "memsim or gnuplot missing"
	finish
	exit 1
fi
unset MEMSIM_GNUPLOT MEMSIM_DB
# gnuplot's backquotes run in its working directory: the work happens in $W, where every
# canary C_* would appear (and $TMP is searched too)
W="$TMP/work"
mkdir -p "$W" "$TMP/tmpdir"
cd "$W" || exit 1
export TMPDIR="$TMP/tmpdir"
canaries() { find "$TMP" -name 'C_*' | sed "s|$TMP/||" | tr '\n' ' '; }
no_canary() {
	local c
	c=$(canaries)
	if [ -z "$c" ]; then ok "$1"; else bad "$1" "commands ran: $c"; find "$TMP" -name 'C_*' -delete; fi
}

# ---- 1. strings never reach gnuplot as code ------------------------------------------------
# a gnuplot wrapper that keeps every prelude memsim writes, to check its form
cat >"$TMP/gp-spy" <<EOF
#!/bin/sh
cat "\$1" >>"$TMP/preludes.gp"
exec "$GNUPLOT_BIN" "\$@"
EOF
chmod +x "$TMP/gp-spy"
export MEMSIM_GNUPLOT="$TMP/gp-spy"

prof_name='evil`touch${IFS}C_prof`$(touch${IFS}C_dollar)'"'q\"@x"
cat >evil.prof <<EOF
name $prof_name
cost list_hop 1
cost bucket_visit 2
cost free 3
cost page_scrub 100
EOF
# a trace whose file name holds a backquoted command, \$( ), quotes and a newline followed by
# a gnuplot command
trace=$'tr`touch${IFS}C_trace`$(touch${IFS}C_tdollar)\'"\nsystem "touch C_nl"\n.mst'
db="$W/t.db"
expect_status 0 evil_trace_is_generated "$MEMSIM" trace gen one-frame --set n=200 -o "$trace"
expect_status 0 evil_profile_sweep_is_stored "$MEMSIM" sweep --trace "$trace" --model rmap \
	--policy hash,list heavy=16,32 light=4,8 --profile evil.prof --db "$db" --quiet
expect_status 0 evil_profile_series_run_is_stored "$MEMSIM" sweep --scenario destroy --model scrub \
	--set mem_mb=64 --set order=9 --profile evil.prof --db "$db" --quiet
sid=$(sqlite3 "$db" "SELECT sweep_id FROM runs WHERE model = 'rmap' LIMIT 1")
if [ "$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE profile_name = '$(printf %s "$prof_name" | sed "s/'/''/g")'")" = 9 ]
then ok evil_profile_name_is_stored_as_given
else bad evil_profile_name_is_stored_as_given "$(sqlite3 "$db" 'SELECT DISTINCT profile_name FROM runs')"; fi

for kind in line heatmap cdf series pareto; do
	case $kind in
	line) args="--sweep $sid --x heavy --where light=4" ;;
	heatmap) args="--sweep $sid --x heavy --y light" ;;
	cdf) args="--sweep $sid" ;;
	series) args="--series scrub_backlog_pages" ;;
	pareto) args="--sweep $sid --x rmap_bytes_peak --y destroy_ns" ;;
	esac
	# shellcheck disable=SC2086
	expect_status 0 "plot_${kind}_of_evil_names_exits_0" "$MEMSIM" plot "$kind" --db "$db" $args -o "$W/$kind.svg"
	no_canary "plot_${kind}_runs_no_command"
done
# the strings are shown as text, not lost: the titles carry them literally
expect_grep line_title_shows_the_profile_name_literally 'evil`touch\$\{IFS\}C_prof`\$\(touch\$\{IFS\}C_dollar\)' "$W/line.svg"
expect_grep line_title_shows_the_trace_name_literally 'tr`touch\$\{IFS\}C_trace`' "$W/line.svg"
expect_grep series_title_shows_the_profile_name 'evil`touch' "$W/series.svg"
# the prelude holds only numbers, arrays and single-quoted strings: with those and the fixed
# "\n" removed, no quote, backquote, $ or @ is left
if [ -s "$TMP/preludes.gp" ] &&
   ! sed -E "s/'([^']|'')*'//g; s/\"\\\\n\"//g" "$TMP/preludes.gp" | grep -q '[`"$@]'; then
	ok prelude_has_only_single_quoted_strings
else bad prelude_has_only_single_quoted_strings "$(sed -E "s/'([^']|'')*'//g; s/\"\\\\n\"//g" "$TMP/preludes.gp" | grep '[`"$@]' | head -3)"; fi
expect_grep prelude_doubles_a_quote "plottitle = '.*C_dollar\\)''q\"@x" "$TMP/preludes.gp"
expect_grep prelude_splices_the_newline_of_a_trace_name "'\\.\"\\\\n\"\\.'system \"touch C_nl\"" "$TMP/preludes.gp"

expect_status 0 plot_title_option_exits_0 "$MEMSIM" plot line --db "$db" --sweep "$sid" --x heavy \
	--where light=4 --title $'T`touch C_title`$(touch C_tdollar2)\nsystem "touch C_title_nl"' -o "$W/title.svg"
no_canary plot_title_option_runs_no_command
expect_grep title_option_is_shown_literally 'T`touch C_title`' "$W/title.svg"
# file names: gnuplot opens '<cmd' and '|cmd' through a shell; memsim gives it none of the user's
expect_status 0 plot_data_named_like_a_pipe_exits_0 "$MEMSIM" plot line --db "$db" --sweep "$sid" \
	--x heavy --where light=4 --data '<touch C_lt' -o "$W/d.png"
no_canary plot_data_named_like_a_pipe_runs_no_command
if [ -s "$W/<touch C_lt" ]; then ok plot_data_named_like_a_pipe_is_a_file
else bad plot_data_named_like_a_pipe_is_a_file "$(ls "$W")"; fi
expect_status 0 plot_output_named_like_a_pipe_exits_0 "$MEMSIM" plot line --db "$db" --sweep "$sid" \
	--x heavy --where light=4 -o '|touch C_pipe;.png'
no_canary plot_output_named_like_a_pipe_runs_no_command
expect_status 0 plot_output_with_backquotes_exits_0 "$MEMSIM" plot cdf --db "$db" --sweep "$sid" \
	-o 'o`touch C_out`.svg'
no_canary plot_output_with_backquotes_runs_no_command

expect_status 0 report_of_evil_names_exits_0 "$MEMSIM" report --db "$db" --sweep "$sid" -o "$W/rep"
no_canary report_runs_no_command
if [ "$(grep -c '<img src=' "$W/rep/index.html")" -ge 5 ]; then ok report_draws_its_plots
else bad report_draws_its_plots "$(grep -o 'no plot: [^<]*' "$W/rep/index.html" | head -2)"; fi

# validate --plot without QEMU: --from a directory of harness outputs (one request)
mkdir -p "$W/from"
echo 'rmap hash+preemptible n=100' >"$W/scen.txt"
wu="wu.list_hop=10 wu.bucket_visit=5 wu.tree_node=0 wu.entry_move=0 wu.alloc=0 wu.free=100"
for u in p2m_entry page_put preempt_check page_scrub lock refcount pte_test shadow_zap \
	 shadow_build hypercall hint_page page_drop swap_io; do wu="$wu wu.$u=0"; done
cat >"$W/from/r001.txt" <<EOF
# memsim-hw 1 uapi=1
host kernel=6.1.0 machine=x86_64 cpu="test" pmu=none
event name=task-clock pfm=perf::PERF_COUNT_SW_TASK_CLOCK:u=1 type=1 config=0x1 status=ok
request model=sharing policy=hash+preemptible op=destroy n=100 status=0 basis=clock-based batches=1 est_bytes=1 peak_bytes=1 leaked_bytes=0 asserts=0 ioctl_ns=7
batch model=sharing policy=hash+preemptible op=destroy n=100 i=0 status=0 ns=1000 cycles=1000 ops=100 footprint=1000 live=1 cpu=0 irqs=0 $wu
EOF
expect_status 0 validate_plot_of_evil_profile_exits_0 "$MEMSIM" validate --profile evil.prof \
	--from "$W/from" --scenarios "$W/scen.txt" --no-work-check --plot "$W/v.svg"
no_canary validate_plot_runs_no_command
expect_grep validate_title_shows_the_profile_name 'evil`touch\$\{IFS\}C_prof`' "$W/v.svg"
# analysis/demo-plots.sh (make demo) on plain runs of a trace named with a quote and backquotes
trace2="q'uote\`touch C_demo\`.mst"
"$MEMSIM" trace gen one-frame --set n=100 -o "$W/$trace2" >/dev/null 2>&1
for pol in hash list; do
	"$MEMSIM" run --trace "$W/$trace2" --policy "$pol" --profile evil.prof --db "$db" >/dev/null 2>&1
done
expect_status 0 demo_plots_of_evil_names_exits_0 "$top/analysis/demo-plots.sh" "$MEMSIM" "$db" "$W/demo"
no_canary demo_plots_runs_no_command
if ls "$W/demo" | grep -q "^runs-rmap-.*uote.*-pareto.png$"; then ok demo_plots_quotes_names_in_its_queries
else bad demo_plots_quotes_names_in_its_queries "$(cat "$TMP/out")"; fi
unset MEMSIM_GNUPLOT

# ---- 2. writers never replace what is not theirs ------------------------------------------
N="$TMP/nodes"
mkdir -p "$N/dir.png" "$N/rep-dev"
mknod "$N/full.png" c 1 7
mknod "$N/rep-dev/index.html" c 1 7
mkfifo "$N/fifo.png"
ln -s full.png "$N/link-dev.png"
ln -s loop2.png "$N/loop1.png"
ln -s loop1.png "$N/loop2.png"
nodes_intact() {
	if [ -c "$N/full.png" ] && [ -p "$N/fifo.png" ] && [ -d "$N/dir.png" ] &&
	   [ -L "$N/link-dev.png" ] && [ -c "$N/rep-dev/index.html" ] && [ -p "$N/side.mst.counters" ] &&
	   [ -z "$(ls "$N" | grep '\.part-')" ]; then ok "$1"
	else bad "$1" "$(ls -l "$N")"; fi
}
refused() {	# NAME WHAT-IT-IS CMD...: exit 2, one line naming the path and its kind
	local name=$1 what=$2; shift 2
	expect_status 2 "${name}_is_refused" "$@"
	if grep -q "$what" "$TMP/err" && [ "$(wc -l <"$TMP/err")" = 1 ]; then ok "${name}_says_what_it_is"
	else bad "${name}_says_what_it_is" "$(cat "$TMP/err")"; fi
}
for t in full:'is a character device' fifo:'is a FIFO' dir:'is a directory' \
	 link-dev:'links to .*full.png, a character device' loop1:'more than 40 symbolic links'; do
	n=${t%%:*} what=${t#*:}
	refused "trace_gen_to_$n" "$N/$n.png: $what" "$MEMSIM" trace gen smoke -o "$N/$n.png"
	refused "plot_to_$n" "$N/$n.png: $what" "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$N/$n.png"
	refused "plot_data_to_$n" "$N/$n.png: $what" "$MEMSIM" plot cdf --db "$db" --sweep "$sid" \
		--data "$N/$n.png" -o "$W/ok.png"
	refused "db_merge_into_$n" "$N/$n.png: $what" "$MEMSIM" db merge "$N/$n.png" "$db"
	refused "calibrate_to_$n" "$N/$n.png: $what" "$MEMSIM" calibrate --from "$W/from" -o "$N/$n.png"
	refused "validate_plot_to_$n" "$N/$n.png: $what" "$MEMSIM" validate --profile evil.prof \
		--from "$W/from" --scenarios "$W/scen.txt" --no-work-check --plot "$N/$n.png"
done
refused trace_record_to_a_device "$N/full.png: is a character device" "$MEMSIM" trace record --convert "$W/from" -o "$N/full.png"
mkfifo "$N/side.mst.counters"
refused trace_record_to_a_fifo_sidecar "$N/side.mst.counters: is a FIFO" "$MEMSIM" trace record --convert "$W/from" -o "$N/side.mst"
refused report_page_on_a_device "index.html: is a character device" "$MEMSIM" report --db "$db" --sweep "$sid" -o "$N/rep-dev"
refused report_dir_on_a_device "full.png: not a directory" "$MEMSIM" report --db "$db" --sweep "$sid" -o "$N/full.png"
nodes_intact refused_targets_are_left_as_they_were

# symlinks are followed: the file they name is replaced, the link stays
S="$TMP/links"
mkdir -p "$S/sub"
echo old >"$S/sub/real.mst"
ln -s sub/real.mst "$S/to-real.mst"
ln -s sub/new.mst "$S/dangling.mst"
expect_status 0 trace_gen_through_a_symlink_exits_0 "$MEMSIM" trace gen smoke -o "$S/to-real.mst"
if [ -L "$S/to-real.mst" ] && "$MEMSIM" trace validate "$S/sub/real.mst" >/dev/null 2>&1; then
	ok trace_gen_replaces_the_file_a_symlink_names
else bad trace_gen_replaces_the_file_a_symlink_names "$(ls -l "$S" "$S/sub")"; fi
expect_status 0 trace_gen_through_a_dangling_symlink_exits_0 "$MEMSIM" trace gen smoke -o "$S/dangling.mst"
if [ -L "$S/dangling.mst" ] && "$MEMSIM" trace validate "$S/sub/new.mst" >/dev/null 2>&1; then
	ok trace_gen_creates_the_file_a_dangling_symlink_names
else bad trace_gen_creates_the_file_a_dangling_symlink_names "$(ls -l "$S" "$S/sub")"; fi
ln -s sub/pic.png "$S/pic.png"
expect_status 0 plot_through_a_symlink_exits_0 "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$S/pic.png"
if [ -L "$S/pic.png" ] && [ -s "$S/sub/pic.png" ] && [ -z "$(ls "$S" "$S/sub" | grep '\.part-')" ]; then
	ok plot_writes_the_file_a_symlink_names
else bad plot_writes_the_file_a_symlink_names "$(ls -l "$S" "$S/sub")"; fi

# ---- 12. a failed plot keeps the old picture, exits 1, cleans up ----------------------------
old="$W/old.png"
expect_status 0 a_first_plot_exits_0 "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$old"
cp "$old" "$TMP/old.copy"
kept() {	# NAME: the old picture is byte for byte what it was, nothing is left behind
	if cmp -s "$old" "$TMP/old.copy" && [ -z "$(ls -A "$TMPDIR")" ] &&
	   [ -z "$(ls "$W" | grep '\.part-')" ]; then ok "$1"
	else bad "$1" "old changed or left: $(ls -A "$TMPDIR") $(ls "$W" | grep '\.part-')"; fi
}
mkdir -p "$TMP/nobin"
expect_status 1 plot_without_gnuplot_fails_with_1 env PATH="$TMP/nobin" "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$old"
expect_grep plot_without_gnuplot_says_so 'cannot run gnuplot' "$TMP/err"
kept plot_without_gnuplot_keeps_the_old_picture
printf '#!/bin/sh\necho "stub: broken on purpose" >&2\nexit 3\n' >"$TMP/gp-fail"
printf '#!/bin/sh\nexit 0\n' >"$TMP/gp-silent"
chmod +x "$TMP/gp-fail" "$TMP/gp-silent"
expect_status 1 plot_with_failing_gnuplot_fails_with_1 env MEMSIM_GNUPLOT="$TMP/gp-fail" "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$old"
expect_grep plot_with_failing_gnuplot_gives_its_message 'gnuplot failed on .*cdf.gp: stub: broken on purpose' "$TMP/err"
kept plot_with_failing_gnuplot_keeps_the_old_picture
expect_status 1 plot_with_gnuplot_drawing_nothing_fails_with_1 env MEMSIM_GNUPLOT="$TMP/gp-silent" "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$old"
expect_grep plot_with_gnuplot_drawing_nothing_says_so 'no output' "$TMP/err"
kept plot_with_gnuplot_drawing_nothing_keeps_the_old_picture
expect_status 1 plot_into_a_missing_directory_fails_with_1 "$MEMSIM" plot cdf --db "$db" --sweep "$sid" -o "$TMP/none/x.png"
expect_grep plot_into_a_missing_directory_says_so "$TMP/none/x.png: cannot write: No such file or directory" "$TMP/err"
kept plot_into_a_missing_directory_leaves_nothing
expect_status 1 plot_of_empty_selection_fails_with_1 "$MEMSIM" plot cdf --db "$db" --sweep "$sid" --where heavy=5 -o "$old"
kept plot_of_empty_selection_keeps_the_old_picture
expect_status 1 validate_plot_with_failing_gnuplot_fails_with_1 env MEMSIM_GNUPLOT="$TMP/gp-fail" \
	"$MEMSIM" validate --profile evil.prof --from "$W/from" --scenarios "$W/scen.txt" --no-work-check --plot "$old"
expect_grep validate_plot_failure_gives_the_message 'stub: broken on purpose' "$TMP/err"
kept validate_plot_failure_keeps_the_old_picture

finish
