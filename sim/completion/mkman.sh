#!/usr/bin/env bash
# sim/completion/mkman.sh MEMSIM OUTDIR VERSION — man pages from the --help texts.
#
# memsim(1) comes from `memsim --help`, memsim-CMD(1) from `memsim CMD --help`, through
# Debian's help2man, so the pages say exactly what the program says and are never written
# twice.  help2man runs a program with --help; for a sub-command that program is a
# two-line wrapper made in a temporary directory.
set -euo pipefail
memsim=$(realpath "$1") out=$2 version=$3
command -v help2man >/dev/null || { echo "mkman: help2man is not installed (make deps)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One "NAME DESCRIPTION" line per command, read from memsim's own usage text.
"$memsim" --help | sed -n 's/^  \([a-z][a-z]*\)  *\(.*\)$/\1\t\2/p' | while IFS=$'\t' read -r cmd desc; do
	[ "$cmd" = version ] && continue
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$memsim" "$cmd" >"$tmp/memsim-$cmd"
	chmod +x "$tmp/memsim-$cmd"
	help2man --no-info --no-discard-stderr --version-string="$version" \
		--name="$desc" --section=1 --source="memsim $version" \
		--output="$out/memsim-$cmd.1" "$tmp/memsim-$cmd"
done
help2man --no-info --version-string="$version" --section=1 --source="memsim $version" \
	--name="deterministic simulator of hypervisor memory-management policies" \
	--output="$out/memsim.1" "$memsim"
echo "mkman: $(ls "$out" | wc -l) man pages in $out"
