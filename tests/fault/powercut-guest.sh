#!/bin/bash
# Guest half of tests/fault/powercut.sh (one boot = one round):
#   tests/fault/powercut-guest.sh ROUND LOGDIR [last]
# Checks the store as the previous power cut left it (modalfsd --check,
# offline), starts the daemon, mounts the volume and verifies that every
# operation acknowledged in the logs of rounds 1..ROUND-1 (LOGDIR/logK.img,
# written by earlier boots to their log disk) is present and byte-exact.
# Then, unless "last", it runs the workload on the volume, logging to the
# raw log disk /dev/vdb with O_SYNC, until the host kills QEMU.
. "$(dirname "$0")/../lib.sh"
TEST_NAME=powercut

ROUND=$1
LOGDIR=$2
LAST=${3:-}
VOL=vmtest-powercut
MNT=$TEST_TMP/mnt
WORKLOAD=$MODALFS_REPO/tests/fault/workload.py

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && { umount "$MNT" || umount -l "$MNT"; }
	stop_daemon
}
TEST_CLEANUP=cleanup

prev=$((ROUND - 1))
HAVE_CHECK=
"$MODALFSD" --help 2>&1 | grep -q -- '--check' && HAVE_CHECK=1
# The checks below, when all goes well; a round that is not the last
# never reaches finish (the power is cut), and reaching it is one failure.
n=4	# insmod, registers, mount, kernel log
[ $prev -ge 1 ] && n=$((n + 1 + ${HAVE_CHECK:-0}))
[ $prev -eq 0 ] && n=$((n + 1))
if [ -n "$LAST" ]; then n=$((n + 5)); else n=$((n + 1)); fi
plan $n
# Dirty pages go to the disk within tens of milliseconds, in no particular
# order: a store that relies on writes it never synced meets the disk's
# volatile cache (tests/fault/cutdisk.py) before the cut.
sysctl -q vm.dirty_writeback_centisecs=5 vm.dirty_expire_centisecs=1
# FAULT_POWERCUT_PLANT (powercut.sh): the daemon with a planted fault.
[ -n "${FAULT_POWERCUT_PRELOAD:-}" ] && export LD_PRELOAD=$FAULT_POWERCUT_PRELOAD
if [ $prev -ge 1 ] && [ -n "$HAVE_CHECK" ]; then
	check "after power cut $prev: modalfsd --check passes on the store" \
		"$MODALFSD" --check --state-dir "$TEST_DAEMON_DIR"
fi
run_check "boot $ROUND: insmod modalfs.ko" load_module || finish
run_check "boot $ROUND: modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
if [ $prev -eq 0 ]; then
	check "boot $ROUND: modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
fi
check "boot $ROUND: mount -t modalfs $VOL:/ $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
if [ $prev -ge 1 ]; then
	logs=()
	for ((k = 1; k <= prev; k++)); do logs+=(--log "$LOGDIR/log$k.img"); done
	check "after power cut $prev: acknowledged ops of rounds 1-$prev present and byte-exact" \
		"$PYTHON" "$WORKLOAD" verify --sector-log --dir "$MNT" "${logs[@]}"
fi
check_dmesg_clean
if [ -n "$LAST" ]; then
	check "umount $MNT" umount "$MNT"
	check_stop_and_unload
	finish
fi
[ -b /dev/vdb ] || bail "boot $ROUND: the log disk /dev/vdb is there"
# FAULT_POWERCUT_NOISE (1 from powercut.sh): a second writer that never syncs (creates,
# writes, renames, unlinks in its own directory) keeps the store
# committing unsynced transactions, so the cut always meets some; what it
# did is not checked, only that the store survives it.
if [ "${FAULT_POWERCUT_NOISE:-0}" != 0 ]; then
	mkdir -p "$MNT/noise$ROUND"
	"$PYTHON" -c 'import os, sys
d, i = sys.argv[1], 0
while True:
    p = os.path.join(d, "n%d" % (i % 50))
    with open(p + ".t", "wb") as f:
        f.write(os.urandom(4096 + i % 30000))
    os.replace(p + ".t", p)
    if i % 7 == 0 and os.path.exists(os.path.join(d, "n%d" % ((i + 25) % 50))):
        os.unlink(os.path.join(d, "n%d" % ((i + 25) % 50)))
    i += 1' "$MNT/noise$ROUND" > /dev/null 2>&1 &
fi
# The host cuts the power at a random moment after this marker.
"$PYTHON" "$WORKLOAD" run --sector-log --log /dev/vdb --dir "$MNT/p$ROUND" \
	--seed "powercut-${FAULT_SEED:-0}-$ROUND" --max-secs 120 --marker "POWERCUT-WORKLOAD-RUNNING"
fail "boot $ROUND: the power is cut while the workload runs (workload ended with status $?)"
finish
