#!/bin/bash
# tests/cli/metrics.sh — `memsim metrics`: the metric catalogue cannot drift from what the
# drivers report, the tables in docs/models/*.md are the generated ones, and every stored run
# brings its model's definitions into the database (metric_defs).
. "$(dirname "$0")/lib.sh"
top="$(cd "$(dirname "$0")/../.." && pwd)"
db="$TMP/m.db"

# Representative runs: every model x policy on a small scenario of its seed, a second scenario
# where the model has one, and the parameters that turn optional metrics on.
rmap_scen="--scenario population --set frames=300 --set big_ppm=5000 --set big_min=300 --set big_max=600 --set writes=300 --set merges=50"
relinquish_scen="--scenario one-frame --set n=2000 --set writes=100"
scrub_scen="--scenario destroy-create --set mem_mb=16 --set spare_mb=4 --set pcpus=4 --set batch=64 --set kick_pages=64 --profile seed-2013-scrub"
superpage_scen="--scenario fork-storm --set region_gb=1 --set forks=2 --set pt_attempts=8"
shadow_scen="--scenario working-set --set switches=100 --set churn_pct=5"
hinting_scen="--scenario churn --set guests=2 --set guest_mib=8 --set duration_ms=300 --set period_ms=300 --set life_ms=100 --set host_mem_pages=2500 --set lazy_pages=64"
null_scen="--scenario smoke --set n=200"
runs=()
for model in rmap relinquish scrub superpage shadow hinting null; do
	scen_var="${model}_scen"
	# the model's policies, from run --help's listing
	policies=$("$MEMSIM" run --help | awk -v m="$model" '/^  [a-z]/ { f = ($1 == m); next }
		f && /^      [a-z]/ { print $1 }')
	for policy in $policies; do
		runs+=("$model|$policy|${!scen_var}")
	done
	# modelled allocation failures (alloc_fail_injected), on the first policy
	runs+=("$model|${policies%%[[:space:]]*}|${!scen_var} --set alloc_fail_ppm=2000")
done
runs+=("rmap|ksm-chain|--scenario one-frame --set n=3000 --set writes=500 --set alloc_fail_ppm=20000")
runs+=("relinquish|preemptible|--scenario population --set frames=200 --set big_ppm=0 --set destroy=0")
runs+=("scrub|sync|--scenario destroy --set mem_mb=16 --set spare_mb=4 --set pcpus=4 --profile seed-2013-scrub")
runs+=("superpage|marked|$superpage_scen --set lowmem_pct=10 --set mark_max_tc=1")
runs+=("superpage|marked|$superpage_scen --set exit=0")
runs+=("shadow|fifo|--scenario long-lived --set switches=100")
runs+=("shadow|clock|--scenario working-set --set switches=100 --set tdp=1")
runs+=("hinting|volatile|--scenario page-cache --set guests=2 --set guest_mib=8 --set data_mib=32 --set hot_mib=2 --set duration_ms=300 --set tmp_kib=256 --set host_mem_pages=2500 --set lazy_pages=64")
runs+=("hinting|volatile-lazy|--scenario page-cache --set guests=2 --set guest_mib=8 --set data_mib=32 --set hot_mib=2 --set duration_ms=300 --set tmp_kib=256 --set host_mem_pages=2500 --set lazy_pages=64 --set hint_mech=essa")

n=0 failed=0
for r in "${runs[@]}"; do
	IFS='|' read -r model policy args <<<"$r"
	# shellcheck disable=SC2086
	if ! "$MEMSIM" run --model "$model" --policy "$policy" $args --db "$db" >/dev/null 2>"$TMP/err"; then
		bad "run_${model}_$policy" "$args: $(head -c 300 "$TMP/err")"; failed=1
	fi
	n=$((n + 1))
done
[ "$failed" = 0 ] && ok "representative_runs_stored ($n runs)"
"$MEMSIM" metrics --json >"$TMP/defs.json"

# Every metric and series any run reported has an entry for its model; every entry that is
# not conditional was reported by every run of its model, a conditional one by at least one.
if python3 - "$db" "$TMP/defs.json" >"$TMP/drift" 2>&1 <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
defs = json.load(open(sys.argv[2]))
by_model = {}
for d in defs:
    by_model.setdefault(d["model"], []).append(d)
def match(d, name):
    n = d["name"]
    return name.startswith(n[:-1]) and len(name) > len(n) - 1 if n.endswith("*") else name == n
problems = []
seen = {}
runs = db.execute("SELECT run_id, model, policy FROM runs").fetchall()
for run_id, model, policy in runs:
    names = [(n, "scalar") for (n,) in db.execute("SELECT name FROM metrics WHERE run_id=?", (run_id,))]
    names += [(n, "series") for (n,) in db.execute("SELECT DISTINCT name FROM series WHERE run_id=?", (run_id,))]
    for name, kind in names:
        hit = [d for d in by_model.get(model, []) if d["kind"] == kind and match(d, name)]
        if not hit:
            problems.append("%s/%s reports %s %s, which has no entry in memsim metrics %s" % (model, policy, kind, name, model))
        for d in hit:
            seen.setdefault(model, set()).add((d["name"], d["kind"]))
for model, ds in by_model.items():
    if model not in [r[1] for r in runs]:
        problems.append("no representative run of model %s" % model)
        continue
    for d in ds:
        if (d["name"], d["kind"]) not in seen.get(model, set()):
            problems.append("%s: entry %s (%s) is never reported by any representative run" % (model, d["name"], d["kind"]))
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
then ok "catalogue_matches_reported_metrics"; else bad "catalogue_matches_reported_metrics" "$(head -c 3000 "$TMP/drift")"; fi

# Each model's doc carries the generated table, unchanged.
for model in rmap relinquish scrub superpage shadow hinting; do
	doc="$top/docs/models/$model.md"
	"$MEMSIM" metrics --markdown "$model" >"$TMP/want.md"
	sed -n '/^<!-- metrics-table:begin/,/^<!-- metrics-table:end -->/p' "$doc" >"$TMP/have.md"
	if [ -n "${MEMSIM_METRICS_UPDATE:-}" ]; then
		python3 - "$doc" "$TMP/want.md" <<'PY'
import re, sys
doc, want = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
pat = re.compile(r"<!-- metrics-table:begin.*?<!-- metrics-table:end -->\n", re.S)
if pat.search(s):
    s = pat.sub(lambda m: want, s)
else:
    s = s.rstrip("\n") + "\n\n## Metrics reference\n\n" + want
open(doc, "w").write(s)
PY
		ok "doc_table_$model (updated)"; continue
	fi
	same_file "doc_table_in_sync_$model (MEMSIM_METRICS_UPDATE=1 tests/run-tests.sh regenerates)" "$TMP/want.md" "$TMP/have.md"
done
finish
