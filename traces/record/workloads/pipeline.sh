# pipeline: a multi-process shell pipeline over a seeded text tree (pipes, sort buffers).
setup() { gen_tree /tmp/src 8; }
step() {
	cat /tmp/src/*.txt | tr ' ' '\n' | gzip -1 | gzip -dc | sort | uniq -c | sort -rn | head -20 | wc -l >/dev/null
}
