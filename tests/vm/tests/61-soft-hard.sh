#!/bin/bash
# With the real modalfsd stopped: a soft,timeo=2 mount fails a request with
# EIO in 2-4 s (10 s allowed for a loaded TCG host); a hard mount waits and
# completes once the daemon is back;
# umount -f aborts a waiting request and unmounts; umount -l detaches at
# once and the superblock goes away without a daemon (no hang, no WARN).
. "$(dirname "$0")/../../lib.sh"
plan 36

VOL=${VOL:-vmtest-chan}
ERRNO=$MFS_TOOLS/mfs-errno
M=$TEST_TMP/m
BG=

require_root
require_file "$ERRNO"
mkdir -p "$M"

cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	is_mounted "$M" && umount -l "$M"
	stop_daemon
}
TEST_CLEANUP=cleanup

ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

vol_dir() {	# the sysfs directory of the mounted volume $VOL
	grep -lx "$VOL" /sys/fs/modalfs/volumes/*/name 2>/dev/null | head -n 1 | xargs -r dirname
}

step "load the module, start the daemon, create $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish

step "soft,timeo=2 with the daemon stopped: EIO after 2 s"
expect_eq "mount -o soft,timeo=2" OK "$($ERRNO mount "$VOL:/" "$M" soft,timeo=2)" || finish
echo data1 > "$M/f" && sync
run_check "stop modalfsd" stop_daemon
dmesg_mark
expect_eq "stat of an uncached name -> EIO" EIO \
	"$(MFS_ERRNO_TIME=$TEST_TMP/ms timeout 30 $ERRNO stat "$M/not-cached")"
ms=$(cat "$TEST_TMP/ms")
check "it took 2 to 10 s ($ms ms)" test "$ms" -ge 1900 -a "$ms" -le 10000
expect_match "the kernel logs the timeout" "unanswered after 2 s; failing it with EIO \(soft mount\)" "$(dmesg_since)"
check "umount the soft mount without a daemon" timeout 20 umount "$M"

step "hard: a request waits for the daemon and completes after its restart"
run_check "start modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish
# nodirfill: a stat of a missing name must wait for the daemon, not be
# answered by a root a lookup listed (kmod/dir.c modalfs_dir_fill).
expect_eq "mount (hard)" OK "$($ERRNO mount "$VOL:/" "$M" nodirfill)" || finish
run_check "stop modalfsd" stop_daemon
$ERRNO stat "$M/absent" > "$TEST_TMP/bg.out" 2>&1 &
BG=$!
sleep 3
check "after 3 s the stat is still waiting" kill -0 "$BG"
run_check "restart modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish
for _ in $(seq 100); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
wait "$BG"; BG=
expect_eq "the waiting stat completes with the daemon's answer" ENOENT "$(cat "$TEST_TMP/bg.out")"
expect_eq "the file written before is intact" data1 "$(cat "$M/f")"

step "umount -f with the daemon gone"
run_check "stop modalfsd" stop_daemon
$ERRNO stat "$M/absent2" > "$TEST_TMP/bg.out" 2>&1 &
BG=$!
sleep 1
dmesg_mark
timeout 20 umount -f "$M" 2>/dev/null
for _ in $(seq 100); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
wait "$BG"; BG=
expect_eq "the waiting stat fails with EIO" EIO "$(cat "$TEST_TMP/bg.out")"
expect_match "the kernel logs the forced unmount" "forced unmount of volume $VOL" "$(dmesg_since)"
# umount -f aborts the requests, then fails with EBUSY if the waiting stat
# still holds the mount; when the stat was woken first (the debug kernel's
# timing) umount -f itself unmounts. One check either way, for the plan.
if is_mounted "$M"; then
	check "umount (no daemon) after the abort" timeout 20 umount "$M"
else
	pass "umount -f unmounted it itself (the stat had let go)"
fi
check_fails "the mount is gone" is_mounted "$M"

step "umount -l with the daemon gone and unwritten data"
run_check "start modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish
# nodirfill: a stat of a missing name must wait for the daemon, not be
# answered by a root a lookup listed (kmod/dir.c modalfs_dir_fill).
expect_eq "mount (hard)" OK "$($ERRNO mount "$VOL:/" "$M" nodirfill)" || finish
vd=$(vol_dir)
check "the volume has a sysfs directory" test -n "$vd"
echo unwritten > "$M/dirty"
run_check "stop modalfsd" stop_daemon
# Dirty the inode again with no daemon and let the flusher try to write
# it back: it holds s_umount meanwhile, so it must give up, not wait.
wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
ex=$(cat /proc/sys/vm/dirty_expire_centisecs)
echo 20 > /proc/sys/vm/dirty_writeback_centisecs
echo 20 > /proc/sys/vm/dirty_expire_centisecs
echo more >> "$M/dirty"
sleep 3
echo "$wb" > /proc/sys/vm/dirty_writeback_centisecs
echo "$ex" > /proc/sys/vm/dirty_expire_centisecs
dmesg_mark
expect_eq "umount -l" OK "$(MFS_ERRNO_TIME=$TEST_TMP/ms timeout 20 $ERRNO umount "$M" detach)"
ms=$(cat "$TEST_TMP/ms")
check "umount -l (with the superblock's teardown) took less than 10 s ($ms ms)" test "$ms" -lt 10000
check_fails "the mount is gone" is_mounted "$M"
for _ in $(seq 50); do [ -e "$vd" ] || break; sleep 0.1; done
check_fails "the superblock went away (sysfs directory removed)" test -e "$vd"
expect_match "the kernel says unwritten changes are lost" "$VOL unmounted while no modalfsd is registered" "$(dmesg_since)"

step "restart, then stop the daemon and unload the module"
run_check "start modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish
check_stop_and_unload

check_dmesg_clean
finish
