# dd-pagecache: write and read back large tmpfs files (page cache): a seeded 64 KiB block
# repeated (duplicate pages within and across guests) and zeros.
setup() {
	gen_text /tmp/block0 16
	cat /tmp/block0 /tmp/block0 /tmp/block0 /tmp/block0 >/tmp/block
	rm -f /tmp/block0
}
step() {
	i=0
	while [ $i -lt 64 ]; do cat /tmp/block /tmp/block /tmp/block /tmp/block; i=$((i + 1)); done >/tmp/big
	dd if=/dev/zero of=/tmp/zero bs=64k count=128 2>/dev/null
	dd if=/tmp/big of=/dev/null bs=64k 2>/dev/null
	dd if=/tmp/zero of=/dev/null bs=64k 2>/dev/null
	rm -f /tmp/zero /tmp/big
}
