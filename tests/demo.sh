#!/usr/bin/env bash
# tests/demo.sh MEMSIM OUTDIR — the `make demo` job: replay the bundled scenarios and sample
# traces through every model and policy, store every run in OUTDIR/memsim.db, draw the plots
# into OUTDIR/plots/.  Re-running is cheap: runs already stored are recognised by their id.
set -euo pipefail
memsim=$1
out=${2:-demo}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
db="$out/memsim.db"
say() { printf '\n== %s\n' "$*"; }

run() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["metrics"]
def s(ns): return f"{ns/1e9:.3f} s"
print(f"destroy {s(m.get('destroy_ns',0)):>12}  longest stretch {s(m.get('longest_stretch_ns',0)):>12}"
      f"  softlockups {int(m.get('softlockups',0))}  dom0 vCPU lockups {int(m.get('dom0_softlockups',0))}"
      f"  rmap peak {int(m.get('rmap_bytes_peak',0))/1024:.0f} KiB")
PY
}

say "seed 000: 100k gfns on one shared frame, destroyed (profile seed-2012)"
for p in list hash tree hash-grow ksm-chain; do
	run "rmap $p" --scenario one-frame --set n=100000 --model rmap --policy "$p" --profile seed-2012
done

say "seed 000: relinquish policies with the list rmap (the freeze-up, and how preemption bounds it)"
for p in monolithic preemptible preemptible-seed weighted; do
	run "relinquish $p" --scenario one-frame --set n=100000 --model relinquish --policy "$p" --profile seed-2012
done
# patch 1 alone still locks up the dom0 vCPU that issued the destroy, unless privcmd is
# preemptible (later Linux)
run "relinquish preemptible, privcmd_preempt=1" --scenario one-frame --set n=100000 \
	--model relinquish --policy preemptible --set privcmd_preempt=1 --profile seed-2012

say "seed 000: a scaled-down 'regular case' population (20k frames), destroy of domain 1"
for p in list hash tree hash-grow ksm-chain; do
	run "rmap $p" --scenario population --set frames=20000 --set writes=20000 --model rmap --policy "$p" --profile seed-2012
done

say "seed 002: a 64 GiB superpage region mapped into the child on each of 16 forks (seed-2012)"
run_sp() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print(f"per fork {m['fork_map_ns']/1e6:9.1f} ms  per map {int(m['map_mean_ns']):>6} ns"
      f"  count updates {int(m['refcount_ops']):>11}  violations {int(m['invariant_violations'])}")
PY
}
for b in 1 4; do
	for p in per-page marked; do
		run_sp "superpage $p, hypercall_batch=$b" --scenario fork-storm --model superpage \
			--policy "$p" --set hypercall_batch=$b --profile seed-2012
	done
done
# the seed's open problem: lowmem pages keep a writable type count, so marks are refused
run_sp "superpage marked, lowmem_pct=25" --scenario fork-storm --model superpage \
	--policy marked --set lowmem_pct=25 --profile seed-2012

say "seed 001: a 30 GiB guest destroyed while a new one is built (profile seed-2013-scrub)"
run_scrub() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
def s(ns): return f"{ns/1e9:.2f} s"
print(f"destroy {s(m['destroy_ns']):>8}  clean {s(m.get('clean_ns', 0)):>8}  new domain {s(m.get('create_ns', 0)):>8}"
      f"  lock wait {s(m['lock_wait_ns']):>7}  guest steal {s(m['guest_steal_ns']):>7}")
PY
}
for p in sync deferred deferred-percpu idle on-alloc; do
	run_scrub "scrub $p, 56 of 60 pCPUs run guests" --scenario destroy-create --model scrub \
		--policy "$p" --set guest_pcpus=56 --set toolstack_ns=2826600us --profile seed-2013-scrub
done

say "a sweep: heavy x light hysteresis of the hash rmap on a small population (3 reps)"
"$memsim" sweep --db "$db" --model rmap --scenario population --set frames=1000 --set writes=1000 \
	--policy hash,hash-grow heavy=16..512*2 light=4..256*2 --if 'light < heavy' --reps 3 --jobs 2

