#!/bin/bash
# PID 1 of the test VM after switch_root (copied to /run/vmhost/runner.sh),
# or, with vm.sh --systemd, the unit modalfs-vm-run.service under systemd.
# Runs the command vm.sh was given, writes its exit status to the host-shared
# run directory, then cleans up and powers the VM off.
X=/run/vmhost
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
export MODALFS_IN_VM=1
export MODALFS_TEST_OUT=$X/out
# shellcheck disable=SC1091
. "$X/cmd.env"	# MODALFS_REPO and VM_ARGS (the command)
export MODALFS_REPO
export PATH="$PATH:$MODALFS_REPO/userd:$MODALFS_REPO/tools:$MODALFS_REPO/tests/tools"
if mountpoint -q /var/lib/modalfs; then
	export MODALFS_STATE_DISK=/var/lib/modalfs
fi
hostname modalfs-vm 2>/dev/null
ip link set lo up 2>/dev/null

# On a kmemleak kernel, what boot itself leaked is not the tests': scan
# once and forget it, so a later scan reports only what came after.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

summary="${VM_ARGS[*]}"
summary=${summary%%$'\n'*}
[ ${#summary} -le 160 ] || summary="${summary:0:160}..."
echo "vm: running: $summary"
echo "=== vm: command start ==="
# PID 1 must never exit: the kernel would panic instead of reporting.
if ! cd "$MODALFS_REPO"; then
	echo "vm: the repository $MODALFS_REPO is not visible in the guest"
	rc=125
elif [ "${#VM_ARGS[@]}" -eq 1 ]; then
	sh -c "${VM_ARGS[0]}" </dev/null
	rc=$?
else
	"${VM_ARGS[@]}" </dev/null
	rc=$?
fi
echo "=== vm: command exit status $rc ==="

# The status goes to the host first, so a hang in the clean-up below is
# still reported with the command's own result (vm.sh then times out).
echo "$rc" > "$X/status"
sync

cd /
# Under systemd its own shutdown stops the services and unmounts, in
# order; a shutdown that hangs is vm.sh's timeout.
if [ $$ -ne 1 ] && [ -d /run/systemd/system ]; then
	echo done > "$X/cleanup"
	sync
	systemctl --no-block poweroff
	exit 0
fi

# Unmount modalfs while its daemon may still answer, then stop whatever
# the command left behind so the state disk unmounts cleanly.
for m in $(awk '$3 == "modalfs" {print $2}' /proc/mounts | sort -r); do
	echo "vm: unmounting leftover modalfs mount $m"
	umount "$m" 2>/dev/null || umount -l "$m"
done
kill -TERM -1 2>/dev/null && sleep 1
kill -KILL -1 2>/dev/null && sleep 0.3
sync
if mountpoint -q /var/lib/modalfs; then
	umount /var/lib/modalfs 2>/dev/null || mount -o remount,ro /var/lib/modalfs
fi
echo done > "$X/cleanup"
sync
busybox poweroff -f
echo o > /proc/sysrq-trigger
sleep 10
