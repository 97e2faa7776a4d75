#!/bin/bash
# Batched EVICT (issue 11, kmod/evict.c, protocol version 5): the inodes
# that unlinks release are queued, and each volume keeps one EVICT in
# flight that carries every inode queued since the previous one. Checked:
#  - rm of 400 files of 64 KiB: every inode goes out in a batched EVICT
#    (evicted_batched), in fewer than a quarter as many EVICT requests,
#    and their blocks leave the daemon's block store;
#  - a lone unlink on an idle volume frees its blocks at once;
#  - a daemon stopped while 300 inodes are released, then killed: the
#    next one frees them all (the queued EVICT is sent again);
#  - unmounting right after an rm -rf does not hang, and the space is
#    back after it (UMOUNT frees what EVICT had not);
#  - modalfsd --check is clean, and so is the kernel log.
. "$(dirname "$0")/../../lib.sh"
plan 39

VOL=${VOL:-vmtest-evict}
MNT=$TEST_TMP/mnt
BLOCKS=$TEST_DAEMON_DIR/blocks

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	[ -n "$MODALFSD_PID" ] && kill -CONT "$MODALFSD_PID" 2>/dev/null
	stop_daemon
}
TEST_CLEANUP=cleanup

# mkfiles DIR N: N files of 64 KiB in DIR.
mkfiles() {
	"$PYTHON" -c "
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, 'f%d' % i), 'wb') as f:
        f.write(os.urandom(65536))
" "$1" "$2"
}
# objects: how many block-store objects the daemon holds.
objects() {
	find "$BLOCKS" -type f | wc -l
}
objects_le() {
	[ "$(objects)" -le "$1" ]
}
# wait_objects N: the block store is down to N objects within 20 s.
wait_objects() {
	wait_until 200 objects_le "$1" && return 0
	echo "    | $(objects) objects left, wanted $1 at most"
	return 1
}

step "load, start the daemon, mount"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" --force > /dev/null 2>&1
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$MODALFS_STATS" || finish

step "rm -rf of 400 files: batched EVICTs"
check "400 files of 64 KiB" mkfiles "$MNT/a" 400
check "syncfs" sync -f "$MNT"
base=$(objects)
check "at least 400 objects in the block store" test "$base" -ge 400
stats_snap
check "rm -rf" rm -rf "$MNT/a"
check "syncfs" sync -f "$MNT"
check "the block store gives the 400 objects back" wait_objects $((base - 400))
echo "    | EVICT $(stats_since EVICT), evicted_batched $(stats_since evicted_batched), UNLINK $(stats_since UNLINK)"
expect_eq "the 400 files and their directory went out in batched EVICTs" 401 "$(stats_since evicted_batched)"
check "in fewer than 100 EVICT requests" test "$(stats_since EVICT)" -lt 100
expect_eq "no EVICT failed" 0 "$(awk '$1 == "EVICT" { n = $4 } END { print n + 0 }' "$MODALFS_STATS")"

step "a lone unlink on an idle volume frees its blocks at once"
check "one file" mkfiles "$MNT/b" 1
check "syncfs" sync -f "$MNT"
base=$(objects)
stats_snap
check "rm it" rm "$MNT/b/f0"
check "its object goes within 20 s, without a sync" wait_objects $((base - 1))
expect_eq "one EVICT" 1 "$(stats_since EVICT)"
check "rmdir b" rmdir "$MNT/b"

step "a daemon stopped while 300 inodes are released, then killed"
check "300 files" mkfiles "$MNT/c" 300
check "syncfs" sync -f "$MNT"
base=$(objects)
kill -STOP "$MODALFSD_PID"
stats_snap
check "unlinking them returns while the daemon is stopped" timeout 60 \
	"$PYTHON" -c "
import os, sys
for i in range(300):
    os.unlink(os.path.join(sys.argv[1], 'f%d' % i))
" "$MNT/c"
check "300 inodes were queued or sent" test "$(stats_since evicted_batched)" -ge 1
kill -KILL "$MODALFSD_PID"
wait "$MODALFSD_PID" 2>/dev/null
MODALFSD_PID=
run_check "start modalfsd again" start_daemon "$TEST_DAEMON_DIR" || finish
check "syncfs" sync -f "$MNT"
check "the next daemon frees all 300" wait_objects $((base - 300))
check "rmdir c" rmdir "$MNT/c"

step "unmount right after an rm -rf"
check "300 more files" mkfiles "$MNT/d" 300
check "syncfs" sync -f "$MNT"
base=$(objects)
check "rm -rf" rm -rf "$MNT/d"
check "umount at once" timeout 60 umount "$MNT"
check "the space is back" wait_objects $((base - 300))
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "the volume is empty" "" "$(ls "$MNT")"

step "teardown"
check "umount" umount "$MNT"
finish_clean
