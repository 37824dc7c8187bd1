# fork-tar: archive, compress, decompress and unpack a seeded file tree, round after round.
# Many short processes (tar, gzip, rm), page-cache churn on tmpfs, anonymous memory in gzip.
setup() { gen_tree /tmp/src 64; }
step() {
	tar cf - -C /tmp src | gzip -1 >/tmp/a.tgz
	mkdir -p /tmp/x
	gzip -dc /tmp/a.tgz | tar xf - -C /tmp/x
	rm -rf /tmp/x /tmp/a.tgz
}
