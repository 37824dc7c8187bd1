#!/usr/bin/env bash
# tests/cli/golden.sh — determinism across builds and machines: a few runs must give exactly
# the metrics and event digest recorded in tests/cli/golden/*.txt.  The normal build and the
# ASan+UBSan build both run this, so they agree with each other as well as with the record.
# After an intended change of a model or a profile, regenerate with:
#     MEMSIM=build/memsim MEMSIM_GOLDEN_UPDATE=1 bash tests/cli/golden.sh
. "$(dirname "$0")/lib.sh"
gold="$(dirname "$0")/golden"
top="$(cd "$(dirname "$0")/../.." && pwd)"

# name | memsim run arguments
cases=(
	"one-frame-hash|--scenario one-frame --set n=3000 --set writes=500 --model rmap --policy hash"
	"one-frame-list-monolithic|--scenario one-frame --set n=2000 --model relinquish --policy monolithic"
	"population-tree|--scenario population --set frames=2000 --set big_ppm=2000 --set big_min=2000 --set big_max=4000 --set writes=2000 --model rmap --policy tree --seed 7"
	"population-hash-grow-all|--scenario population --set frames=1000 --set domains=3 --set destroy=0 --model rmap --policy hash-grow"
	"sample-fork-tar-hash|--trace $top/traces/samples/fork-tar-2g-10s.mst --model rmap --policy hash"
	"fork-storm-marked|--scenario fork-storm --set region_gb=1 --set forks=4 --set pt_attempts=8 --model superpage --policy marked --seed 3"
	"destroy-create-deferred-percpu|--scenario destroy-create --set mem_mb=64 --set spare_mb=8 --set pcpus=8 --set batch=64 --set kick_pages=64 --model scrub --policy deferred-percpu --profile seed-2013-scrub --seed 5"
	"destroy-create-deferred-tasklet|--scenario destroy-create --set mem_mb=64 --set spare_mb=8 --set pcpus=8 --model scrub --policy deferred --profile seed-2013-scrub --seed 5"
	"churn-lazy-unused|--scenario churn --set guests=2 --set guest_mib=16 --set duration_ms=1000 --set period_ms=1000 --set life_ms=100 --set host_mem_pages=5000 --set lazy_pages=64 --model hinting --policy lazy-unused --seed 5"
	"page-cache-volatile-lazy|--scenario page-cache --set guests=2 --set guest_mib=16 --set data_mib=64 --set hot_mib=4 --set duration_ms=1000 --set tmp_kib=256 --set host_mem_pages=5000 --set lazy_pages=64 --model hinting --policy volatile-lazy --seed 5"
	"working-set-accessed|--scenario working-set --set switches=300 --set churn_pct=5 --model shadow --policy accessed --seed 2"
	"long-lived-fifo-invalid-roots|--scenario long-lived --set switches=300 --model shadow --policy fifo --seed 2"
)

canon() { # JSON on stdin -> metrics and event digest, one per line
	python3 -c '
import json, sys
r = json.load(sys.stdin)
for k, v in r["metrics"].items():
    print(k, repr(v))
print("event_digest", r["event_digest"])'
}

for c in "${cases[@]}"; do
	name=${c%%|*}; args=${c#*|}
	# shellcheck disable=SC2086
	if ! "$MEMSIM" run $args --json >"$TMP/$name.json" 2>"$TMP/err"; then
		bad "$name" "run failed: $(cat "$TMP/err")"; continue
	fi
	canon <"$TMP/$name.json" >"$TMP/$name.txt"
	if [ -n "${MEMSIM_GOLDEN_UPDATE:-}" ]; then
		cp "$TMP/$name.txt" "$gold/$name.txt"; ok "$name (updated)"; continue
	fi
	if diff -u "$gold/$name.txt" "$TMP/$name.txt" >"$TMP/diff"; then
		ok "golden_$name"
	else
		bad "golden_$name" "differs from $gold/$name.txt: $(head -c 600 "$TMP/diff")"
	fi
done
finish
