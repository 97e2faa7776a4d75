#!/bin/bash
# MODALFS_CMD_NOTIFY, sent by tests/tools/hostile-daemon.py on command:
# INVAL_INODE makes the next stat/read see the daemon's new attributes and
# bytes, INVAL_ENTRY drops positive and negative dentries, VOL_GONE makes
# everything fail with ESTALE (cached data included) until unmounted.
# Malformed notifications are acked EINVAL, ones from another port EPERM,
# well-formed ones about nothing cached 0.
. "$(dirname "$0")/../../lib.sh"
plan 39

hostile_init

# cmd LINE: one command to the hostile daemon, waited for.
cmd() {
	echo "$*" > "$FIFO"
	wait_for "^did $*\$"
}

# notify ARGS...: send a NOTIFY and print its ack's errno name.
notify() {
	cmd notify "$@"
	wait_for "^ack notify $1 " 30
	grep -E "^ack notify $1 " "$LOG" | tail -n 1 | awk '{print $4}'
}

step "load the module, register the hostile daemon, mount"
hostile_start
expect_eq "mount hostile:/" OK "$($ERRNO mount hostile:/ "$MNT")" || finish

step "INVAL_INODE: new size and bytes after the notification, not before"
expect_eq "cat ok" hello "$(cat "$MNT/ok")"
cmd set brand new content
expect_eq "without a notification the cache answers" hello "$(cat "$MNT/ok")"
expect_eq "INVAL_INODE 10 acked 0" OK "$(notify inval-inode 10)"
expect_eq "stat shows the new size" 18 "$(stat -c %s "$MNT/ok")"
expect_eq "cat shows the new bytes" "brand new content" "$(cat "$MNT/ok")"

step "INVAL_ENTRY: negative and positive dentries"
expect_eq "stat newfile -> ENOENT" ENOENT "$($ERRNO stat "$MNT/newfile")"
cmd add newfile
expect_eq "still ENOENT from the negative dentry" ENOENT "$($ERRNO stat "$MNT/newfile")"
expect_eq "INVAL_ENTRY 1 newfile acked 0" OK "$(notify inval-entry 1 newfile)"
expect_eq "stat newfile now finds it" OK "$($ERRNO stat "$MNT/newfile")"
expect_eq "stat ok2" OK "$($ERRNO stat "$MNT/ok2")"
cmd del ok2
expect_eq "still there from the cache" OK "$($ERRNO stat "$MNT/ok2")"
expect_eq "INVAL_ENTRY 1 ok2 acked 0" OK "$(notify inval-entry 1 ok2)"
expect_eq "stat ok2 -> ENOENT" ENOENT "$($ERRNO stat "$MNT/ok2")"

step "malformed notifications are EINVAL, harmless ones 0, strangers EPERM"
for k in bad-novol bad-type bad-noname bad-slash bad-extra bad-ino0; do
	expect_eq "NOTIFY $k -> EINVAL" EINVAL "$(notify $k)"
done
expect_eq "INVAL_INODE of an uncached inode -> 0" OK "$(notify inval-inode 12345)"
expect_eq "INVAL_ENTRY of an uncached directory -> 0" OK "$(notify inval-entry 777 x)"
expect_eq "VOL_GONE of an unmounted volume -> 0" OK "$(notify vol-gone 999)"
out=$("$PYTHON" "$MFS_TOOLS/hostile-daemon.py" --notify-unregistered 7 2>&1)
expect_eq "NOTIFY from an unregistered socket -> EPERM" "notify-ack EPERM" "$out"
expect_eq "the mount is unaffected" "brand new content" "$(cat "$MNT/ok")"

step "VOL_GONE: ESTALE for everything, cached or not; unmount works"
exec 7< "$MNT/ok"
dmesg_mark
expect_eq "VOL_GONE 7 acked 0" OK "$(notify vol-gone)"
expect_match "the kernel logs it" "modalfs: volume hostile \(id 7\) was deleted" "$(dmesg_since)"
expect_eq "stat of a cached file -> ESTALE" ESTALE "$($ERRNO stat "$MNT/ok")"
expect_eq "read of a cached file -> ESTALE" ESTALE "$($ERRNO read "$MNT/ok")"
expect_eq "stat of an uncached name -> ESTALE" ESTALE "$($ERRNO stat "$MNT/uncached")"
expect_eq "stat of the root -> ESTALE" ESTALE "$($ERRNO stat "$MNT")"
expect_eq "readdir of the root -> ESTALE" ESTALE "$($ERRNO listdir "$MNT")"
expect_eq "fstat of an fd opened before -> ESTALE" ESTALE \
	"$($ERRNO stat /proc/self/fd/7 2>&1)"
exec 7<&-
expect_eq "mounting it again while the gone mount exists -> EBUSY" EBUSY "$($ERRNO mount hostile:/ "$TEST_TMP")"
check "umount the gone volume" umount "$MNT"

step "stop the hostile daemon, unload the module"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs

check_dmesg_clean
finish
