#!/bin/sh
# kmod/mirror.sh TOP DEST — lays out DEST for an out-of-tree Kbuild: DEST/Kbuild,
# DEST/kmod/* and DEST/models/*.[ch] as symlinks to the tree's own files.  Kbuild wants
# sources under the module directory and writes objects beside them; symlinks keep the
# tree clean and guarantee the module compiles the very files the simulator does.
# Symlinks of files that left the tree are removed; existing ones are left alone, so
# Kbuild's dependency tracking (by target mtime) keeps incremental builds incremental.
set -eu
top=$1 dest=$2
mkdir -p "$dest/kmod" "$dest/models"
ln -sfn "$top/hw-validate/kmod/Kbuild" "$dest/Kbuild"
sync_dir() { # SRC_DIR DEST_DIR PATTERN...
	src=$1 dst=$2; shift 2
	for l in "$dst"/*; do
		[ -L "$l" ] || continue
		[ -e "$src/$(basename "$l")" ] || rm -f "$l"
	done
	for pat in "$@"; do
		for f in "$src"/$pat; do
			[ -e "$f" ] || continue
			[ "$(readlink "$dst/$(basename "$f")" 2>/dev/null)" = "$f" ] ||
				ln -sfn "$f" "$dst/$(basename "$f")"
		done
	done
}
sync_dir "$top/models" "$dest/models" '*.c' '*.h'
sync_dir "$top/hw-validate/kmod" "$dest/kmod" '*.c' '*.h'
# objects of sources that left the tree would otherwise linger and confuse nobody but us
for o in "$dest"/models/*.o "$dest"/kmod/*.o; do
	[ -e "$o" ] || continue
	c=${o%.o}.c
	[ -e "$c" ] || rm -f "$o"
done
