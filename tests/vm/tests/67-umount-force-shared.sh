#!/bin/bash
# umount -f of one mount of a volume (issue 12, kernel item 10): mounts
# of a volume share one superblock, so a forced unmount of one of them
# must not abort the volume for the others, nor refuse new mounts.
. "$(dirname "$0")/../../lib.sh"

hostile_init
MNT2=$TEST_TMP/mnt2
mkdir -p "$MNT2"
cleanup67() {
	is_mounted "$MNT2" && umount "$MNT2"
	hostile_cleanup
}
TEST_CLEANUP=cleanup67

plan 15

step "load the module, register the hostile daemon, mount twice"
hostile_start
expect_eq "mount hostile:/ at mnt" OK "$($ERRNO mount hostile:/ "$MNT")" || finish
expect_eq "mount hostile:/ at mnt2" OK "$($ERRNO mount hostile:/ "$MNT2")" || finish

step "umount -f of the first mount"
expect_eq "umount -f mnt" OK "$($ERRNO umount "$MNT" force)"
expect_eq "stat mnt2/ok still works" OK "$($ERRNO stat "$MNT2/ok")"
expect_eq "cat mnt2/ok still reads" hello "$(cat "$MNT2/ok" 2>&1)"
expect_eq "mounting the volume again works" OK "$($ERRNO mount hostile:/ "$MNT")"
expect_eq "stat mnt/ok works" OK "$($ERRNO stat "$MNT/ok")"

step "umount -f of a busy mount that fails with EBUSY"
exec 7< "$MNT/ok"
expect_eq "umount -f of the busy mnt -> EBUSY" EBUSY "$($ERRNO umount "$MNT" force)"
expect_eq "stat mnt2/ok still works" OK "$($ERRNO stat "$MNT2/ok")"
exec 7<&-

check "umount mnt" umount "$MNT"
check "umount mnt2" umount "$MNT2"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs
check_dmesg_clean
finish
