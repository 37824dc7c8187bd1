#!/usr/bin/env bash
# tests/cli/readme.sh — the newcomer's path: the commands of README.md's "A first run" run as
# written (build/memsim standing for the binary under test, in a scratch directory) and say
# what the README says they say.
. "$(dirname "$0")/lib.sh"

if [ -n "${MEMSIM_SANITIZED-}" ]; then   # three 100k-gfn destroys: minutes under ASan
	echo "skip readme_first_run: run once, by the normal build"
	finish
	exit
fi
awk '/^## A first run/ { f = 1 } f && /^```sh/ { g = 1; next } g && /^```/ { exit } g' \
	"$MEMSIM_TOP/README.md" | grep '^build/memsim ' >"$TMP/cmds"
if [ "$(wc -l <"$TMP/cmds")" = 3 ]; then ok readme_first_run_has_three_runs
else bad readme_first_run_has_three_runs "$(wc -l <"$TMP/cmds") commands: $(cat "$TMP/cmds")"; fi

i=0
while read -r line; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	(cd "$TMP" && MEMSIM_NO_PROGRESS=1 "$MEMSIM" ${line#build/memsim }) >"$TMP/run$i" 2>"$TMP/err$i"
	rc=$?
	if [ "$rc" = 0 ]; then ok "readme_run_${i}_exits_0"
	else bad "readme_run_${i}_exits_0" "exit $rc: $(head -3 "$TMP/err$i")"; fi
done <"$TMP/cmds"

metric() { awk -v m="$2" '$1 == m { print $2 }' "$TMP/run$1"; }
# "The first reports a destroy of over 7 minutes, the second under 2 seconds"
if [ "$(metric 1 destroy_ns)" -gt 420000000000 ] 2>/dev/null; then ok list_destroy_is_over_7_minutes
else bad list_destroy_is_over_7_minutes "destroy_ns $(metric 1 destroy_ns)"; fi
if [ "$(metric 2 destroy_ns)" -lt 2000000000 ] 2>/dev/null; then ok hash_destroy_is_under_2_seconds
else bad hash_destroy_is_under_2_seconds "destroy_ns $(metric 2 destroy_ns)"; fi
# "the non-preemptible stretches shrink to 4.3 s, yet dom0_softlockups is 1"
s=$(metric 3 longest_stretch_ns)
if [ "$s" -gt 4250000000 ] 2>/dev/null && [ "$s" -lt 4350000000 ]; then ok preemptible_stretches_are_4_3_s
else bad preemptible_stretches_are_4_3_s "longest_stretch_ns $s"; fi
if [ "$(metric 3 dom0_softlockups)" = 1 ]; then ok preemptible_list_still_locks_up_dom0
else bad preemptible_list_still_locks_up_dom0 "dom0_softlockups $(metric 3 dom0_softlockups)"; fi
finish
