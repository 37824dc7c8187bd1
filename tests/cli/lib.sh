# tests/cli/lib.sh — helpers for CLI end-to-end tests (sourced, not run).
# Each script calls `check NAME CMD...` / `expect_status N NAME CMD...` and ends with `finish`.
set -u
: "${MEMSIM:?run through tests/run-tests.sh}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# `memsim run` stores by default: each script's default database is its own temporary file
export MEMSIM_DB="$TMP/default.db"
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
# canon_db DB: its runs, metrics and parameters as CSV, without the columns that are not
# deterministic (wall_ns, created: fields 12 and 14 of the runs export, before the JSON config).
canon_db() {
	"$MEMSIM" db export --csv --db "$1" --what runs |
		sed -E 's/^(([^,]*,){11})[^,]*,([^,]*,)[^,]*,/\1\3/'
	"$MEMSIM" db export --csv --db "$1" --what metrics
	"$MEMSIM" db export --csv --db "$1" --what params
}
# same_file NAME FILE1 FILE2: passes when the two files are byte-identical
same_file() {
	if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$(diff "$2" "$3" | head -5)"; fi
}
# wait_for SECONDS CMD...: polls CMD until it succeeds; fails after SECONDS
wait_for() {
	local deadline=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
