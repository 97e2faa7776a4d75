#!/bin/bash
# Offsets past 4 GiB and the size limit: 48 MiB written densely across the
# 4 GiB boundary (and a page straddling it, and one at 17 GiB) read back
# exactly after dropping the page cache and after a daemon restart; the
# holes read as zeros and st_size / st_blocks say so; truncating down
# across the boundary drops the tail. s_maxbytes is MAX_LFS_FILESIZE, the
# largest off_t: a write ending there works, one starting there overflows
# (EINVAL), ftruncate to it works and lseek(SEEK_END) agrees. EFBIG comes
# from the file size limit (RLIMIT_FSIZE): a write at it, a write across
# it is cut short, ftruncate past it. The limits run on tmpfs first, which
# has the same s_maxbytes, to prove the checks.
. "$(dirname "$0")/../../lib.sh"
plan 54

VOL=vmtest-bigfile
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/big.py
require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# big.py FILE write|verify|limits: one "ok - "/"not ok - " line per check.
import errno, hashlib, os, sys
path, phase = sys.argv[1], sys.argv[2]
G = 1 << 30
START, LEN = 4 * G - 16 * 1048576, 48 * 1048576
MAXB = (1 << 63) - 1		# MAX_LFS_FILESIZE on 64-bit
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def chunk(off, n):
    h = hashlib.sha256(b"%d" % off).digest()
    return (h * (n // len(h) + 1))[:n]


def errno_of(f, *a):
    try:
        f(*a)
        return 0
    except OSError as e:
        return e.errno


if phase == "write":
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    for off in range(START, START + LEN, 1048576):
        os.pwrite(fd, chunk(off, 1048576), off)
    os.pwrite(fd, chunk(4 * G - 2048, 4096), 4 * G - 2048)
    os.pwrite(fd, chunk(17 * G, 4096), 17 * G)
    os.fsync(fd)
    os.close(fd)
    ok(True, "wrote 48 MiB across 4 GiB, a page straddling it and one at 17 GiB, fsync")
elif phase == "verify":
    fd = os.open(path, os.O_RDONLY)
    bad = 0
    for off in range(START, START + LEN, 1048576):
        want = bytearray(chunk(off, 1048576))
        lo, hi = 4 * G - 2048, 4 * G + 2048
        a, b = max(lo, off), min(hi, off + 1048576)
        if a < b:
            want[a - off:b - off] = chunk(lo, 4096)[a - lo:b - lo]
        bad += os.pread(fd, 1048576, off) != bytes(want)
    ok(bad == 0, "48 MiB across 4 GiB read back exactly (%d MiB wrong)" % bad)
    ok(os.pread(fd, 4096, 4 * G - 2048) == chunk(4 * G - 2048, 4096), "the page straddling 4 GiB")
    ok(os.pread(fd, 4096, 17 * G) == chunk(17 * G, 4096), "the page at 17 GiB")
    ok(os.pread(fd, 65536, 2 * G) == bytes(65536) and os.pread(fd, 4096, 10 * G) == bytes(4096),
       "the holes read as zeros")
    st = os.fstat(fd)
    ok(st.st_size == 17 * G + 4096, "st_size is 17 GiB + 4 KiB (%d)" % st.st_size)
    ok(LEN // 512 <= st.st_blocks < 4 * G // 512,
       "st_blocks counts the data, not the holes (%d)" % st.st_blocks)
    os.close(fd)
elif phase == "limits":
    import resource, signal
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, 4 * G + 5)
    ok(os.fstat(fd).st_size == 4 * G + 5, "ftruncate to 4 GiB + 5")
    # s_maxbytes is the largest off_t: a write starting there overflows
    # the file position (EINVAL); one ending there is allowed.
    ok(errno_of(os.pwrite, fd, b"x", MAXB) == errno.EINVAL, "a write at s_maxbytes fails with EINVAL")
    n = os.pwrite(fd, b"x", MAXB - 1)
    ok(n == 1 and os.pread(fd, 1, MAXB - 1) == b"x", "a write ending at s_maxbytes works and reads back")
    ok(os.fstat(fd).st_size == MAXB, "st_size is s_maxbytes")
    ok(os.lseek(fd, 0, os.SEEK_END) == MAXB, "lseek(SEEK_END) is s_maxbytes")
    ok(errno_of(os.ftruncate, fd, -1) == errno.EINVAL, "ftruncate to a negative size fails with EINVAL")
    os.ftruncate(fd, 0)
    ok(os.fstat(fd).st_size == 0, "ftruncate back to 0")
    # The file size limit of the process: EFBIG, and nothing past it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (5 * G, resource.RLIM_INFINITY))
    ok(errno_of(os.pwrite, fd, b"y", 5 * G) == errno.EFBIG, "a write at RLIMIT_FSIZE (5 GiB) fails with EFBIG")
    n = os.pwrite(fd, b"abc", 5 * G - 1)
    ok(n == 1 and os.fstat(fd).st_size == 5 * G, "a write across RLIMIT_FSIZE is cut short there (%d of 3)" % n)
    ok(errno_of(os.ftruncate, fd, 5 * G + 1) == errno.EFBIG, "ftruncate past RLIMIT_FSIZE fails with EFBIG")
    os.close(fd)
sys.exit(1 if failed else 0)
PY_EOF

run_checker() {	# PHASE FILE
	local line st=
	(cd / && "$PYTHON" "$BIN" "$2" "$1"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
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

step "load the module, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "dense I/O across 4 GiB"
run_checker write "$MNT/big"
drop_caches
run_checker verify "$MNT/big"

step "after a daemon restart"
check "umount" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
run_checker verify "$MNT/big"
check "truncate down across 4 GiB" truncate -s $((4 * 1024 * 1024 * 1024 - 1000)) "$MNT/big"
drop_caches
expect_eq "the tail is gone, the rest stays" "$((4 * 1024 * 1024 * 1024 - 1000))" "$(stat -c %s "$MNT/big")"
rm -f "$MNT/big"

step "the size limits on tmpfs (proves the checks)"
run_checker limits "$TEST_TMP/limit"
rm -f "$TEST_TMP/limit"
step "the size limits on modalfs"
run_checker limits "$MNT/limit"
rm -f "$MNT/limit"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
