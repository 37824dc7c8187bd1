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
for doc in "$top"/docs/models/*.md; do
	model=$(basename "$doc" .md)
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
	same_file "doc_table_in_sync_$model (MEMSIM_METRICS_UPDATE=1 MEMSIM=build/memsim tests/cli/metrics.sh regenerates)" "$TMP/want.md" "$TMP/have.md"
done
# The command itself.
expect_status 0 metrics_text "$MEMSIM" metrics scrub
expect_grep metrics_text_defines_dom0_wait '^  dom0_wait_ns +ns +sum over all delayed dom0' "$TMP/out"
expect_grep metrics_text_common_first '^  sim_time_ns ' "$TMP/out"
expect_status 0 metrics_all "$MEMSIM" metrics
[ "$(grep -c '^[a-z]*: ' "$TMP/out")" = 7 ] && ok metrics_all_lists_every_model ||
	bad metrics_all_lists_every_model "$(grep '^[a-z]*: ' "$TMP/out")"
expect_status 2 metrics_unknown_model "$MEMSIM" metrics nosuch
expect_grep metrics_unknown_model_names_known 'nosuch: unknown model; known: rmap' "$TMP/err"
expect_status 2 metrics_markdown_needs_model "$MEMSIM" metrics --markdown
expect_status 2 metrics_bad_option "$MEMSIM" metrics --bogus
expect_status 0 metrics_help "$MEMSIM" metrics --help
expect_grep metrics_help_has_example 'memsim metrics scrub' "$TMP/out"

# The database describes its metrics: one row per catalogue entry of each model it has runs
# of, and a join gives each stored value its unit.
if python3 - "$db" "$TMP/defs.json" >"$TMP/dbdefs" 2>&1 <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
want = {}
for d in json.load(open(sys.argv[2])):
    want.setdefault(d["model"], set()).add((d["name"], d["kind"], d["unit"], d["doc"], d["when"]))
bad = []
for (model,) in db.execute("SELECT DISTINCT model FROM runs"):
    have = set(db.execute("SELECT name, kind, unit, doc, reported_when FROM metric_defs WHERE model=?", (model,)))
    if have != want[model]:
        bad.append("%s: stored %d definitions, catalogue has %d" % (model, len(have), len(want[model])))
# every stored metric value has its unit
missing = db.execute("""SELECT r.model, m.name FROM metrics m JOIN runs r USING (run_id)
    WHERE NOT EXISTS (SELECT 1 FROM metric_defs d WHERE d.model = r.model AND d.kind = 'scalar'
                      AND m.name GLOB d.name)""").fetchall()
if missing:
    bad.append("values without a definition: %r" % missing[:5])
u = db.execute("""SELECT d.unit FROM metrics m JOIN runs r USING (run_id)
    JOIN metric_defs d ON d.model = r.model AND d.kind = 'scalar' AND m.name GLOB d.name
    WHERE r.model = 'scrub' AND m.name = 'dom0_wait_ns' LIMIT 1""").fetchone()
if not u or u[0] != "ns":
    bad.append("dom0_wait_ns of scrub has unit %r" % (u,))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
then ok db_metric_defs_match_catalogue; else bad db_metric_defs_match_catalogue "$(head -c 1500 "$TMP/dbdefs")"; fi

# A database from before metric_defs (emulated: the table and its digests removed) is still
# read as before, and its next run adds the definitions.
old="$TMP/old.db"
"$MEMSIM" run --scenario one-frame --set n=100 --db "$old" >/dev/null 2>&1
sqlite3 "$old" "DROP TABLE metric_defs; DELETE FROM meta WHERE key LIKE 'metric_defs_digest:%'"
expect_status 0 old_db_ls "$MEMSIM" db ls --db "$old"
expect_status 0 old_db_show "$MEMSIM" db show --db "$old" last
expect_grep old_db_show_has_metrics 'dom0_wait_ns' "$TMP/out"
expect_status 0 old_db_export "$MEMSIM" db export --csv --db "$old" --what metrics
"$MEMSIM" run --scenario one-frame --set n=200 --model relinquish --db "$old" >/dev/null 2>&1
[ "$(sqlite3 "$old" "SELECT count(DISTINCT model) FROM metric_defs")" = 1 ] &&
	ok old_db_gets_defs_with_next_run || bad old_db_gets_defs_with_next_run "$(sqlite3 "$old" .tables)"
# a run of a model whose definitions are stored (same digest) writes none; a stale digest
# (an earlier memsim's definitions) has them written again
sqlite3 "$old" "UPDATE metric_defs SET doc = 'canary' WHERE name = 'destroy_ns'"
"$MEMSIM" run --scenario one-frame --set n=300 --model relinquish --db "$old" >/dev/null 2>&1
[ "$(sqlite3 "$old" "SELECT doc FROM metric_defs WHERE name = 'destroy_ns'")" = canary ] &&
	ok defs_not_rewritten_when_current || bad defs_not_rewritten_when_current "rewritten"
sqlite3 "$old" "UPDATE meta SET value = 'stale' WHERE key = 'metric_defs_digest:relinquish'"
"$MEMSIM" run --scenario one-frame --set n=400 --model relinquish --db "$old" >/dev/null 2>&1
[ "$(sqlite3 "$old" "SELECT doc FROM metric_defs WHERE name = 'destroy_ns'")" != canary ] &&
	[ "$(sqlite3 "$old" "SELECT count(*) FROM runs")" = 4 ] &&
	ok defs_rewritten_when_stale || bad defs_rewritten_when_stale "$(sqlite3 "$old" "SELECT doc FROM metric_defs WHERE name = 'destroy_ns'")"

# merge brings the definitions along; a source without them merges as before
"$MEMSIM" db merge "$TMP/merged.db" "$db" >/dev/null 2>"$TMP/err" &&
	[ "$(sqlite3 "$TMP/merged.db" "SELECT count(*) FROM metric_defs")" = "$(sqlite3 "$db" "SELECT count(*) FROM metric_defs")" ] &&
	ok merge_copies_metric_defs || bad merge_copies_metric_defs "$(cat "$TMP/err")"
sqlite3 "$old" "DROP TABLE metric_defs"
expect_status 0 merge_source_without_defs "$MEMSIM" db merge "$TMP/merged.db" "$old"
finish
