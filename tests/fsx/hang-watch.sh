#!/bin/bash
# Diagnostic, not part of make check: run one long mfs-fsx seed on modalfs
# in the VM and, if mfs-fsx stays in D state for 40 s, dump every stack
# that mentions modalfs, the daemon log and dmesg, instead of letting the
# hung-task panic end the run first. Used to chase the hang in issue 3:
#   tests/vm/vm.sh --timeout 3000 -- env SEED=11 OPS=70000 bash tests/fsx/hang-watch.sh
. tests/lib.sh
. tests/posix/vmlib.sh
echo 0 > /proc/sys/kernel/hung_task_timeout_secs
MNT=$TEST_TMP/mnt
mfs_up vmtest-fsx "$MNT" || exit 1
mkdir -p "$MNT/fsx"
"$MFS_FSX" -q -S ${SEED:-11} -N ${OPS:-70000} "$MNT/fsx/file" > $TEST_TMP/fsx.log 2>&1 &
pid=$!
stuck=0; t0=$(date +%s)
while kill -0 $pid 2>/dev/null; do
	sleep 5
	w=$(cat /sys/fs/modalfs/volumes/*/waiting 2>/dev/null | head -1)
	st=$(awk '/^State/{print $2}' /proc/$pid/status 2>/dev/null)
	if [ "$st" = D ]; then stuck=$((stuck+1)); else stuck=0; fi
	if [ $(( ($(date +%s)-t0) % 60 )) -lt 5 ]; then echo "t=$(( $(date +%s)-t0 ))s waiting=$w state=$st"; fi
	if [ $stuck -ge 8 ]; then
		echo "=== STUCK: waiting=$w fsx state=$st"
		echo "daemon: $(pgrep -a modalfsd)"
		echo "--- fsx stack"; cat /proc/$pid/stack
		for p in /proc/[0-9]*; do
			s=$(awk '/^State/{print $2}' $p/status 2>/dev/null)
			if [ "$s" = D ] || grep -q modalfs $p/stack 2>/dev/null; then echo "--- $(cat $p/comm) ${p#/proc/} $s"; cat $p/stack; fi
		done
		echo "--- daemon log"; tail -50 "$MODALFSD_LOG"
		echo "--- dmesg"; dmesg | tail -30
		echo "--- fsx log"; tail -20 $TEST_TMP/fsx.log
		kill -9 $pid; exit 1
	fi
done
wait $pid; rc=$?
tail -3 $TEST_TMP/fsx.log
echo "fsx exit $rc after $(( $(date +%s)-t0 ))s"
exit $rc
