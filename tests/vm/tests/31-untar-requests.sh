#!/bin/bash
# Requests per file of an untar (issue 11): GNU tar extracts 200 files in
# 10 directories (owner, mode and mtime restored, as root does), then
# sync; the kernel's debugfs counters (modalfs/stats) must show at most
# MAX_PER_FILE requests per file, no GETXATTR (a file this kernel created
# has no xattrs), no LOOKUP before a file's CREATE (atomic_open) and no
# SETATTR of its own for a file: fchown, fchmod, futimens and write_inode
# together ride on the file's WRITE (MODALFS_A_SETATTR). The
# tree then reads back right after a remount, i.e. the coalesced
# attributes reached the daemon. Also: a capability set on a fresh file
# is still removed by a write (the cached "no xattrs" is dropped by
# SETXATTR, also through a second mount), fdatasync sends no SETATTR,
# fsync sends the pending attributes (on the WRITE, or as one SETATTR).
. "$(dirname "$0")/../../lib.sh"
plan 33

VOL=${VOL:-vmtest-untar}
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
SRC=$TEST_TMP/src
TARBALL=$TEST_TMP/tree.tar
STATS=$MODALFS_STATS
NFILES=200
NDIRS=10
# The issue's target is 3 per file: CREATE, WRITE and one SETATTR. A file's
# attributes now travel on its WRITE, which leaves room for the 11
# directories (10 and the top): a LOOKUP, MKDIR, a GETATTR and tar's chown,
# chmod and utimes each, about 0.33 per file.
MAX_PER_FILE=${MAX_PER_FILE:-3}

