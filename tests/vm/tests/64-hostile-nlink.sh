#!/bin/bash
# Link counts from a daemon that lies (issue 12, kernel item 2): an entry
# whose inode has nlink 0 is refused with EIO, and an nlink that a later
# GETATTR dropped to 0 never makes unlink WARN in drop_nlink.
. "$(dirname "$0")/../../lib.sh"

hostile_init
cmd() {
	echo "$*" > "$FIFO"
	wait_for "^did $*\$" 50
}

plan 12

step "load the module, register the hostile daemon, mount"
hostile_start
expect_eq "mount hostile:/" OK "$($ERRNO mount hostile:/ "$MNT")" || finish

step "LOOKUP answering nlink 0"
expect_eq "stat nlink-zero -> EIO" EIO "$(timeout 30 $ERRNO stat "$MNT/nlink-zero")"

step "GETATTR drops a cached file's nlink to 0, then unlink"
expect_eq "stat ok" OK "$($ERRNO stat "$MNT/ok")"
cmd nlink 10 0
cmd notify inval-inode 10
expect_eq "stat -c %h ok shows the daemon's 0" 0 "$(stat -c %h "$MNT/ok")"
dmesg_mark
check "rm ok" rm -f "$MNT/ok"
check_fails "no drop_nlink WARN" grep -q "drop_nlink" <<< "$(dmesg_since)"
expect_eq "stat ok -> ENOENT" ENOENT "$($ERRNO stat "$MNT/ok")"

check "umount" umount "$MNT"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs
check_dmesg_clean
finish
