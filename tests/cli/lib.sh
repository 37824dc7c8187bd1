# tests/cli/lib.sh — helpers for CLI end-to-end tests (sourced, not run).
# Each script calls `check NAME CMD...` / `expect_status N NAME CMD...` and ends with `finish`.
set -u
: "${MEMSIM:?run through tests/run-tests.sh}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PASS=0 FAIL=0
ok()   { echo "ok $1"; PASS=$((PASS + 1)); }
bad()  { echo "FAIL $1: $2"; FAIL=$((FAIL + 1)); }
# expect_status STATUS NAME CMD... : runs CMD, stderr to $TMP/err, stdout to $TMP/out
expect_status() {
	local want=$1 name=$2; shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "$rc" = "$want" ]; then ok "$name"; else bad "$name" "exit $rc, wanted $want; stderr: $(head -c 400 "$TMP/err")"; fi
}
# expect_grep NAME PATTERN FILE
expect_grep() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else bad "$1" "no /$2/ in $3: $(head -c 400 "$3")"; fi
}
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" = 0 ]; }