say "seed 004: guest page hinting, 4 guests x 256 MiB taking turns, host 640 MiB (churn)"
run_hint() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print(f"hint calls {int(m['hint_calls']):>8}  coverage {m['coverage']:.3f}  dropped {int(m['pages_dropped']):>6}"
      f"  swap I/O {int(m['swap_ios']):>6}  hint {m['hint_ns']/1e6:7.1f} ms  swap {m['swap_ns']/1e6:7.1f} ms")
PY
}
for p in none per-page batched lazy-unused; do
	run_hint "hinting $p" --scenario churn --model hinting --policy "$p"
done
if [ -f "$top/traces/samples/fork-tar-2g-10s.mst" ]; then
	for p in per-page batched lazy-unused; do
		run_hint "fork-tar hinting $p (scaled lists)" \
			--trace "$top/traces/samples/fork-tar-2g-10s.mst" --model hinting --policy "$p" \
			--set host_mem_pages=512 --set hint_batch=4 --set pcp_high=8 --set lazy_pages=16
	done
fi
say "seed 004: volatile page-cache pages, 4 guests reading files, host 640 MiB (page-cache)"
run_vol() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print(f"hint calls {int(m['hint_calls']):>8}  discarded {int(m['pages_discarded']):>7}"
      f"  discard faults {int(m['discard_faults']):>5}  stable lost {int(m['stable_pages_lost'])}"
      f"  swap I/O {int(m['swap_ios']):>6}  hint {m['hint_ns']/1e6:7.1f} ms")
PY
}
for p in none volatile volatile-lazy; do
	run_vol "page-cache $p" --scenario page-cache --model hinting --policy "$p"
done

say "seed 003: shadow-page reclaim, 24 processes x 10 page tables over a 64-page pool (working-set)"
run_shadow() { # label, memsim run args...
	local label=$1; shift
	printf '  %-44s ' "$label"
	"$memsim" run --db "$db" --json "$@" >"$out/last.json"
	python3 - "$out/last.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
print(f"zaps {int(m['zaps']):>6}  rebuilds {int(m['rebuilds']):>6}  shadow faults {int(m['shadow_faults']):>6}"
      f"  roots zapped {int(m['roots_zapped']):>3}  scanned/victim {m['pages_scanned_per_reclaim_mean']:.2f}")
PY
}
for p in fifo fifo-skip-roots clock accessed; do
	run_shadow "shadow $p" --scenario working-set --model shadow --policy "$p"
done
for p in fifo fifo-skip-roots clock; do
	run_shadow "long-lived shadow $p" --scenario long-lived --model shadow --policy "$p"
done
if [ -f "$top/traces/samples/fork-tar-2g-10s.mst" ]; then
	for p in fifo clock accessed; do
		run_shadow "fork-tar shadow $p (limit 24)" --trace "$top/traces/samples/fork-tar-2g-10s.mst" \
			--model shadow --policy "$p" --set limit=24 --set refill=9
	done
fi

shopt -s nullglob
samples=("$top"/traces/samples/*.mst)
if [ ${#samples[@]} -gt 0 ]; then
	say "recorded sample traces"
	for t in "${samples[@]}"; do
		for p in list hash tree hash-grow; do
			run "$(basename "$t") rmap $p" --trace "$t" --model rmap --policy "$p"
		done
		for p in monolithic preemptible; do
			run "$(basename "$t") relinquish $p" --trace "$t" --model relinquish --policy "$p" --set rmap=hash
		done
	done
fi
rm -f "$out/last.json"

say "stored runs"
"$memsim" db ls --db "$db" | tail -n 20

if [ -x "$top/analysis/demo-plots.sh" ]; then
	say "plots"
	"$top/analysis/demo-plots.sh" "$memsim" "$db" "$out/plots"
	"$memsim" report --db "$db" --sweep last -o "$out/report"
	echo "  report: $out/report/index.html"
fi
echo
echo "demo: results in $db${top:+, plots in $out/plots}"
