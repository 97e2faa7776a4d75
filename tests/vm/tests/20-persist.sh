#!/bin/bash
# A persisted volume: create it, mount it, write a 10 MiB file and a small
# tree with fsync, read everything back byte-identical (from the daemon,
# not the page cache), then again after unmount + daemon restart. The
# expected manifest is kept on the state disk for 30-reboot.sh, which runs
# in the next VM boot.
. "$(dirname "$0")/../../lib.sh"
plan 30

VOL=${VOL:-vmtest-persist}
MNT=$TEST_TMP/mnt
SRC=$TEST_TMP/src

require_root
mkdir -p "$MNT" "$SRC" "$TEST_RECORDS"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

step "build the source tree in scratch space"
"$PYTHON" - "$SRC" <<'PY'
import os, sys
src = sys.argv[1]
def put(path, data):
    p = os.path.join(src, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
put("big.bin", os.urandom(10 * 1024 * 1024))
put("tree/hello.txt", b"hello modalfs\n")
put("tree/empty", b"")
put("tree/a/page-plus-one.bin", os.urandom(4097))
put("tree/a/b/io-max-plus-one.bin", os.urandom(65537))
put("tree/a/b/c/deep.txt", b"deep\n" * 1000)
put("tree/a/b/c/d/odd-size.bin", os.urandom(123457))
os.makedirs(os.path.join(src, "tree/empty-dir"))
PY
manifest "$SRC" > "$TEST_TMP/expected.manifest"
echo "    | $(wc -l < "$TEST_TMP/expected.manifest") entries, $(du -sh "$SRC" | cut -f1)"

step "load the module and start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish

step "modalfsctl persisted $VOL"
app1=$("$MODALFSCTL" persisted "$VOL")
expect_match "persisted prints an app id" '^ap-[A-Za-z0-9]+$' "$app1" || finish
app2=$("$MODALFSCTL" persisted "$VOL")
expect_eq "persisted is idempotent (same app id)" "$app1" "$app2"
expect_match "modalfsctl list shows $VOL" "$VOL" "$("$MODALFSCTL" list 2>&1)"

step "mount -t modalfs $VOL:/ and write with fsync"
check "mount -t modalfs $VOL:/ $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_match "mount is listed in /proc/mounts as modalfs" "$MNT modalfs" "$(cat /proc/mounts)"
rm -rf "$MNT/persist-test"	# left over from an earlier run on a real host
check "copy the tree in with fsync on every file and directory" \
	"$PYTHON" - "$SRC" "$MNT/persist-test" <<'PY'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
def fsync_dir(d):
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
os.mkdir(dst)
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    d = dst if rel == "." else os.path.join(dst, rel)
    for n in dirs:
        os.mkdir(os.path.join(d, n))
    for n in files:
        with open(os.path.join(root, n), "rb") as f, open(os.path.join(d, n), "wb") as g:
            shutil.copyfileobj(f, g, 1 << 20)
            g.flush()
            os.fsync(g.fileno())
    fsync_dir(d)
fsync_dir(os.path.dirname(dst))
PY
check "sync -f on the volume" sync -f "$MNT"

verify() {	# DESC
	local got=$TEST_TMP/got.manifest
	manifest "$MNT/persist-test" > "$got" 2>&1
	if diff -u "$TEST_TMP/expected.manifest" "$got" > "$TEST_TMP/diff" 2>&1; then
		pass "$1"
	else
		head -n 40 "$TEST_TMP/diff" | sed 's/^/    | /'
		fail "$1"
	fi
}

verify "read back from the page cache: identical"
drop_caches
verify "read back after dropping caches: identical"
check "cmp the 10 MiB file" cmp "$SRC/big.bin" "$MNT/persist-test/big.bin"

step "rmmod while mounted fails"
out=$("$MFS_TOOLS/mfs-rmmod" modalfs)
expect_match "rmmod modalfs while mounted -> EBUSY/EAGAIN (in use)" '^(EBUSY|EAGAIN)$' "$out"
check "module is still loaded" module_loaded || finish

step "unmount, restart the daemon, remount"
check "umount $MNT" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
expect_eq "persisted after restart returns the same app id" "$app1" "$("$MODALFSCTL" persisted "$VOL")"
check "mount -t modalfs $VOL:/ $MNT again" mount -t modalfs "$VOL:/" "$MNT" || finish
verify "after unmount + daemon restart + remount: identical"

step "sub-path mount $VOL:/persist-test/tree"
mkdir -p "$TEST_TMP/sub"
if check "mount -t modalfs $VOL:/persist-test/tree" mount -t modalfs "$VOL:/persist-test/tree" "$TEST_TMP/sub"; then
	check "sub-path mount shows the sub-tree" cmp "$SRC/tree/a/b/c/deep.txt" "$TEST_TMP/sub/a/b/c/deep.txt"
	check "umount the sub-path mount" umount "$TEST_TMP/sub"
fi

step "keep the expected manifest on the state disk for the reboot test"
cp "$TEST_TMP/expected.manifest" "$TEST_RECORDS/persist.manifest" &&
	echo "$VOL $app1" > "$TEST_RECORDS/persist.volume" && sync -f "$TEST_RECORDS/persist.manifest"
check "records saved in $TEST_RECORDS" test -s "$TEST_RECORDS/persist.manifest"

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload

check_dmesg_clean
finish
