#!/bin/bash
# Diagnostic, not part of make check: run long mfs-fsx seeds on modalfs in
# the VM (one process per seed, each on its own file) and, if one of them
# makes no system call for STALL seconds, dump what explains it: the
# request table (debugfs modalfs/requests), every stack that mentions
# modalfs, the daemon's threads, the daemon log and dmesg, instead of
# letting the hung-task panic end the run first. Used to chase the hang
# in issue 3:
#   tests/vm/vm.sh --timeout 3000 -- env SEEDS="11 12" OPS=70000 bash tests/fsx/hang-watch.sh
. tests/lib.sh
. tests/posix/vmlib.sh
echo 0 > /proc/sys/kernel/hung_task_timeout_secs
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
MNT=$TEST_TMP/mnt
STALL=${STALL:-90}
mfs_up vmtest-fsx "$MNT" || exit 1
mkdir -p "$MNT/fsx"
pids=()
for seed in ${SEEDS:-11}; do
	"$MFS_FSX" -q -S "$seed" -N "${OPS:-70000}" "$MNT/fsx/file$seed" \
		> "$TEST_TMP/fsx$seed.log" 2>&1 &
	pids+=($!)
done

syscalls() {
	awk '/^sysc[rw]:/{n+=$2} END{print n+0}' "/proc/$1/io" 2>/dev/null
}

dump() {
	echo "=== STUCK: pid $1 made no system call for ${STALL}s"
	echo "--- debugfs modalfs/requests"
	cat /sys/kernel/debug/modalfs/requests
	for p in /proc/[0-9]*; do
		s=$(awk '/^State/{print $2}' "$p/status" 2>/dev/null)
		if [ "$s" = D ] || grep -q modalfs "$p/stack" 2>/dev/null; then
			echo "--- $(cat "$p/comm") ${p#/proc/} $s"
			cat "$p/stack"
		fi
	done
	local d
	d=$(pgrep -x modalfsd | head -1)
	echo "--- daemon $d threads"
	for t in /proc/$d/task/*; do
		echo "- task ${t##*/} $(awk '/^State/{print $2}' "$t/status") wchan=$(cat "$t/wchan")"
		cat "$t/stack"
	done
	echo "--- daemon log"; tail -50 "$MODALFSD_LOG"
	echo "--- dmesg"; dmesg | tail -40
	for seed in ${SEEDS:-11}; do
		echo "--- fsx $seed log"; tail -5 "$TEST_TMP/fsx$seed.log"
	done
}

declare -A last since
t0=$(date +%s)
for p in "${pids[@]}"; do last[$p]=-1; since[$p]=$t0; done
alive=1
while [ $alive = 1 ]; do
	sleep 5
	alive=0
	now=$(date +%s)
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		alive=1
		n=$(syscalls "$p")
		if [ "$n" != "${last[$p]}" ]; then
			last[$p]=$n; since[$p]=$now
		elif [ $((now - since[$p])) -ge "$STALL" ]; then
			dump "$p"
			kill -9 "${pids[@]}"
			exit 1
		fi
	done
	if [ $(( (now - t0) % 120 )) -lt 5 ]; then
		echo "t=$((now - t0))s in flight: $(($(wc -l < /sys/kernel/debug/modalfs/requests) - 2))"
	fi
done
rc=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || rc=1
done
for seed in ${SEEDS:-11}; do tail -2 "$TEST_TMP/fsx$seed.log"; done
echo "fsx exit $rc after $(( $(date +%s) - t0 ))s"
exit $rc
