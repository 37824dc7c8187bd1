# tests/cli/data.sh — data one line away: db export --wide (typed columns, CSV and JSON),
# --json on db ls / db show / db export, and the pandas lines of docs/sweeps.md.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
db="$TMP/d.db"

expect_status 0 data_sweep_runs "$MEMSIM" sweep --db "$db" --quiet --scenario one-frame \
	--set n=1500 --set writes=300 --set light=8 --policy list,hash --reps 2 heavy=16,128
expect_status 0 wide_csv_exits_0 "$MEMSIM" db export --wide --csv --db "$db"
cp "$TMP/out" "$TMP/wide.csv"
# 2 policies x 2 heavy x 2 reps = 8 runs, plus the header
n=$(wc -l <"$TMP/wide.csv")
if [ "$n" = 9 ]; then ok wide_csv_one_row_per_run; else bad wide_csv_one_row_per_run "$n lines"; fi
expect_grep wide_csv_header_has_params_and_metrics '^run_id,sweep_id,model,policy,trace,seed,heavy,.*,destroy_ns' "$TMP/wide.csv"
# heavy is a bare number in its column (16 and 128, never quoted)
col=$(head -1 "$TMP/wide.csv" | tr ',' '\n' | grep -nx heavy | cut -d: -f1)
vals=$(tail -n +2 "$TMP/wide.csv" | cut -d, -f"$col" | sort -n | uniq | tr '\n' ' ')
if [ "$vals" = "16 128 " ]; then ok wide_csv_heavy_is_numeric; else bad wide_csv_heavy_is_numeric "$vals"; fi

expect_status 0 wide_json_exits_0 "$MEMSIM" db export --wide --json --db "$db" --sweep last
cp "$TMP/out" "$TMP/wide.json"
# numbers are JSON numbers, text is text; sorted numerically 16 < 128
if python3 - "$TMP/wide.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 8, len(rows)
assert all(isinstance(r["heavy"], int) for r in rows)
assert all(isinstance(r["destroy_ns"], (int, float)) for r in rows)
assert all(isinstance(r["relinquish"], str) for r in rows)
assert sorted({r["heavy"] for r in rows}) == [16, 128]
PY
then ok wide_json_is_typed; else bad wide_json_is_typed "see above"; fi

expect_status 2 wide_needs_a_format "$MEMSIM" db export --wide --db "$db"
expect_grep wide_needs_a_format_says_so '--csv or --json' "$TMP/err"
expect_status 2 wide_takes_no_what "$MEMSIM" db export --wide --csv --what metrics --db "$db"
expect_status 2 wide_unknown_sweep_exits_2 "$MEMSIM" db export --wide --csv --sweep ffffffffffff --db "$db"

expect_status 0 ls_json_exits_0 "$MEMSIM" db ls --json --db "$db"
cp "$TMP/out" "$TMP/ls.json"
expect_status 0 show_json_exits_0 "$MEMSIM" db show last --json --db "$db"
cp "$TMP/out" "$TMP/show.json"
expect_status 0 export_json_exits_0 "$MEMSIM" db export --json --what params --db "$db"
cp "$TMP/out" "$TMP/params.json"
if python3 - "$TMP/ls.json" "$TMP/show.json" "$TMP/params.json" <<'PY'
import json, sys
ls = json.load(open(sys.argv[1])); show = json.load(open(sys.argv[2]))
params = json.load(open(sys.argv[3]))
assert len(ls) == 8 and all(isinstance(r["seed"], int) and r["metrics"] > 10 for r in ls)
assert show["run_id"] in {r["run_id"] for r in ls}
assert show["config"]["model"] == "rmap"
assert isinstance(show["metrics"]["destroy_ns"], (int, float))
assert isinstance(show["params"]["heavy"], int)
assert any(p["key"] == "heavy" and p["value"] in (16, 128) for p in params)
PY
then ok json_outputs_parse_and_agree; else bad json_outputs_parse_and_agree "see above"; fi

# trace info --json: the same counts as the text form
expect_status 0 trace_gen_for_info "$MEMSIM" trace gen one-frame --set n=200 --set writes=50 -o "$TMP/t.mst"
expect_status 0 trace_info_json_exits_0 "$MEMSIM" trace info "$TMP/t.mst" --json
cp "$TMP/out" "$TMP/info.json"
"$MEMSIM" trace info "$TMP/t.mst" >"$TMP/info.txt"
if python3 - "$TMP/info.json" "$TMP/info.txt" <<'PY'
import json, sys, re
j = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read()
assert re.search(r"^records\s+%d\b" % j["records"], t, re.M), j["records"]
assert re.search(r"^digest\s+%s$" % j["digest"], t, re.M)
assert sum(j["records_by_type"].values()) == j["records"]
for k, v in j["records_by_type"].items():
    assert re.search(r"^\s+%s\s+%d$" % (k, v), t, re.M), k
PY
then ok trace_info_json_agrees_with_text; else bad trace_info_json_agrees_with_text "see above"; fi

# the three pandas lines of docs/sweeps.md, as written there
# (Debian's python3-pandas is for /usr/bin/python3, which a pyenv python3 may shadow)
py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import pandas' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
	sed -n '/^```python$/,/^```$/p' "$top/docs/sweeps.md" | sed '1d;$d' | grep -v '^#' >"$TMP/load.py"
	lines=$(grep -c . "$TMP/load.py")
	if [ "$lines" = 3 ]; then ok docs_pandas_snippet_is_three_lines; else bad docs_pandas_snippet_is_three_lines "$lines lines"; fi
	cat >>"$TMP/load.py" <<'PY'
assert len(df) == 8, len(df)
assert str(df["heavy"].dtype).startswith("int"), df["heavy"].dtype
assert sorted(df["heavy"].unique()) == [16, 128]
assert df["destroy_ns"].dtype.kind in "if"
PY
	if (cd "$TMP" && MEMSIM_DB="$db" PATH="$(dirname "$MEMSIM"):$PATH" "$py" load.py); then
		ok docs_pandas_lines_load_a_typed_frame
	else
		bad docs_pandas_lines_load_a_typed_frame "see above"
	fi
else
	echo "skip docs_pandas_lines_load_a_typed_frame: python3-pandas is not installed"
fi
finish
