# qemu/plans/smoke.sh — a first look: module info, one request per model, the garbage test.
memsim-hw --info > info.txt
memsim-hw -n 64 -k 3 selftest none null > null.txt
memsim-hw -n 1000 -k 2 selftest none list-walk > list-walk.txt
memsim-hw -n 1000 -k 2 rmap list destroy > rmap-list-destroy.txt
memsim-hw -n 1000 -k 2 rmap hash destroy > rmap-hash-destroy.txt
memsim-hw --garbage --rounds 200 > garbage.txt
