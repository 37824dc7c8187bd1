#!/usr/bin/env bash
# tests/bench/replay.sh MEMSIM [RECORDS] — trace replay throughput, end to end.
#
# Side by side in one run, on one generated trace (the `smoke` scenario: page alloc/write/free
# over 3 domains, ~7.6 bytes a record):
#   decode  `memsim trace validate FILE`      read + CRC + decode + validate every record
#   replay  `memsim run --trace FILE --model null`   the same, plus the engine (merge with the
#           event queue, digest of every record, dispatch to a no-op model)
# Figures are records per CPU second (user+sys), median of 3; the ratio replay/decode is what
# the engine adds.  Prints a Markdown table.
set -euo pipefail
memsim=${1:?usage: replay.sh MEMSIM [RECORDS]}
n=${2:-20000000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$memsim" trace gen smoke --set n="$n" --set pages=65536 --seed 1 -o "$dir/t.mst" >/dev/null
records=$("$memsim" trace info "$dir/t.mst" | awk '/^records/ {print $2; exit}')
[ -n "$records" ] || records=$n
bytes=$(stat -c %s "$dir/t.mst")

cpu() { # command... -> CPU seconds
	/usr/bin/time -f '%U %S' -o "$dir/time" "$@" >/dev/null 2>&1
	awk '{print $1 + $2}' "$dir/time"
}
median() { sort -g | sed -n 2p; }

cat "$dir/t.mst" >/dev/null   # warm the page cache
dec=$(for i in 1 2 3; do cpu "$memsim" trace validate "$dir/t.mst"; done | median)
rep=$(for i in 1 2 3; do cpu "$memsim" run --no-db --trace "$dir/t.mst" --model null; done | median)
python3 - "$records" "$bytes" "$dec" "$rep" <<'PY'
import sys
n, b, dec, rep = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"trace: {n} records, {b / n:.1f} bytes/record")
print("| path | CPU s | M records/s | vs decode |")
print("| --- | ---: | ---: | ---: |")
print(f"| decode (`memsim trace validate`) | {dec:.2f} | {n / dec / 1e6:.1f} | 1.00x |")
print(f"| replay (`memsim run --model null`) | {rep:.2f} | {n / rep / 1e6:.1f} | {dec / rep:.2f}x |")
PY