require_root
mkdir -p "$MNT" "$MNT2"
cleanup() {
	is_mounted "$MNT2" && umount "$MNT2"
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

step "build the archive (on tmpfs): $NDIRS directories of $((NFILES / NDIRS)) files"
"$PYTHON" - "$SRC" "$NDIRS" "$NFILES" <<'PY_EOF'
import os, sys
src, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for d in range(ndirs):
    dp = os.path.join(src, "d%02d" % d)
    os.makedirs(dp)
    for f in range(nfiles // ndirs):
        p = os.path.join(dp, "f%03d" % f)
        with open(p, "wb") as fh:
            fh.write(os.urandom(100 + 37 * f))
        os.chown(p, 1000 + d, 2000 + f)
        os.chmod(p, 0o640 if f % 2 else 0o755)
        os.utime(p, (1500000000 + f, 1600000000 + 100 * d + f))
    os.chown(dp, 3000 + d, 4000)
    os.chmod(dp, 0o750)
    os.utime(dp, (1400000000, 1450000000 + d))
PY_EOF
check "tar -cf the source tree" tar -C "$SRC" -cf "$TARBALL" .

step "untar onto modalfs and count the requests"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/t" && mkdir "$MNT/t" && sync
check "debugfs modalfs/stats is readable" test -r "$STATS"
cat "$STATS" > "$TEST_TMP/stats.before" 2>/dev/null
t0=$(date +%s%N)
check "tar -xf onto modalfs" tar -C "$MNT/t" -xf "$TARBALL"
check "sync" sync
t1=$(date +%s%N)
cat "$STATS" > "$TEST_TMP/stats.after" 2>/dev/null
delta() {	# OP: requests of OP between the two snapshots
	local a b
	a=$(awk -v op="$1" '$1 == op { n = $2 } END { print n + 0 }' "$TEST_TMP/stats.before")
	b=$(awk -v op="$1" '$1 == op { n = $2 } END { print n + 0 }' "$TEST_TMP/stats.after")
	echo $((b - a))
}
echo "    | untar + sync: $(( (t1 - t0) / 1000000 )) ms; requests by op:"
for op in LOOKUP CREATE MKDIR WRITE SETATTR GETATTR GETXATTR FSYNC total; do
	echo "    |   $op $(delta $op)"
done
echo "    | modalfs/stats afterwards (since the module was loaded):"
sed 's/^/    |   /' "$TEST_TMP/stats.after"
total=$(delta total)
per_file=$(awk -v t="$total" -v n="$NFILES" 'BEGIN { printf "%.2f", t / n }')
echo "    | requests per file: $per_file (target <= $MAX_PER_FILE)"
expect_eq "the counters saw the untar (a CREATE per file)" "$NFILES" "$(delta CREATE)"
expect_eq "no GETXATTR for files this kernel created" 0 "$(delta GETXATTR)"
check "no LOOKUP before an O_EXCL create: one per directory ($(delta LOOKUP))" \
	test "$(delta LOOKUP)" -le $((NDIRS + 1))
# A flusher pass during the untar may write a file back before tar's
# chmod and utimes, which are then sent on their own: 10% slack (a CI run
# on a loaded host saw 12 such files of 200; without the WRITE's SETATTR
# every file has one).
check "no SETATTR of a file's own, three per directory ($(delta SETATTR))" \
	test "$(delta SETATTR)" -le $((3 * (NDIRS + 1) + NFILES / 10))
check "at most $MAX_PER_FILE requests per file ($per_file)" \
	awk -v p="$per_file" -v m="$MAX_PER_FILE" 'BEGIN { exit !(p > 0 && p <= m) }'

step "the tree reads back after a remount (the daemon has the attributes)"
listing() {	# DIR: type, mode, owner, mtime of every entry, sha of every file
	(cd "$1" && find . -mindepth 1 -printf '%y %m %U %G %T@ %p\n' | sort &&
	 find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
listing "$SRC" > "$TEST_TMP/src.list"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
listing "$MNT/t" > "$TEST_TMP/mfs.list"
check "modes, owners, mtimes and data match the source" \
	diff "$TEST_TMP/src.list" "$TEST_TMP/mfs.list"

step "the cached absence of xattrs ends where one is set"
"$PYTHON" - "$MNT/t" <<'PY_EOF' > "$TEST_TMP/xattr.out" 2>&1
import errno, os, struct, sys
d = sys.argv[1]
# A VFS_CAP_REVISION_2 capability (CAP_NET_RAW permitted, effective).
cap = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)
p = os.path.join(d, "capfile")
fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o755)
os.write(fd, b"x")
os.setxattr(p, "security.capability", cap)
print("set", os.getxattr(p, "security.capability") == cap)
os.write(fd, b"y")   # a write drops the capability (file_remove_privs)
try:
    os.getxattr(p, "security.capability")
    print("after-write present")
except OSError as e:
    print("after-write", errno.errorcode[e.errno])
os.close(fd)
PY_EOF
sed 's/^/    | /' "$TEST_TMP/xattr.out"
expect_match "security.capability set on a fresh file is read back" "^set True$" "$(cat "$TEST_TMP/xattr.out")"
expect_match "a write removes it (ENODATA afterwards)" "^after-write ENODATA$" "$(cat "$TEST_TMP/xattr.out")"
check "mount the volume a second time" mount -t modalfs "$VOL:/" "$MNT2"
: > "$MNT/t/fresh2"
setx() { "$PYTHON" -c 'import os,sys; os.setxattr(sys.argv[1], "user.k", b"v")' "$1"; }
getx() { "$PYTHON" -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.k").decode())' "$1" 2>&1; }
check "user.k set through the second mount" setx "$MNT2/t/fresh2"
expect_eq "the first mount reads it" v "$(getx "$MNT/t/fresh2")"
check "umount the second mount" umount "$MNT2"

step "fdatasync sends no SETATTR; fsync sends the pending one"
"$PYTHON" - "$MNT/t/syncfile" "$STATS" <<'PY_EOF' > "$TEST_TMP/sync.out" 2>&1
import os, sys
p, stats = sys.argv[1], sys.argv[2]
def setattrs():
    for line in open(stats):
        f = line.split()
        if f[0] == "SETATTR":
            return int(f[1])
    return 0
fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"a" * 5000)
os.fsync(fd)
n = setattrs()
os.pwrite(fd, b"b" * 100, 4096)
os.fdatasync(fd)
print("fdatasync", setattrs() - n)
os.close(fd)
# A new file, as tar writes one: its chmod and utimes wait for fsync.
fd = os.open(p + "2", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
n = setattrs()
os.write(fd, b"c" * 5000)
os.fchmod(fd, 0o600)
os.utime(fd, (1234567890, 1234567890))
os.fsync(fd)
print("fsync", setattrs() - n)
os.close(fd)
PY_EOF
sed 's/^/    | /' "$TEST_TMP/sync.out"
expect_match "fdatasync after a write sends no SETATTR" "^fdatasync 0$" "$(cat "$TEST_TMP/sync.out")"
# None: the attributes ride on the WRITE that fsync sends. One or two when
# a flusher pass wrote the file back between the calls (from then on a
# change is sent at once); the kernel before piggybacking sent 1 to 3.
expect_match "write, fchmod, futimens and fsync of a new file: at most 2 SETATTRs" "^fsync [012]$" "$(cat "$TEST_TMP/sync.out")"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "mode and mtime of the fsynced file after a remount" "600 1234567890 5000" \
	"$(stat -c '%a %Y %s' "$MNT/t/syncfile2" 2>&1)"
check "rm -rf the test tree" rm -rf "$MNT/t"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
