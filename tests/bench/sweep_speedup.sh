#!/usr/bin/env bash
# tests/bench/sweep_speedup.sh [MEMSIM] [JOBS] — throughput of `memsim sweep --jobs JOBS`
# against `--jobs 1` on the same sweep, and proof that both store identical results.
#
# The sweep: the rmap model on a scaled-down "regular case" population (1000 shared frames,
# 1000 copy-on-write breaks), policies hash, tree, hash-grow x heavy 16..512 x light 4..256
# with light < heavy (81 configurations) x 3 repetitions = 243 runs.
#
# Each configuration is timed BENCH_REPS times (default 2), alternating 1 and JOBS workers
# (so a burst of load from elsewhere hits both), each time into a fresh database; the best
# time of each is reported.  The machine's load average is printed with the figures: on a
# shared machine the ratio is only meaningful when the load is low.
#
# Output: one summary line per measurement, then
#   sweep speed-up: jobs 1 T1 s (R1 runs/s), jobs N TN s (RN runs/s): ratio X.XX; identical: yes
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
memsim=${1:-$top/build/memsim}
jobs=${2:-2}
reps=${BENCH_REPS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$memsim" ]; then
	echo "sweep_speedup: $memsim is missing (make first)" >&2
	exit 1
fi
spec=(--model rmap --scenario population --set frames=1000 --set writes=1000
      --policy hash,tree,hash-grow heavy=16..512*2 light=4..256*2 --if 'light < heavy'
      --reps 3 --quiet)

# canonical results: runs (without wall time and creation date) and metrics, by run id
canon() {
	"$memsim" db export --csv --db "$1" --what runs |
		sed -E 's/^(([^,]*,){11})[^,]*,([^,]*,)[^,]*,/\1\3/'
	"$memsim" db export --csv --db "$1" --what metrics
}

now() { date +%s.%N; }

npoints=$("$memsim" sweep --db "$tmp/none.db" "${spec[@]}" --dry-run | grep -c '^point ')
echo "sweep_speedup: $npoints runs per sweep; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"

best1= bestn=
for r in $(seq "$reps"); do
	for j in 1 "$jobs"; do
		db="$tmp/j$j-$r.db"
		t0=$(now)
		"$memsim" sweep --db "$db" "${spec[@]}" --jobs "$j" 2>"$tmp/err" || {
			echo "sweep_speedup: the sweep failed: $(cat "$tmp/err")" >&2
			exit 1
		}
		t=$(echo "$(now) - $t0" | bc -l)
		printf '  rep %s jobs %-3s %7.2f s  (load %s)\n' "$r" "$j" "$t" "$(cut -d' ' -f1 /proc/loadavg)"
		if [ "$j" = 1 ]; then
			if [ -z "$best1" ] || [ "$(echo "$t < $best1" | bc -l)" = 1 ]; then best1=$t; fi
		else
			if [ -z "$bestn" ] || [ "$(echo "$t < $bestn" | bc -l)" = 1 ]; then bestn=$t; fi
		fi
	done
done

canon "$tmp/j1-1.db" >"$tmp/a.csv"
canon "$tmp/j$jobs-1.db" >"$tmp/b.csv"
same=no
cmp -s "$tmp/a.csv" "$tmp/b.csv" && same=yes
n=$(sqlite3 "$tmp/j1-1.db" 'SELECT count(*) FROM runs')
printf 'sweep speed-up: jobs 1 %.2f s (%.1f runs/s), jobs %s %.2f s (%.1f runs/s): ratio %.2f; identical: %s (%s runs)\n' \
	"$best1" "$(echo "$n / $best1" | bc -l)" "$jobs" "$bestn" "$(echo "$n / $bestn" | bc -l)" \
	"$(echo "$best1 / $bestn" | bc -l)" "$same" "$n"
[ "$same" = yes ]
