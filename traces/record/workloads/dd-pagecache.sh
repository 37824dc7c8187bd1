# dd-pagecache: write and read back tmpfs files (page cache): 4 MiB made of one seeded
# 16 KiB block repeated (page-aligned: duplicate pages within and across guests), and
# 2 MiB of zeros.
setup() {
	gen_text /tmp/text 17
	head -c 16384 /tmp/text >/tmp/block0
	cat /tmp/block0 /tmp/block0 /tmp/block0 /tmp/block0 >/tmp/block
	rm -f /tmp/block0 /tmp/text
}
step() {
	i=0
	while [ $i -lt 16 ]; do cat /tmp/block /tmp/block /tmp/block /tmp/block; i=$((i + 1)); done >/tmp/big
	dd if=/dev/zero of=/tmp/zero bs=64k count=32 2>/dev/null
	dd if=/tmp/big of=/dev/null bs=64k 2>/dev/null
	dd if=/tmp/zero of=/dev/null bs=64k 2>/dev/null
	rm -f /tmp/zero /tmp/big
}
