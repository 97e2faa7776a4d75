#!/bin/bash
# READDIRPLUS (issue 11): every READDIR entry carries its inode's
# attributes, and the kernel gives the names it does not hold a dentry and
# an inode from them, so that a cold listing with attributes (find
# -printf, ls -l), `find` and `rm -r` send no LOOKUP and no GETATTR per
# name. Counted with the kernel's debugfs counters (modalfs/stats):
#  - after a remount, find -printf of a directory of 300 files, a
#    directory, a symlink, a fifo and a hard link: three READDIRs (256
#    entries each at most, and the empty subdirectory), no LOOKUP, no
#    GETATTR, and the output is what it was before the remount (type,
#    mode, owner, size, mtime, link count, link target);
#  - the entries so made still follow NOTIFY: a file that modalfsctl put
#    rewrites shows its new size, one that modalfsctl rm removes is gone;
#  - rm -r of the directory after a remount sends no LOOKUP either.
. "$(dirname "$0")/../../lib.sh"
plan 33

VOL=${VOL:-vmtest-rdplus}
MNT=$TEST_TMP/mnt
STATS=$MODALFS_STATS
CTL=$MODALFSCTL
ERRNO=$MFS_TOOLS/mfs-errno
NFILES=300

require_root
require_file "$ERRNO"
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# listing DIR: what `ls -l` shows of every entry, one line each.
listing() {
	find "$1" -mindepth 1 -printf '%y %m %U %G %s %T@ %n %p %l\n' | sort
}
remount() {
	check "umount" umount "$MNT"
	check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
}

step "load, start the daemon, mount, make the tree"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" --force > /dev/null 2>&1
"$CTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$STATS" || finish
D=$MNT/t/d
check "$NFILES files of different sizes, modes and owners, and one of each other kind" \
	"$PYTHON" - "$D" "$NFILES" <<'PY_EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(d, "sub"))
os.makedirs(os.path.join(os.path.dirname(d), "other"))
for i in range(n):
    p = os.path.join(d, "f%03d" % i)
    with open(p, "wb") as f:
        f.write(b"x" * (7 * i))
    os.chmod(p, (0o600, 0o644, 0o755, 0o4750)[i % 4])
    os.chown(p, 1000 + i % 3, 2000 + i % 5)
    os.utime(p, (1500000000 + i, 1600000000 + i))
os.symlink("f001", os.path.join(d, "link"))
os.mkfifo(os.path.join(d, "fifo"), 0o640)
os.link(os.path.join(d, "f002"), os.path.join(d, "hard"))
os.link(os.path.join(d, "f003"), os.path.join(os.path.dirname(d), "other", "f003"))
PY_EOF
listing "$D" > "$TEST_TMP/before"
expect_eq "the listing has every entry" $((NFILES + 4)) "$(wc -l < "$TEST_TMP/before")"

step "a cold listing with attributes: READDIRs only"
remount
check "stat the directory (the path's own LOOKUPs)" stat "$D"
stats_snap
listing "$D" > "$TEST_TMP/after"
echo "    | requests: READDIR $(stats_since READDIR) LOOKUP $(stats_since LOOKUP) GETATTR $(stats_since GETATTR) READLINK $(stats_since READLINK) total $(stats_since total)"
check "the same entries, types, modes, owners, sizes, mtimes, link counts and targets" \
	diff "$TEST_TMP/before" "$TEST_TMP/after"
# find descends into sub, whose READDIR is the third.
expect_eq "three READDIRs ($((NFILES + 4)) entries at 256 a batch, and sub)" 3 "$(stats_since READDIR)"
expect_eq "no LOOKUP" 0 "$(stats_since LOOKUP)"
expect_eq "no GETATTR" 0 "$(stats_since GETATTR)"
check "list the other directory, which holds a hard link of f003" ls "$MNT/t/other"
stats_snap
expect_eq "the hard link there is the same inode, with 2 links" \
	"$(stat -c '%i 2' "$D/f003")" "$(stat -c '%i %h' "$MNT/t/other/f003")"
expect_eq "... and the listing made its entry: no LOOKUP" 0 "$(stats_since LOOKUP)"

step "the entries READDIR made still follow NOTIFY"
head -c 5000 /dev/zero > "$TEST_TMP/put.src"
check "modalfsctl put over f005" "$CTL" put "$VOL" "$TEST_TMP/put.src" /t/d/f005
expect_eq "stat shows the new size" 5000 "$(stat -c %s "$D/f005")"
check "modalfsctl rm f006" "$CTL" rm "$VOL" /t/d/f006
expect_eq "stat says it is gone" ENOENT "$($ERRNO stat "$D/f006")"
expect_eq "ls agrees" 0 "$(ls "$D" | grep -cx f006)"

step "rm -r after a remount: no LOOKUP per name"
remount
check "stat the directory" stat "$D"
stats_snap
check "rm -r the directory" rm -r "$D"
echo "    | requests: READDIR $(stats_since READDIR) LOOKUP $(stats_since LOOKUP) UNLINK $(stats_since UNLINK) total $(stats_since total)"
expect_eq "no LOOKUP" 0 "$(stats_since LOOKUP)"
expect_eq "it is gone" ENOENT "$($ERRNO stat "$D")"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
