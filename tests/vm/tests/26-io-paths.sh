#!/bin/bash
# I/O paths besides read/write: copy_file_range (within a mount, across two
# mounts of the volume, with offsets, and past EOF), splice and sendfile
# through a pipe, and what modalfs does not implement yet, asserted so
# that a change shows: O_DIRECT is refused with EINVAL (at open and by
# fcntl), fallocate fails with EOPNOTSUPP in modes 0, KEEP_SIZE,
# PUNCH_HOLE and ZERO_RANGE and leaves the file alone. Every copy is
# compared after dropping the page cache, so the daemon holds it too.
. "$(dirname "$0")/../../lib.sh"
plan 32

VOL=vmtest-iopaths
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
BIN=$TEST_TMP/iopaths.py
require_root
mkdir -p "$MNT" "$MNT2"
cleanup() {
	is_mounted "$MNT2" && umount "$MNT2"
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# iopaths.py DIR DIR2 phase: one "ok - "/"not ok - " line per check.
import errno, fcntl, hashlib, os, sys
d, d2, phase = sys.argv[1], sys.argv[2], sys.argv[3]
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def data(n, seed):
    out = bytearray()
    h = hashlib.sha256(seed.encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:n])


def drop():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")


def content(p):
    with open(p, "rb") as f:
        return f.read()


src = os.path.join(d, "src")
S = data(3 * 1048576 + 777, "src")
with open(src, "wb") as f:
    f.write(S)

if phase == "copy":
    # copy_file_range, whole file, same mount
    dst = os.path.join(d, "dst")
    fi, fo = os.open(src, os.O_RDONLY), os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    n = 0
    while n < len(S):
        k = os.copy_file_range(fi, fo, len(S) - n)
        if k <= 0:
            break
        n += k
    os.close(fo)
    ok(n == len(S), "copy_file_range copies the whole file (%d of %d bytes)" % (n, len(S)))
    drop()
    ok(content(dst) == S, "the copy equals the source after dropping caches")
    # with offsets into an existing file; the source's offset is untouched
    fo = os.open(dst, os.O_RDWR)
    k = os.copy_file_range(fi, fo, 100000, 12345, 2 * 1048576 + 3)
    os.close(fo)
    want = bytearray(S)
    want[2 * 1048576 + 3:2 * 1048576 + 3 + 100000] = S[12345:12345 + 100000]
    drop()
    ok(k == 100000 and content(dst) == bytes(want), "copy_file_range at offsets (%d bytes)" % k)
    ok(os.lseek(fi, 0, os.SEEK_CUR) == len(S), "the source's file offset moved only with the whole-file copy")
    # past EOF: 0 bytes
    ok(os.copy_file_range(fi, os.open(dst, os.O_WRONLY), 10, len(S) + 5) == 0,
       "copy_file_range from past EOF copies nothing")
    # across the two mounts of the volume
    dst2 = os.path.join(d2, "dst2")
    os.lseek(fi, 0, os.SEEK_SET)
    fo = os.open(dst2, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    n = 0
    while n < len(S):
        k = os.copy_file_range(fi, fo, len(S) - n)
        if k <= 0:
            break
        n += k
    os.close(fo)
    os.close(fi)
    drop()
    ok(n == len(S) and content(dst2) == S and content(os.path.join(d, "dst2")) == S,
       "copy_file_range into the second mount; both mounts see the copy")
elif phase == "splice":
    # file -> pipe -> file with splice(2)
    dst = os.path.join(d, "spliced")
    fi, fo = os.open(src, os.O_RDONLY), os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    r, w = os.pipe()
    total = 0
    while True:
        k = os.splice(fi, w, 65536)
        if k == 0:
            break
        m = 0
        while m < k:
            m += os.splice(r, fo, k - m)
        total += k
    os.close(fo)
    drop()
    ok(total == len(S) and content(dst) == S, "splice file -> pipe -> file (%d bytes)" % total)
    # from a pipe into the middle of a file
    fo = os.open(dst, os.O_WRONLY)
    os.write(w, b"Z" * 5000)
    k = os.splice(r, fo, 5000, offset_dst=1000000)
    os.close(fo)
    want = bytearray(S)
    want[1000000:1005000] = b"Z" * 5000
    drop()
    ok(k == 5000 and content(dst) == bytes(want), "splice from a pipe at an offset")
    # sendfile file -> file
    dst = os.path.join(d, "sent")
    fo = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.lseek(fi, 0, os.SEEK_SET)
    n = 0
    while n < len(S):
        k = os.sendfile(fo, fi, None, len(S) - n)
        if k == 0:
            break
        n += k
    os.close(fo)
    drop()
    ok(content(dst) == S, "sendfile file -> file (%d bytes)" % n)
elif phase == "unsupported":
    for how in ("open", "fcntl"):
        try:
            if how == "open":
                fd = os.open(src, os.O_RDONLY | os.O_DIRECT)
                os.close(fd)
                ok(False, "open(O_DIRECT) is refused with EINVAL (it succeeded)")
            else:
                fd = os.open(src, os.O_RDONLY)
                try:
                    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
                    fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_DIRECT)
                    ok(False, "fcntl(F_SETFL, O_DIRECT) is refused with EINVAL (it succeeded)")
                finally:
                    os.close(fd)
        except OSError as e:
            ok(e.errno == errno.EINVAL, "%s with O_DIRECT is refused with EINVAL (%s)" % (how, e))
    FL_KEEP_SIZE, FL_PUNCH_HOLE, FL_ZERO_RANGE = 1, 2, 16
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(src, os.O_RDWR)
    for name, mode in (("0", 0), ("KEEP_SIZE", FL_KEEP_SIZE),
                       ("PUNCH_HOLE|KEEP_SIZE", FL_PUNCH_HOLE | FL_KEEP_SIZE),
                       ("ZERO_RANGE", FL_ZERO_RANGE)):
        rc = libc.fallocate(fd, mode, ctypes.c_long(4096), ctypes.c_long(len(S) + 65536))
        e = ctypes.get_errno()
        ok(rc == -1 and e == errno.EOPNOTSUPP,
           "fallocate mode %s fails with EOPNOTSUPP (rc %d, %s)" % (name, rc, os.strerror(e)))
    os.close(fd)
    drop()
    ok(os.stat(src).st_size == len(S) and content(src) == S,
       "the refused fallocate calls left the file alone")
sys.exit(1 if failed else 0)
PY_EOF

run_checker() {	# PHASE: the checker's lines become checks
	local line st=
	(cd / && "$PYTHON" "$BIN" "$MNT/io" "$MNT2/io" "$1"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$1: ${line#ok - }" ;;
		"not ok - "*) fail "$1: ${line#not ok - }" ;;
		"exit "*) st=${line#exit } ;;
		*) echo "    | $line" ;;
		esac
	done < "$TEST_TMP/checker.out"
	check_status "$1: the checker ran to its end" "$st"
}

step "load the module, start the daemon, mount $VOL twice"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL at $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
check "mount $VOL again at $MNT2" mount -t modalfs "$VOL:/" "$MNT2" || finish
rm -rf "$MNT/io" && mkdir "$MNT/io"

step "copy_file_range"
run_checker copy
step "splice and sendfile"
run_checker splice
step "not implemented: O_DIRECT and fallocate, asserted"
run_checker unsupported

step "teardown"
check "rm -rf the test tree" rm -rf "$MNT/io"
check "umount $MNT2" umount "$MNT2"
check "umount $MNT" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
