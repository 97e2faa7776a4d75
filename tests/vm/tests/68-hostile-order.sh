#!/bin/bash
# Ordering and trust against the hostile daemon (issue 12, kernel items
# 7, 8 and 11):
#  - write_inode for sync(2) waits for earlier background WRITEs, so the
#    daemon never gets the times before the data;
#  - an older GETATTR answer landing after a newer WRITE answer does not
#    shrink i_size (attribute versions, as FUSE's attr_version);
#  - the root dentry of a sub-path mount, spliced into the tree, is
#    revalidated like any other (sb->s_d_op) once a killed caller's
#    request was answered;
#  - a REPLY or NOTIFY from the registered socket without CAP_SYS_ADMIN
#    is refused with EPERM.
. "$(dirname "$0")/../../lib.sh"

hostile_init
MNT2=$TEST_TMP/mnt2
mkdir -p "$MNT2"
cleanup68() {
	is_mounted "$MNT2" && umount "$MNT2"
	hostile_cleanup
}
TEST_CLEANUP=cleanup68
cmd() {
	echo "$*" > "$FIFO"
	wait_for "^did $*\$" 50
}

plan 24

step "load the module, register the hostile daemon, mount"
hostile_start
expect_eq "mount hostile:/" OK "$($ERRNO mount hostile:/ "$MNT")" || finish

step "sync(2): the times follow the data"
cmd hold write
# Background writeback (WB_SYNC_NONE) of ok2: its WRITE is held. Python's
# os module has no sync_file_range; libc's is called through ctypes. The
# write is at 4096, past the first page: a WRITE of the whole file from
# offset 0 would carry the times itself (addr.c), leaving write_inode
# nothing to send.
"$PYTHON" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"HELLO", 4096)
if libc.sync_file_range(fd, 0, 0, 2):
    sys.exit(os.strerror(ctypes.get_errno()))' "$MNT/ok2"
check "the WRITE of ok2 is held" wait_for "^holding write" 50
sync &
P=$!
sleep 2
check_fails "no SETATTR of ok2 while its WRITE is unanswered" grep -q "^got setattr 13$" "$LOG"
cmd release
wait $P
check "sync then sends the times" wait_for "^got setattr 13$" 50
expect_eq "the daemon has the data" HELLO "$(tail -c 5 "$MNT/ok2")"

step "an older GETATTR answer does not shrink the file"
expect_eq "ok has 6 bytes" 6 "$(stat -c %s "$MNT/ok")"
cmd notify inval-inode 10
cmd hold getattr
stat "$MNT/ok" > /dev/null 2>&1 &
P=$!
check "the GETATTR of ok is held" wait_for "^holding getattr" 50
"$PYTHON" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY|os.O_APPEND); os.write(fd, b"world\n"); os.fsync(fd)' "$MNT/ok"
cmd release
wait $P
expect_eq "ok has 12 bytes after the old answer" 12 "$(stat -c %s "$MNT/ok")"
"$PYTHON" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY|os.O_APPEND); os.write(fd, b"again\n"); os.fsync(fd)' "$MNT/ok"
expect_eq "an O_APPEND write lands at the end" "$(printf 'hello\nworld\nagain')" "$(cat "$MNT/ok")"

step "a sub-path mount's root, spliced into the tree, is revalidated"
expect_eq "mount hostile:/sub at mnt2" OK "$($ERRNO mount hostile:/sub "$MNT2")"
expect_eq "stat mnt/sub" OK "$($ERRNO stat "$MNT/sub")"
cmd del sub
# A caller killed while its UNLINK is held: once the daemon answers, the
# kernel cannot know what else changed and revalidates every entry.
cmd hold unlink
rm -f "$MNT/ok2" &
P=$!
check "the UNLINK is held" wait_for "^holding unlink" 50
kill -KILL $P
wait $P 2>/dev/null
cmd release
check "the held UNLINK was answered" wait_for "^ack unlink:ok2:released" 50
expect_eq "stat mnt/sub -> ENOENT (deleted on the daemon)" ENOENT "$($ERRNO stat "$MNT/sub")"
check "umount mnt2" umount "$MNT2"

step "REPLY and NOTIFY need CAP_SYS_ADMIN"
cmd dropcaps
$ERRNO stat "$MNT/capcheck" > "$TEST_TMP/cap.out" 2>&1 &
P=$!
check "the daemon answered" wait_for "^ack lookup:capcheck " 50
expect_match "its REPLY without CAP_SYS_ADMIN is refused" "^ack lookup:capcheck EPERM$" "$(cat "$LOG")"
echo "notify inval-inode 10" > "$FIFO"
check "the daemon sent a NOTIFY" wait_for "^ack notify inval-inode " 50
expect_match "its NOTIFY without CAP_SYS_ADMIN is refused" "^ack notify inval-inode EPERM$" "$(cat "$LOG")"
echo 1 > /sys/fs/modalfs/volumes/7/abort
wait $P
check "umount" umount "$MNT"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs
check_dmesg_clean
finish
