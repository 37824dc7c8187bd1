#!/usr/bin/env bash
# tests/cli/slurm.sh — scale-out run for real, as docs/scale-out.md describes it:
#  - a single-node Slurm (munged, slurmctld and slurmd started here, on loopback, with their
#    configuration, state and sockets in the test's temporary directory) runs a sweep as a
#    job array of shards, and a dependent job merges them;
#  - GNU parallel runs the shards over ssh to localhost (an sshd on a free loopback port
#    with a host key and a user key made for the test), returns their databases, and they
#    are merged here.
# Both merged databases must equal the one-process sweep's.  Every daemon is stopped by its
# PID when the script ends, whatever happened.  Where the daemons cannot be started (not
# root, a package missing) the script says why and counts a skip, not a pass.
. "$(dirname "$0")/lib.sh"
SKIP=0
skip() { echo "skip $1: $2"; SKIP=$((SKIP + 1)); }
finish_skips() { echo "$PASS passed, $FAIL failed, $SKIP skipped"; [ "$FAIL" = 0 ]; }

DAEMONS=()
stop_daemons() {
	local pid
	for pid in "${DAEMONS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${DAEMONS[@]}"; do wait "$pid" 2>/dev/null; done
	DAEMONS=()
}
trap 'stop_daemons; rm -rf "$TMP"' EXIT
chmod 0755 "$TMP"   # munged refuses sockets below a directory others cannot search

if [ -n "${MEMSIM_SANITIZED-}" ]; then
	skip slurm_and_ssh "the daemons are exercised once, by the normal build's run"
	finish_skips
	exit
fi

# The grid: 3 policies x 3 (heavy, light) pairs x 2 reps = 18 points, about a second.
cat >"$TMP/grid.sweep" <<'SPEC'
# the rmap's list->hash threshold and its hysteresis, as in docs/scale-out.md
heavy = 32..128*2
light = heavy/4
SPEC
RUNOPTS=(--scenario one-frame --set n=1500 --set writes=300 --policy list,hash,tree --reps 2)
SHARDS=3

"$MEMSIM" sweep "${RUNOPTS[@]}" --file "$TMP/grid.sweep" --db "$TMP/ref.db" --quiet \
	>"$TMP/out" 2>"$TMP/err" || bad reference_sweep_runs "$(head -3 "$TMP/err")"
canon_db "$TMP/ref.db" >"$TMP/ref.csv"
if [ "$(sqlite3 "$TMP/ref.db" 'SELECT count(*) FROM runs')" = 18 ]; then ok reference_sweep_has_18_runs
else bad reference_sweep_has_18_runs "$(sqlite3 "$TMP/ref.db" 'SELECT count(*) FROM runs')"; fi

# A shell command line for a job: every word quoted for the shell that runs it.
quoted() { printf '%q ' "$@"; }

# ---- Slurm ---------------------------------------------------------------------------------
slurm_missing=""
for c in munged munge slurmctld slurmd sbatch sinfo; do
	command -v "$c" >/dev/null || slurm_missing="$slurm_missing $c"
done
if [ "$(id -u)" != 0 ]; then
	skip slurm_job_array "slurmd must run as root to start jobs; this is uid $(id -u)"
elif [ -n "$slurm_missing" ]; then
	skip slurm_job_array "not installed:$slurm_missing (make deps installs slurm-wlm and munge)"
else
	S=$TMP/slurm
	mkdir -p "$S/state" "$S/spool" "$S/work" "$S/munge"
	dd if=/dev/urandom of="$S/munge.key" bs=1024 count=1 2>/dev/null
	chmod 0600 "$S/munge.key"
	munged -F -f --socket="$S/munge/sock" --key-file="$S/munge.key" --pid-file="$S/munged.pid" \
		--seed-file="$S/munged.seed" --log-file="$S/munged.log" >"$S/munged.out" 2>&1 &
	DAEMONS+=($!)
	if wait_for 20 munge -S "$S/munge/sock" -n; then ok munged_answers
	else bad munged_answers "$(tail -3 "$S/munged.out")"; fi

	host=$(hostname -s)
	cat >"$S/slurm.conf" <<CONF
