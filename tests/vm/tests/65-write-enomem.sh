#!/bin/bash
# A WRITE whose message cannot be allocated (issue 12, kernel item 6):
# the pages it would have carried stay dirty, so the data is neither
# dropped from the page cache nor lost; the next writeback sends it.
# debugfs modalfs/fail_write_alloc fails that many WRITE allocations.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-enomem
MNT=$TEST_TMP/mnt
KNOB=/sys/kernel/debug/modalfs/fail_write_alloc
require_root
mkdir -p "$MNT"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

plan 18

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "the fault knob exists" test -w "$KNOB" || finish

step "writeback whose WRITE allocation fails"
head -c 65536 /dev/urandom > "$TEST_TMP/data"
want=$(sha256sum < "$TEST_TMP/data")
echo 1 > "$KNOB"
cp "$TEST_TMP/data" "$MNT/f"
# Background writeback of the file: sync_file_range(SYNC_FILE_RANGE_WRITE)
# is WB_SYNC_NONE. Python's os module has no sync_file_range, so libc's
# is called through ctypes (the os call raised AttributeError, and with
# no writeback at all the knob was never reached).
check "sync_file_range starts writeback" "$PYTHON" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.sync_file_range.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
fd = os.open(sys.argv[1], os.O_RDWR)
if libc.sync_file_range(fd, 0, 0, 2):
    sys.exit(os.strerror(ctypes.get_errno()))' "$MNT/f"
expect_eq "the allocation failure was injected" 0 "$(cat "$KNOB")"
echo 1 > /proc/sys/vm/drop_caches
expect_eq "the data survives dropping clean pages" "$want" "$(sha256sum < "$MNT/f")"
check "fsync now succeeds" "$PYTHON" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDWR); os.fsync(fd)' "$MNT/f"

step "remount: the daemon has it"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT"
expect_eq "the file is intact after the remount" "$want" "$(sha256sum < "$MNT/f")"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
