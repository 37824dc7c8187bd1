#!/bin/sh
# analysis/demo-plots.sh MEMSIM DB OUTDIR — the standard plots of a results database.
#
#   for every sweep: metric-vs-parameter lines (95 % confidence bands), a heatmap over its
#                    first two parameters, a memory-vs-latency Pareto front, and an HTML
#                    report (OUTDIR/sweep-ID/index.html)
#   for plain runs:  per model and trace, the trade-off between the policies as a Pareto plot
#                    (rmap: memory against destroy time; relinquish: destroy time against the
#                    longest non-preemptible stretch), and time series when runs have them
#
# Called by tests/demo.sh (make demo).  A plot that does not apply to the data (say, a heatmap
# of a one-parameter sweep) is skipped with a note; the script fails only if it drew nothing.
set -u
memsim=${1:?usage: demo-plots.sh MEMSIM DB OUTDIR}
db=${2:?usage: demo-plots.sh MEMSIM DB OUTDIR}
out=${3:?usage: demo-plots.sh MEMSIM DB OUTDIR}
MEMSIM_ANALYSIS=${MEMSIM_ANALYSIS:-$(cd "$(dirname "$0")" && pwd)}
export MEMSIM_ANALYSIS
mkdir -p "$out" || exit 1
drawn=0

plot() { # FILE KIND ARGS...: one plot, a note if it does not apply
	file=$1; shift
	if "$memsim" plot "$@" --db "$db" --quiet -o "$out/$file" 2>"$out/.err"; then
		echo "  $out/$file"
		drawn=$((drawn + 1))
	else
		echo "  (skipped $file: $(head -c 200 "$out/.err"))"
	fi
}
# a file name from free text (trace base names, scenario names)
slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_' | cut -c1-60; }
q() { sqlite3 -readonly "$db" "$1" 2>/dev/null; }
# text from the database inside an SQL string literal (a merged shard is untrusted input)
sqlq() { printf '%s' "$1" | sed "s/'/''/g"; }

for sweep in $(q "SELECT sweep_id FROM sweeps ORDER BY created"); do
	case $sweep in *[!0-9a-f]*) echo "  (skipped sweep id '$sweep': not hexadecimal)"; continue ;; esac
	n=$(q "SELECT count(*) FROM runs WHERE sweep_id = '$sweep'")
	[ "$n" -gt 0 ] || continue
	echo "sweep $sweep ($n runs)"
	ax2=$(q "SELECT count(*) FROM json_each((SELECT spec FROM sweeps WHERE sweep_id = '$sweep'), '\$.axes') WHERE json_extract(value, '\$.values') IS NOT NULL AND json_extract(value, '\$.name') <> 'policy'")
	plot "sweep-$sweep-line.png" line --sweep "$sweep"
	if [ "${ax2:-0}" -ge 2 ]; then
		plot "sweep-$sweep-heatmap.png" heatmap --sweep "$sweep"
	fi
	plot "sweep-$sweep-pareto.png" pareto --sweep "$sweep"
	if "$memsim" report --db "$db" --sweep "$sweep" -o "$out/sweep-$sweep" 2>"$out/.err"; then
		echo "  $out/sweep-$sweep/index.html"
		drawn=$((drawn + 1))
	else
		echo "  (no report: $(head -c 200 "$out/.err"))"
	fi
done

# plain runs (not in a sweep): compare the policies of each model on each trace
q "SELECT DISTINCT model || '|' || trace FROM runs WHERE sweep_id IS NULL ORDER BY 1" |
while IFS='|' read -r model trace; do
	qm=$(sqlq "$model") qt=$(sqlq "$trace")
	np=$(q "SELECT count(DISTINCT policy) FROM runs WHERE sweep_id IS NULL AND model = '$qm' AND trace = '$qt'")
	[ "$np" -ge 2 ] || continue
	case $model in
	rmap) x=rmap_bytes_peak y=destroy_ns ;;
	relinquish) x=destroy_ns y=longest_stretch_ns ;;
	*) x= y= ;;
	esac
	f="runs-$model-$(slug "$(basename "$trace")")"   # the trace by its base name, not its path
	wt="trace='$qt'"   # quoted for --where, its quotes doubled as for SQL
	if [ -n "$x" ]; then
		plot "$f-pareto.png" pareto --where model="$model" --where "$wt" --x "$x" --y "$y"
	else
		plot "$f-pareto.png" pareto --where model="$model" --where "$wt"
	fi
	if [ -n "$(q "SELECT 1 FROM series s JOIN runs r ON r.run_id = s.run_id WHERE r.model = '$qm' AND r.trace = '$qt' LIMIT 1")" ]; then
		plot "$f-series.png" series --where model="$model" --where "$wt"
	fi
done
drawn=$((drawn + $(ls "$out"/runs-*.png 2>/dev/null | wc -l)))
rm -f "$out/.err"
[ "$drawn" -gt 0 ] || { echo "demo-plots: nothing could be drawn from $db" >&2; exit 1; }
