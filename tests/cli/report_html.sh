#!/usr/bin/env bash
# tests/cli/report_html.sh — the report's HTML as a browser and a validator see it: valid
# (HTML Tidy finds no error or warning), every text from the database escaped (a trace named
# with markup), and no external resource (every src and href is a file in the report's own
# directory).
. "$(dirname "$0")/lib.sh"

if ! command -v tidy >/dev/null; then
	bad tidy_is_installed "HTML Tidy is missing (make deps installs tidy)"
	finish
	exit
fi

# Two reports: a sweep whose metrics vary (so the page has its pictures), and one over a
# trace whose file name is markup (a file name cannot hold a '/', hence the backslash).
expect_status 0 sweep_with_pictures_runs "$MEMSIM" sweep --db "$TMP/a.db" --scenario one-frame \
	--set n=1500 --policy list,hash --reps 2 heavy=32..64*2 light=heavy/4 --quiet
expect_status 0 report_with_pictures_is_written "$MEMSIM" report --db "$TMP/a.db" --sweep last -o "$TMP/a"
trace="$TMP/<script>alert(1)<\\script>&x'\".mst"
"$MEMSIM" trace gen smoke -o "$trace" >/dev/null 2>"$TMP/err" || bad trace_with_markup_in_its_name "$(cat "$TMP/err")"
expect_status 0 sweep_over_trace_with_markup_in_its_name "$MEMSIM" sweep --db "$TMP/b.db" \
	--trace "$trace" --model rmap --policy list,hash --reps 2 heavy=32..64*2 light=heavy/4 --quiet
expect_status 0 report_of_markup_trace_is_written "$MEMSIM" report --db "$TMP/b.db" --sweep last -o "$TMP/b"

for r in a b; do
	page=$TMP/$r/index.html
	if [ ! -s "$page" ]; then bad "report_${r}_page_exists" "no $page"; continue; fi
	tidy -q -e "$page" >"$TMP/tidy" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then ok "report_${r}_is_valid_html"
	else bad "report_${r}_is_valid_html" "tidy exit $rc: $(head -5 "$TMP/tidy")"; fi
	grep -oE '(src|href)="[^"]*"' "$page" | sed -E 's/^[a-z]+="(.*)"$/\1/' | sort -u >"$TMP/refs"
	external=$(grep -vE '^[A-Za-z0-9_.-]+$' "$TMP/refs" | head -3)
	if [ -z "$external" ]; then ok "report_${r}_has_no_external_resources"
	else bad "report_${r}_has_no_external_resources" "$external"; fi
	missing=""
	while read -r f; do [ -f "$TMP/$r/$f" ] || missing="$missing $f"; done <"$TMP/refs"
	if [ -z "$missing" ]; then ok "report_${r}_files_referenced_are_in_the_report"
	else bad "report_${r}_files_referenced_are_in_the_report" "missing:$missing"; fi
	if grep -qiE '@import|url\(|https?:' "$page"; then
		bad "report_${r}_loads_nothing_from_elsewhere" "$(grep -oiE '@import[^;]*|url\([^)]*\)|https?:[^" ]*' "$page" | head -3)"
	else ok "report_${r}_loads_nothing_from_elsewhere"; fi
done

if [ "$(grep -cE '<img src="[A-Za-z0-9_.-]+\.(png|svg)"' "$TMP/a/index.html")" -ge 1 ]; then
	ok report_shows_its_pictures
else bad report_shows_its_pictures "no <img> in $TMP/a/index.html"; fi
if grep -q '<script' "$TMP/b/index.html"; then bad markup_from_the_database_is_escaped "a <script> tag is in the page"
else ok markup_from_the_database_is_escaped; fi
expect_grep escaped_name_is_shown '&lt;script&gt;alert\(1\)&lt;.{1,2}script&gt;&amp;x' "$TMP/b/index.html"
finish
