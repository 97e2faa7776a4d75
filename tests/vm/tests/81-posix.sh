#!/bin/bash
# The POSIX conformance suite (tests/posix/mfs-posix, ~800 checks) on a
# tmpfs in this VM, which proves the suite against the kernel's own
# filesystem, then on a modalfs mount with --require-xattr (no xattr check
# may be skipped there). One check per group per filesystem; every failing
# check line is shown. readdir runs over MFS_READDIR_COUNT entries
# (default 1000; 100000 with MODALFS_LONG=1). MODALFS_LONG=1 also runs the
# suite on modalfs a second time with --drop-caches, so that every stat and
# read is answered by the daemon's store rather than the kernel's caches.
. "$(dirname "$0")/../../lib.sh"
. "$MODALFS_REPO/tests/posix/vmlib.sh"
# 13 checks of this script and one per mfs-posix group (20) and run (two;
# three with MODALFS_LONG=1).
runs=2
[ -n "${MODALFS_LONG:-}" ] && runs=3
plan $((13 + 20 * runs))

VOL=vmtest-posix
MNT=$TEST_TMP/mnt
TMPFS=$TEST_TMP/tmpfs
if [ -n "$MODALFS_LONG" ]; then
	COUNT=${MFS_READDIR_COUNT:-100000}
else
	COUNT=${MFS_READDIR_COUNT:-1000}
fi

require_root
mkdir -p "$MNT" "$TMPFS"

cleanup() {
	is_mounted "$TMPFS" && umount "$TMPFS"
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_check "build mfs-posix, mfs-fsx, mfs-stress" posix_build || finish

step "mfs-posix on tmpfs (proves the suite), readdir over $COUNT entries"
check "mount tmpfs" mount -t tmpfs -o size=1g,nr_inodes=400000 none "$TMPFS" || finish
posix_run tmpfs "$TMPFS" --readdir-count "$COUNT"
check "umount tmpfs" umount "$TMPFS"

step "mfs-posix on modalfs ($VOL), readdir over $COUNT entries"
mfs_up "$VOL" "$MNT" || finish
dmesg_mark
posix_run modalfs "$MNT" --require-xattr --readdir-count "$COUNT"
dmesg_since | grep -E "$KERNEL_BAD_RE" | head -n 20 | sed 's/^/    | /'
if [ -n "$MODALFS_LONG" ]; then
	step "mfs-posix on modalfs again, dropping caches before every stat and read"
	posix_run modalfs-nocache "$MNT" --require-xattr --drop-caches --readdir-count 2000
fi

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
