# tests/cli/compare.sh — memsim compare: two runs, two sweeps matched point by point, --json,
# and its usage errors.
. "$(dirname "$0")/lib.sh"
db="$TMP/c.db"
common="--db $db --quiet --scenario one-frame --set n=1500 --set writes=300 --set light=8"

# baseline: 2 reps over heavy=16,128; new: batch changed, 3 reps, one more heavy value
expect_status 0 compare_baseline_sweep $MEMSIM sweep $common --policy list,hash --reps 2 heavy=16,128
expect_status 0 compare_new_sweep $MEMSIM sweep $common --set batch=64 --policy list,hash --reps 3 heavy=16,128,256
"$MEMSIM" db ls --json --db "$db" >"$TMP/ls.json"
set -- $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r[0]["run_id"], r[1]["run_id"], r[0]["sweep_id"], r[-1]["sweep_id"])' "$TMP/ls.json")
run_a=$1 run_b=$2 sw_a=$3 sw_b=$4

expect_status 0 compare_help_exits_0 "$MEMSIM" compare --help
expect_grep compare_help_has_example 'memsim compare --sweeps' "$TMP/out"

# two runs: the delta is new - baseline, checked against db show's values
expect_status 0 compare_runs_exits_0 "$MEMSIM" compare --db "$db" "$run_a" "$run_b" --metric destroy_ns --json
cp "$TMP/out" "$TMP/runs.json"
"$MEMSIM" db show --json --db "$db" "$run_a" >"$TMP/a.json"
"$MEMSIM" db show --json --db "$db" "$run_b" >"$TMP/b.json"
if python3 - "$TMP/runs.json" "$TMP/a.json" "$TMP/b.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2])); b = json.load(open(sys.argv[3]))
m = c["metrics"]
assert [x["metric"] for x in m] == ["destroy_ns"], m
x = m[0]
assert x["baseline"] == a["metrics"]["destroy_ns"] and x["new"] == b["metrics"]["destroy_ns"]
assert x["delta"] == x["new"] - x["baseline"]
assert abs(x["delta_pct"] - 100.0 * x["delta"] / abs(x["baseline"])) < 1e-9
PY
then ok compare_runs_delta_is_new_minus_baseline; else bad compare_runs_delta_is_new_minus_baseline "see above"; fi
expect_status 0 compare_runs_table "$MEMSIM" compare --db "$db" "$run_a" "$run_b"
expect_grep compare_runs_table_has_header 'metric +baseline +new +delta +delta %' "$TMP/out"
expect_grep compare_runs_table_has_destroy_ns '^destroy_ns ' "$TMP/out"

# two sweeps: matched on policy and heavy (batch is constant in each), means of reps
expect_status 0 compare_sweeps_exits_0 "$MEMSIM" compare --db "$db" "$sw_a" "$sw_b" --metric destroy_ns --json
cp "$TMP/out" "$TMP/sweeps.json"
"$MEMSIM" db export --wide --json --db "$db" >"$TMP/all.json"
if python3 - "$TMP/sweeps.json" "$TMP/all.json" "$sw_a" "$sw_b" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); runs = json.load(open(sys.argv[2])); a, b = sys.argv[3:5]
assert c["matched_on"] == ["policy", "heavy"], c["matched_on"]
assert len(c["points"]) == 4, len(c["points"])
assert sorted(c["only_new"]) == ["policy=hash heavy=256", "policy=list heavy=256"], c["only_new"]
assert c["only_baseline"] == []
def mean(sw, pol, heavy):
    v = [r["destroy_ns"] for r in runs if r["sweep_id"] == sw and r["policy"] == pol and r["heavy"] == heavy]
    return sum(v) / len(v), len(v)
for p in c["points"]:
    pol, heavy = p["point"].split()
    pol = pol.split("=")[1]; heavy = int(heavy.split("=")[1])
    (ma, na), (mb, nb) = mean(a, pol, heavy), mean(b, pol, heavy)
    assert (p["baseline_runs"], p["new_runs"]) == (na, nb) == (2, 3)
    m = p["metrics"][0]
    assert abs(m["baseline"] - ma) < 1e-6 and abs(m["new"] - mb) < 1e-6, (m, ma, mb)
PY
then ok compare_sweeps_match_points_and_average_reps; else bad compare_sweeps_match_points_and_average_reps "see above"; fi
expect_status 0 compare_sweeps_table "$MEMSIM" compare --db "$db" --sweeps "$sw_a" last
expect_grep compare_sweeps_names_only_new 'only in new: policy=hash heavy=256' "$TMP/out"

expect_status 2 compare_needs_two_ids "$MEMSIM" compare --db "$db" "$run_a"
expect_status 2 compare_unknown_id "$MEMSIM" compare --db "$db" ffff0000 "$run_a"
expect_grep compare_unknown_id_says_neither 'neither a run nor a sweep' "$TMP/err"
expect_status 2 compare_mixed_kinds "$MEMSIM" compare --db "$db" "$run_a" "$sw_a"
expect_status 2 compare_runs_and_sweeps_exclude "$MEMSIM" compare --db "$db" --runs --sweeps "$run_a" "$run_b"
expect_status 2 compare_missing_db "$MEMSIM" compare --db "$TMP/none.db" "$run_a" "$run_b"
finish
