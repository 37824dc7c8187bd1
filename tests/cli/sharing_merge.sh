#!/usr/bin/env bash
# tests/cli/sharing_merge.sh — the sharing driver issues the seed's merge of two shared frames
# (a TR_SHARE of a gfn whose frame backs other gfns too, into another frame): the population
# scenario's `merges` parameter produces them, the run counts them and their work.
. "$(dirname "$0")/lib.sh"

metric() { # FILE NAME -> value
	python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["metrics"][sys.argv[2]]))' "$1" "$2"
}

args=(--scenario population --set frames=2000 --set writes=200 --model rmap --seed 4)
for pol in list hash tree hash-grow ksm-chain; do
	expect_status 0 "merge_run_$pol" "$MEMSIM" run "${args[@]}" --set merges=300 --policy "$pol" --json
	cp "$TMP/out" "$TMP/$pol.json"
done
m=$(metric "$TMP/list.json" merges); t=$(metric "$TMP/list.json" merged_tuples)
ns=$(metric "$TMP/list.json" merge_ns); err=$(metric "$TMP/list.json" model_errors)
if [ "$m" -gt 100 ] && [ "$t" -gt "$m" ] && [ "$ns" -gt 0 ] && [ "$err" = 0 ]; then
	ok merges_are_issued_and_timed
else
	bad merges_are_issued_and_timed "merges=$m merged_tuples=$t merge_ns=$ns model_errors=$err"
fi
# The same trace under every rmap: the same merges, the same tuples moved, the same frames
# left (the rmap changes the cost, not the outcome).
same=1
for pol in hash tree hash-grow ksm-chain; do
	for k in merges merged_tuples shares destroys; do
		[ "$(metric "$TMP/$pol.json" $k)" = "$(metric "$TMP/list.json" $k)" ] || same=0
	done
done
[ $same = 1 ] && ok merge_outcome_is_the_same_under_every_rmap || bad merge_outcome_is_the_same_under_every_rmap "metrics differ"
# merges=0 is the scenario as before: no merge
expect_status 0 merge_none "$MEMSIM" run "${args[@]}" --policy list --json
[ "$(metric "$TMP/out" merges)" = 0 ] && ok no_merges_by_default || bad no_merges_by_default "merges != 0"
# determinism
expect_status 0 merge_again "$MEMSIM" run "${args[@]}" --set merges=300 --policy list --json
if python3 - "$TMP/list.json" "$TMP/out" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a["metrics"] == b["metrics"] and a["event_digest"] == b["event_digest"] else 1)
PY
then ok merge_runs_are_deterministic; else bad merge_runs_are_deterministic "metrics differ"; fi
finish
