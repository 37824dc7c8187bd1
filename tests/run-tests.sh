#!/usr/bin/env bash
# tests/run-tests.sh BUILD_DIR — runs every unit-test binary in BUILD_DIR/tests and every
# CLI test script in tests/cli/, sums their "N passed, N failed" lines and prints the total
# as the last line.  Exits non-zero if anything failed or a program died without a summary.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export MEMSIM="$top/$build/memsim"
export MEMSIM_TOP="$top"
export MEMSIM_BUILD="$top/$build"
total_pass=0 total_fail=0
# `memsim run` stores by default (./memsim.db): the suite's default database is a temporary
# file, so no test writes into the tree; a test that wants another sets MEMSIM_DB itself
suite_tmp=$(mktemp -d)
trap 'rm -rf "$suite_tmp"' EXIT
export MEMSIM_DB="$suite_tmp/memsim.db"
stray_before=$(find "$top" -name memsim.db -not -path "$top/$build/*" 2>/dev/null | sort)
logdir="$top/$build/test-logs"
mkdir -p "$logdir"

run_one() { # name, command...
	local name=$1; shift
	local log="$logdir/$name.log"
	"$@" >"$log" 2>&1
	local rc=$?
	local line
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $name: exited $rc without a summary line (log: $log)"
		tail -20 "$log" | sed 's/^/    /'
		total_fail=$((total_fail + 1))
		return
	fi
	local p f
	p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
	f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$f" != 0 ]; then
		echo "FAIL $name: $line"
		grep -E '^FAIL' "$log" | sed 's/^/    /'
	else
		echo "ok   $name: $line"
	fi
}

for t in "$top/$build"/tests/test_*; do
	[ -x "$t" ] || continue
	run_one "$(basename "$t")" "$t"
done
for s in "$top"/tests/cli/*.sh; do
	[ -f "$s" ] || continue
	[ "$(basename "$s")" = lib.sh ] && continue   # sourced helpers, not a test
	run_one "cli-$(basename "$s" .sh)" bash "$s"
done
# no test may leave a results database in the tree (a run without --db stores in ./memsim.db)
stray_after=$(find "$top" -name memsim.db -not -path "$top/$build/*" 2>/dev/null | sort)
if [ "$stray_after" != "$stray_before" ]; then
	echo "FAIL no-stray-db: a test left a memsim.db in the tree:"
	comm -13 <(echo "$stray_before") <(echo "$stray_after") | sed 's/^/    /'
	total_fail=$((total_fail + 1))
else
	echo "ok   no-stray-db: no test left a memsim.db in the tree"
	total_pass=$((total_pass + 1))
fi
echo "$total_pass $total_fail" >"$logdir/summary"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
