#!/bin/bash
# Stable WRITEs (issue 10/11, protocol version 6, kmod/addr.c and file.c):
# fsync of a file whose dirty data is one range, with no other WRITE of
# the file in flight, sends that range as one WRITE with
# MODALFS_WRITE_STABLE, which the daemon answers only once it is durable,
# and no FSYNC; fsync (not only fdatasync) lets that WRITE carry the times
# too, so no SETATTR either. Checked, with the kernel's request counters:
#  - 20 x (4 KiB pwrite at a random offset of a 1 MiB file + fsync): 20
#    WRITEs, no FSYNC, no SETATTR, 20 fsync_stable;
#  - the same with fdatasync;
#  - two separate dirty ranges, then fsync: 2 WRITEs and an FSYNC;
#  - after a remount the file holds every byte, and its mtime is the one
#    the last write set;
#  - modalfsd --check is clean, and so is the kernel log.
. "$(dirname "$0")/../../lib.sh"
plan 29

VOL=${VOL:-vmtest-stable}
MNT=$TEST_TMP/mnt

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# overwrite FILE N SYNC: N times a 4 KiB pwrite at a random 4 KiB-aligned
# offset inside FILE's first MiB, each followed by SYNC (fsync or
# fdatasync); the same bytes go to FILE.model on the local disk.
overwrite() {
	"$PYTHON" -c "
import os, random, sys
path, n, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sync = os.fsync if how == 'fsync' else os.fdatasync
fd = os.open(path, os.O_WRONLY)
md = os.open(sys.argv[4], os.O_WRONLY)
for i in range(n):
    off = random.randrange(256) * 4096
    buf = os.urandom(4096)
    os.pwrite(fd, buf, off)
    os.pwrite(md, buf, off)
    sync(fd)
os.close(fd)
os.close(md)
" "$1" "$2" "$3" "$TEST_TMP/model"
}

step "load, start the daemon, mount"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" --force > /dev/null 2>&1
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$MODALFS_STATS" || finish

step "a 1 MiB file"
check "write it" sh -c "head -c 1048576 /dev/urandom > '$TEST_TMP/model' && cp '$TEST_TMP/model' '$MNT/f'"
check "syncfs" sync -f "$MNT"

step "20 x (4 KiB overwrite + fsync): one stable WRITE each"
stats_snap
check "overwrite and fsync 20 times" overwrite "$MNT/f" 20 fsync
echo "    | WRITE $(stats_since WRITE) FSYNC $(stats_since FSYNC) SETATTR $(stats_since SETATTR) fsync_stable $(stats_since fsync_stable)"
expect_eq "20 WRITEs" 20 "$(stats_since WRITE)"
expect_eq "no FSYNC" 0 "$(stats_since FSYNC)"
expect_eq "no SETATTR: each WRITE carried the times" 0 "$(stats_since SETATTR)"
expect_eq "20 fsyncs made durable by their WRITE" 20 "$(stats_since fsync_stable)"

step "20 x (4 KiB overwrite + fdatasync)"
stats_snap
check "overwrite and fdatasync 20 times" overwrite "$MNT/f" 20 fdatasync
echo "    | WRITE $(stats_since WRITE) FSYNC $(stats_since FSYNC) SETATTR $(stats_since SETATTR) fsync_stable $(stats_since fsync_stable)"
expect_eq "20 WRITEs" 20 "$(stats_since WRITE)"
expect_eq "no FSYNC" 0 "$(stats_since FSYNC)"
expect_eq "20 fsyncs made durable by their WRITE" 20 "$(stats_since fsync_stable)"

step "two dirty ranges, then fsync: an FSYNC after them"
stats_snap
check "write at 0 and at 512 KiB, then fsync" "$PYTHON" -c "
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
md = os.open(sys.argv[2], os.O_WRONLY)
for off in (0, 524288):
    os.pwrite(fd, b'two ranges', off)
    os.pwrite(md, b'two ranges', off)
os.fsync(fd)
os.close(fd)
os.close(md)
" "$MNT/f" "$TEST_TMP/model"
echo "    | WRITE $(stats_since WRITE) FSYNC $(stats_since FSYNC) SETATTR $(stats_since SETATTR) fsync_stable $(stats_since fsync_stable)"
expect_eq "2 WRITEs" 2 "$(stats_since WRITE)"
expect_eq "1 FSYNC" 1 "$(stats_since FSYNC)"
expect_eq "no fsync made durable by a WRITE alone" 0 "$(stats_since fsync_stable)"

step "after a remount"
mtime=$(stat -c %y "$MNT/f")
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
check "the file holds every byte written" cmp "$MNT/f" "$TEST_TMP/model"
expect_eq "its mtime is the one the last write set" "$mtime" "$(stat -c %y "$MNT/f")"

step "teardown"
check "umount" umount "$MNT"
finish_clean
