#!/bin/bash
# sync(2) and syncfs(2) pipeline a volume's writeback (issue 11,
# kmod/addr.c and meta.c): every inode's WRITEs go out before sync waits
# for any, paced by a window of MODALFS_SYNC_WINDOW times the background
# cap, and the times go out in a last pass once all the data is in, as
# asynchronous SETATTRs that sync_fs waits for. Checked:
#  - with the daemon stopped, a syncfs of 150 freshly written files
#    sends every file's WRITE before it waits for any (one inode at a
#    time, it would sit behind the first WRITE it waits for, with the
#    rest still dirty);
#  - the syncfs returns only after the daemon is back, and then with 0;
#  - after a remount every file has its bytes, and a 3 MiB file (several
#    WRITEs, so its times need a SETATTR after them) keeps the mtime and
#    mode set while its data was dirty;
#  - with the daemon stopped, the access times that 151 reads changed go
#    out in 151 SETATTRs at once, not one at a time, and are there after
#    a remount;
#  - a syncfs of 300 small files costs 300 WRITEs and no SETATTR;
#  - modalfsd --check is clean, and so is the kernel log.
. "$(dirname "$0")/../../lib.sh"
plan 36

VOL=${VOL:-vmtest-syncpipe}
MNT=$TEST_TMP/mnt
# op_number NAME: the number of MODALFS_OP_NAME in the uapi header.
op_number() {
	awk -v want="MODALFS_OP_$1," '/enum modalfs_op/ { on = 1; n = -1 }
		on && /MODALFS_OP_/ { n++ } on && $1 == want { print n; exit }' \
		"$MODALFS_REPO/netlink/modalfs.h"
}
OP_WRITE=$(op_number WRITE)
OP_SETATTR=$(op_number SETATTR)

require_root
mkdir -p "$MNT"
WB_CENTISECS=$(cat /proc/sys/vm/dirty_writeback_centisecs)
cleanup() {
	echo "$WB_CENTISECS" > /proc/sys/vm/dirty_writeback_centisecs
	[ -n "$MODALFSD_PID" ] && kill -CONT "$MODALFSD_PID" 2>/dev/null
	[ -n "${P:-}" ] && wait "$P" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# mkfiles DIR N: N files of 1 KiB in DIR, each holding its own name.
mkfiles() {
	"$PYTHON" -c "
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, 'f%d' % i), 'wb') as f:
        f.write(('f%d ' % i).encode().ljust(1024, b'.'))
" "$1" "$2"
}
# checkfiles DIR N: all N files hold what mkfiles wrote.
checkfiles() {
	"$PYTHON" -c "
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
bad = [i for i in range(n)
       if open(os.path.join(d, 'f%d' % i), 'rb').read() !=
          ('f%d ' % i).encode().ljust(1024, b'.')]
if bad:
    sys.exit('%d files differ, first f%d' % (len(bad), bad[0]))
" "$1" "$2"
}
# in_table OP: requests of op number OP in the kernel's request table now.
in_table() {
	awk -v op="$1" 'NR > 2 && $2 == op { n++ } END { print n + 0 }' \
		/sys/kernel/debug/modalfs/requests
}
writes_in_table() {
	in_table "$OP_WRITE"
}
setattrs_ge() {
	[ "$(in_table "$OP_SETATTR")" -ge "$1" ]
}
# wait_setattrs N: up to 30 s until N SETATTRs sit in the table.
wait_setattrs() {
	wait_until 300 setattrs_ge "$1" && return 0
	echo "    | $(in_table "$OP_SETATTR") SETATTRs in the table, wanted $1"
	return 1
}
# dirty_kb: the volume's dirty pages not yet under writeback, in KiB
# (its bdi's BdiReclaimable). An estimate: the kernel reads the counter
# without the per-CPU deltas, which can hide up to 16 pages per CPU, so
# it only tells "plenty dirty", never "none dirty".
dirty_kb() {
	awk '$1 == "BdiReclaimable:" { print $2 }' /sys/kernel/debug/bdi/$BDI/stats
}
# wait_writes_sent N: up to 30 s until N WRITEs went into the request
# table since the last stats_snap (the sent counter is exact).
writes_sent_ge() {
	[ "$(stats_since WRITE)" -ge "$1" ]
}
wait_writes_sent() {
	wait_until 300 writes_sent_ge "$1" && return 0
	echo "    | $(stats_since WRITE) WRITEs sent, $(writes_in_table) in the table, $(dirty_kb) KiB dirty"
	return 1
}

