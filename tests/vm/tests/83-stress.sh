#!/bin/bash
# The parallel stress test (tests/stress/mfs-stress) on modalfs: 4
# processes create, write, append, truncate, rename (across directories,
# over their own names, RENAME_EXCHANGE), link, unlink and move
# directories in shared directories for STRESS_SECONDS (15; 60 with
# MODALFS_LONG=1). The tree must match what their operation logs say.
# Then the daemon stops, `modalfsd --check` verifies the store, and after a
# daemon restart and remount the tree is compared with the logs again.
. "$(dirname "$0")/../../lib.sh"
. "$MODALFS_REPO/tests/posix/vmlib.sh"
plan 19

VOL=vmtest-stress
MNT=$TEST_TMP/mnt
LOGS=$TEST_TMP/stress-logs
if [ -n "$MODALFS_LONG" ]; then
	SECS=${STRESS_SECONDS:-60}
else
	SECS=${STRESS_SECONDS:-15}
fi

require_root

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_check "build mfs-posix, mfs-fsx, mfs-stress" posix_build || finish
mfs_up "$VOL" "$MNT" || finish
rm -rf "$MNT/mfs-stress" "$LOGS"

step "mfs-stress: 4 processes for $SECS s"
log=$TEST_TMP/stress.log
"$MFS_STRESS" "$MNT" -p 4 -t "$SECS" -s 7 -l "$LOGS" > "$log" 2>&1
rc=$?
keep_log "$log"
sed 's/^/    | /' "$log" | tail -n 70
expect_eq "mfs-stress: every worker succeeded and the tree matches their logs" 0 "$rc"

step "unmount, stop the daemon, modalfsd --check"
check "umount $MNT" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
daemon_check_store

step "restart the daemon, remount, compare the tree with the logs again"
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount -t modalfs $VOL:/ $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
check "mfs-stress -V: the tree read back from the store matches the logs" \
	"$MFS_STRESS" "$MNT" -V -l "$LOGS"
check "remove the stress tree" rm -rf "$MNT/mfs-stress"

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
