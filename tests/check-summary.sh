#!/usr/bin/env bash
# tests/check-summary.sh BUILD ASAN_BUILD — the closing line of `make check`: the sum of the
# normal pass, the ASan+UBSan pass and the kernel-module check in QEMU.
set -u
p=0 f=0
for d in "$@"; do
	if [ -f "$d/test-logs/summary" ]; then
		read -r a b <"$d/test-logs/summary"
		p=$((p + a)); f=$((f + b))
	fi
done
hw="$1/test-logs/hw-validate.log"
if [ -f "$hw" ]; then
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$hw" | tail -1)
	if [ -n "$line" ]; then
		p=$((p + $(echo "$line" | grep -oE '^[0-9]+'))); f=$((f + $(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+')))
	fi
fi
echo "check: unit+cli, under ASan+UBSan, and the kernel module in QEMU"
echo "$p passed, $f failed"
[ "$f" = 0 ]
