# forkstorm: a shell holding ~1 MiB of heap forks bursts of 16 short-lived children
# (page-table copies, copy-on-write faults, exits).
setup() { gen_text /tmp/big 256; big=$(cat /tmp/big); rm -f /tmp/big; }
step() {
	i=0
	while [ $i -lt 16 ]; do
		( x=${#big}; : "$x" ) &
		i=$((i + 1))
	done
	wait
}