step "load, start the daemon, mount"
check "WRITE's and SETATTR's op numbers are known" test -n "$OP_WRITE" -a -n "$OP_SETATTR" || finish
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" --force > /dev/null 2>&1
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/requests is readable" test -r /sys/kernel/debug/modalfs/requests || finish

step "syncfs with the daemon stopped: every WRITE is in flight at once"
# No periodic writeback: the files must still be dirty when syncfs runs.
echo 0 > /proc/sys/vm/dirty_writeback_centisecs
stats_snap
check "150 files of 1 KiB" mkfiles "$MNT/a" 150
BDI=$(cd /sys/kernel/debug/bdi && ls -d modalfs-* | tail -n 1)
check "the volume's bdi has $(dirty_kb) KiB dirty, at least 80" test "$(dirty_kb)" -ge 80
kill -STOP "$MODALFSD_PID"
sync -f "$MNT" &
P=$!
check "syncfs sends all 150 files' WRITEs before it waits for one" wait_writes_sent 150
echo "    | $(writes_in_table) WRITEs in the table"
check "at least 20 WRITEs in the request table" test "$(writes_in_table)" -ge 20
expect_eq "syncfs has not returned while the daemon is stopped" yes \
	"$(kill -0 $P 2>/dev/null && echo yes || echo no)"
kill -CONT "$MODALFSD_PID"
wait $P
expect_eq "syncfs returns 0 once the daemon runs again" 0 "$?"
P=
echo "$WB_CENTISECS" > /proc/sys/vm/dirty_writeback_centisecs

step "a 3 MiB file: its times go out after its WRITEs"
check "a 3 MiB file" sh -c "head -c 3145728 /dev/urandom > '$MNT/big'"
sum=$(sha256sum < "$MNT/big")
check "its mtime and mode change while its data is dirty" \
	sh -c "touch -m -d @1000000000 '$MNT/big' && chmod 600 '$MNT/big'"
check "syncfs" sync -f "$MNT"

step "after a remount"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
check "the 150 files hold their bytes" checkfiles "$MNT/a" 150
expect_eq "the 3 MiB file holds its bytes" "$sum" "$(sha256sum < "$MNT/big")"
expect_eq "its mtime is the one set while its data was dirty" 1000000000 "$(stat -c %Y "$MNT/big")"
expect_eq "its mode too" 600 "$(stat -c %a "$MNT/big")"

step "syncfs with the daemon stopped: the times go out many at once"
# The reads above changed 151 access times: each is a SETATTR to send.
atime=$(stat -c %x "$MNT/a/f7")
kill -STOP "$MODALFSD_PID"
sync -f "$MNT" &
P=$!
check "at least 150 SETATTRs in the request table" wait_setattrs 150
expect_eq "syncfs has not returned while the daemon is stopped" yes \
	"$(kill -0 $P 2>/dev/null && echo yes || echo no)"
kill -CONT "$MODALFSD_PID"
wait $P
expect_eq "syncfs returns 0 once the daemon runs again" 0 "$?"
P=
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "an access time set by a read is there after the remount" "$atime" "$(stat -c %x "$MNT/a/f7")"

step "syncfs of 300 small files: one WRITE each, no SETATTR"
stats_snap
check "300 files of 1 KiB" mkfiles "$MNT/b" 300
check "syncfs" sync -f "$MNT"
echo "    | WRITE $(stats_since WRITE) SETATTR $(stats_since SETATTR) CREATE $(stats_since CREATE)"
expect_eq "300 WRITEs" 300 "$(stats_since WRITE)"
expect_eq "no SETATTR" 0 "$(stats_since SETATTR)"

step "teardown"
check "umount" umount "$MNT"
finish_clean