ClusterName=memsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=kill_invalid_depend
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=memsim Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
	export SLURM_CONF=$S/slurm.conf
	slurmctld -D -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
	DAEMONS+=($!)
	slurmd -D -f "$SLURM_CONF" >"$S/slurmd.out" 2>&1 &
	DAEMONS+=($!)
	node_idle() { [ "$(sinfo -h -o %T 2>/dev/null)" = idle ]; }
	if wait_for 60 node_idle; then
		ok slurm_node_comes_up_idle
		# One array task per shard, each with its own database, as docs/scale-out.md says.
		shard_cmd=$(quoted "$MEMSIM" sweep "${RUNOPTS[@]}" --file "$TMP/grid.sweep" --quiet)
		shard_cmd+='--shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --db "shard-$SLURM_ARRAY_TASK_ID.db"'
		jid=$(sbatch --parsable --array=1-$SHARDS --chdir="$S/work" --output="$S/work/shard-%a.log" \
			--wrap "$shard_cmd" 2>"$TMP/err")
		if [[ $jid =~ ^[0-9]+$ ]]; then ok slurm_accepts_the_job_array
		else bad slurm_accepts_the_job_array "sbatch said '$jid' $(head -3 "$TMP/err")"; fi
		merge_cmd=$(quoted "$MEMSIM" db merge merged.db)'shard-*.db'
		# --wait returns when the merge job ends, with its exit status; afterok: every shard
		# must have succeeded, and kill_invalid_depend ends the merge job if one did not.
		if timeout 300 sbatch --wait --parsable --dependency=afterok:"$jid" --chdir="$S/work" \
			--output="$S/work/merge.log" --wrap "$merge_cmd" >"$TMP/out" 2>"$TMP/err"; then
			ok slurm_merge_job_succeeds
		else
			bad slurm_merge_job_succeeds "$(cat "$TMP/err") $(tail -3 "$S"/work/*.log 2>/dev/null)"
		fi
		n=$(ls "$S"/work/shard-*.db 2>/dev/null | wc -l)
		if [ "$n" = "$SHARDS" ]; then ok slurm_array_wrote_one_database_per_shard
		else bad slurm_array_wrote_one_database_per_shard "$n databases"; fi
		canon_db "$S/work/merged.db" >"$TMP/slurm.csv" 2>/dev/null
		same_file slurm_merged_shards_equal_the_one_process_sweep "$TMP/ref.csv" "$TMP/slurm.csv"
	else
		bad slurm_node_comes_up_idle "sinfo: $(sinfo -h 2>&1 | head -2); $(tail -3 "$S/slurmctld.out" "$S/slurmd.out" "$S/slurmd.log" 2>/dev/null)"
	fi
	unset SLURM_CONF
	stop_daemons
fi

# ---- GNU parallel over ssh to localhost ------------------------------------------------------
ssh_missing=""
for c in parallel ssh ssh-keygen rsync; do command -v "$c" >/dev/null || ssh_missing="$ssh_missing $c"; done
[ -x /usr/sbin/sshd ] || ssh_missing="$ssh_missing sshd"
if [ -n "$ssh_missing" ]; then
	skip parallel_over_ssh "not installed:$ssh_missing (make deps installs openssh-server, openssh-client, parallel, rsync)"
elif [ ! -d /run/sshd ]; then
	skip parallel_over_ssh "sshd's privilege separation directory /run/sshd is missing (make deps makes it)"
else
	K=$TMP/ssh
	mkdir -p "$K" "$TMP/home" "$TMP/local"
	ssh-keygen -q -t ed25519 -N '' -f "$K/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$K/user_key"
	cp "$K/user_key.pub" "$K/authorized_keys"
	port=$(free_port)
	cat >"$K/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $K/host_key
PidFile $K/sshd.pid
AuthorizedKeysFile $K/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
	/usr/sbin/sshd -D -e -f "$K/sshd_config" >"$K/sshd.out" 2>&1 &
	DAEMONS+=($!)
	SSHCMD="ssh -i $K/user_key -p $port -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$K/known_hosts"
	if wait_for 30 $SSHCMD "$(id -un)@127.0.0.1" true; then
		ok sshd_accepts_the_test_key
		cp "$TMP/grid.sweep" "$TMP/local/grid.sweep"
		# As docs/scale-out.md: the spec file goes to the host once, each shard runs in a
		# scratch directory there and its database comes back; HOME keeps parallel's own
		# files in the temporary directory.
		(cd "$TMP/local" && HOME=$TMP/home parallel --will-cite --ssh "$SSHCMD" \
			-S "2/$(id -un)@127.0.0.1" --workdir "$TMP/remote" \
			--basefile "$TMP/local/grid.sweep" --return 'shard-{}.db' --cleanup \
			"$(quoted "$MEMSIM" sweep "${RUNOPTS[@]}" --file "$TMP/local/grid.sweep" --quiet)" \
			"--shard {}/$SHARDS --db shard-{}.db" ::: $(seq $SHARDS)) >"$TMP/out" 2>"$TMP/err"
		rc=$?
		if [ "$rc" = 0 ]; then ok parallel_runs_the_shards_over_ssh
		else bad parallel_runs_the_shards_over_ssh "exit $rc: $(head -5 "$TMP/err")"; fi
		n=$(ls "$TMP"/local/shard-*.db 2>/dev/null | wc -l)
		if [ "$n" = "$SHARDS" ]; then ok parallel_returns_one_database_per_shard
		else bad parallel_returns_one_database_per_shard "$n databases"; fi
		if "$MEMSIM" db merge "$TMP/local/merged.db" "$TMP"/local/shard-*.db >"$TMP/out" 2>"$TMP/err"; then
			ok merge_of_ssh_shards_succeeds
		else bad merge_of_ssh_shards_succeeds "$(head -3 "$TMP/err")"; fi
		canon_db "$TMP/local/merged.db" >"$TMP/ssh.csv" 2>/dev/null
		same_file ssh_merged_shards_equal_the_one_process_sweep "$TMP/ref.csv" "$TMP/ssh.csv"
		if [ -z "$(ls -A "$TMP/remote" 2>/dev/null)" ]; then ok parallel_cleans_up_the_remote_scratch
		else bad parallel_cleans_up_the_remote_scratch "$(ls "$TMP/remote")"; fi
	else
		bad sshd_accepts_the_test_key "$(tail -5 "$K/sshd.out")"
	fi
	stop_daemons
fi
finish_skips
