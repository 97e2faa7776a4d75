#!/bin/bash
# Many extended attributes on one inode: 3,000 trusted.* names (their list
# is past the 64 KiB that listxattr(2) can return), each value read back
# exactly; the size query reports the whole list, a list call with the
# largest buffer fails with E2BIG, getfattr-style reads of single names
# work; removing names until the list fits makes listxattr exact again.
# All of it after dropping caches and after a daemon restart too. The same
# checker runs on tmpfs first (trusted.* works there), proving it.
. "$(dirname "$0")/../../lib.sh"
plan 53

VOL=vmtest-xattrmany
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/many.py
require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# many.py FILE set|check|trim|checktrimmed: "ok - "/"not ok - " lines.
import ctypes, errno, os, sys
path, phase = sys.argv[1], sys.argv[2]
N = 3000
libc = ctypes.CDLL(None, use_errno=True)
libc.listxattr.restype = ctypes.c_ssize_t
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def name(i):
    return "trusted.many-attribute-name-%05d" % i


def value(i):
    return (b"v%d-" % i) * (1 + i % 40)


def listx(size):
    buf = ctypes.create_string_buffer(max(size, 1))
    n = libc.listxattr(path.encode(), buf if size else None, ctypes.c_size_t(size))
    return n, ctypes.get_errno(), buf.raw[:max(n, 0)]


def want_list(names):
    return sum(len(n) + 1 for n in names)


if phase == "set":
    open(path, "w").close()
    for i in range(N):
        os.setxattr(path, name(i), value(i))
    ok(True, "set %d trusted.* attributes" % N)
elif phase in ("check", "checktrimmed"):
    live = range(N) if phase == "check" else range(0, N, 3)
    total = want_list(name(i) for i in live)
    n, e, _ = listx(0)
    ok(n == total, "the size query reports the whole list (%d, want %d)" % (n, total))
    bad = sum(os.getxattr(path, name(i)) != value(i) for i in live)
    ok(bad == 0, "every value reads back exactly (%d wrong of %d)" % (bad, len(live)))
    if total > 65536:
        n, e, _ = listx(65536)
        ok(n == -1 and e == errno.E2BIG, "listxattr with a 64 KiB buffer: E2BIG (%d, %s)" % (n, os.strerror(e)))
        try:
            os.listxattr(path)
            ok(False, "os.listxattr of a list past 64 KiB fails with E2BIG (it worked)")
        except OSError as x:
            ok(x.errno == errno.E2BIG, "os.listxattr of a list past 64 KiB fails with E2BIG (%s)" % x)
    else:
        n, e, raw = listx(65536)
        got = sorted(raw.split(b"\0")[:-1])
        ok(got == sorted(name(i).encode() for i in live), "listxattr lists exactly the live names (%d)" % len(got))
        ok(sorted(os.listxattr(path)) == sorted(name(i) for i in live), "os.listxattr agrees")
    missing = name(1) if phase == "checktrimmed" else "trusted.not-there"
    try:
        os.getxattr(path, missing)
        ok(False, "a removed or missing name is ENODATA (it was found)")
    except OSError as x:
        ok(x.errno == errno.ENODATA, "a removed or missing name is ENODATA (%s)" % x)
elif phase == "trim":
    for i in range(N):
        if i % 3:
            os.removexattr(path, name(i))
    ok(True, "removed two names in three")
sys.exit(1 if failed else 0)
PY_EOF

run_checker() {	# FILE PHASE LABEL
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$2"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$3 $2: ${line#ok - }" ;;
		"not ok - "*) fail "$3 $2: ${line#not ok - }" ;;
		"exit "*) st=${line#exit } ;;
		*) echo "    | $line" ;;
		esac
	done < "$TEST_TMP/checker.out"
	check_status "$3 $2: the checker ran to its end" "$st"
}

step "the checker on tmpfs (proves it)"
run_checker "$TEST_TMP/f" set tmpfs
run_checker "$TEST_TMP/f" check tmpfs
run_checker "$TEST_TMP/f" trim tmpfs
run_checker "$TEST_TMP/f" checktrimmed tmpfs
rm -f "$TEST_TMP/f"

step "on modalfs"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
run_checker "$MNT/f" set modalfs
drop_caches
run_checker "$MNT/f" check modalfs

step "after a daemon restart, then trimmed"
check "umount" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
run_checker "$MNT/f" check modalfs-restarted
run_checker "$MNT/f" trim modalfs
drop_caches
run_checker "$MNT/f" checktrimmed modalfs
check "rm the file" rm -f "$MNT/f"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
