#!/bin/bash
# A caller SIGKILLed while the daemon holds its request (issue 12, kernel
# item 1): the daemon is SIGSTOPped, an rm and a touch are sent to it and
# killed, and the daemon resumes. The operations happen on the daemon, so
# the kernel must not keep believing they did not: after the killed
# UNLINK, f1 is gone; after the killed CREATE, f2 exists, and both views
# agree with what a remount shows.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-killed
MNT=$TEST_TMP/mnt
ERRNO=$MFS_TOOLS/mfs-errno
REQS=/sys/kernel/debug/modalfs/requests
require_root
mkdir -p "$MNT"

cleanup() {
	[ -n "$MODALFSD_PID" ] && kill -CONT "$MODALFSD_PID" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# killed_while_stopped OPNAME OPNUM CMD...: runs CMD while the daemon is
# stopped, kills it with SIGKILL once its request OPNAME (enum modalfs_op
# OPNUM) was sent to the daemon (debugfs modalfs/requests), resumes the
# daemon. The request held must be the change itself: were it a LOOKUP
# first (an entry not vouched for since the last invalidation), the
# killed caller would simply abandon it and nothing would happen.
killed_while_stopped() {
	local op=$1 num=$2 p i
	shift 2
	kill -STOP "$MODALFSD_PID"
	"$@" 2>/dev/null &
	p=$!
	for ((i = 0; i < 50; i++)); do
		grep -Eq "^[0-9]+ $num sent " "$REQS" && break
		sleep 0.1
	done
	expect_match "the daemon was sent the $op of $1" "^[0-9]+ $num sent " "$(cat "$REQS")"
	sleep 0.5
	kill -KILL "$p"
	for ((i = 0; i < 50; i++)); do
		case $(awk '{print $3}' /proc/$p/stat 2>/dev/null) in Z|'') break ;; esac
		sleep 0.1
	done
	expect_match "the killed $1 is gone within 5 s" "^(Z|)$" "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)"
	kill -CONT "$MODALFSD_PID"
	wait "$p" 2>/dev/null
	sleep 1
}

plan 26

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
# nodirfill: the root stays incomplete, so touch sends a synchronous
# CREATE whose caller can be killed (kmod/dir.c modalfs_dir_fill).
check "mount $VOL" mount -t modalfs -o nodirfill "$VOL:/" "$MNT" || finish
echo data > "$MNT/f1"
check "f1 exists" test -e "$MNT/f1"
check_fails "f2 does not exist" test -e "$MNT/f2"

step "rm f1, killed while the daemon holds the UNLINK"
killed_while_stopped UNLINK 13 rm -f "$MNT/f1"
expect_eq "stat f1 -> ENOENT (the daemon did unlink it)" ENOENT "$($ERRNO stat "$MNT/f1")"
expect_eq "open f1 -> ENOENT" ENOENT "$($ERRNO open "$MNT/f1")"

step "touch f2, killed while the daemon holds the CREATE"
# The killed UNLINK made every cached entry suspect; this LOOKUP vouches
# for f2's negative entry again, so touch sends the CREATE at once.
expect_eq "stat f2 -> ENOENT before the touch" ENOENT "$($ERRNO stat "$MNT/f2")"
killed_while_stopped CREATE 8 touch "$MNT/f2"
expect_eq "stat f2 -> OK (the daemon did create it)" OK "$($ERRNO stat "$MNT/f2")"
expect_match "ls shows f2" "^f2$" "$(ls "$MNT")"
check "touch f2 works" touch "$MNT/f2"

step "a remount agrees"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs -o nodirfill "$VOL:/" "$MNT"
expect_eq "f1 is gone after the remount" ENOENT "$($ERRNO stat "$MNT/f1")"
expect_eq "f2 exists after the remount" OK "$($ERRNO stat "$MNT/f2")"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
