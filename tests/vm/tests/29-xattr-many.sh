#!/bin/bash
# Many extended attributes on one inode: up to 3,000 trusted.* names,
# 102,000 bytes of list, past the 64 KiB listxattr(2) can return. Either
# the filesystem takes them all (tmpfs): the size query reports the whole
# list and a list call fails with E2BIG; or it refuses the name that would
# take the list past 64 KiB with ENOSPC (modalfs, like ext4 when a block
# is full), and only that close to the limit: then the list stays exact.
# Every value set reads back exactly; removing two names in three makes
# the list exact again. After dropping caches and a daemon restart too.
# The same checker runs on tmpfs first (trusted.* works there).
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
# many.py FILE set|check|trim|checktrimmed COUNTFILE: "ok - "/"not ok - "
# lines; COUNTFILE keeps how many names the set phase could set.
import ctypes, errno, os, sys
path, phase, countfile = sys.argv[1], sys.argv[2], sys.argv[3]
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
    k, err = 0, 0
    for i in range(N):
        try:
            os.setxattr(path, name(i), value(i))
        except OSError as e:
            err = e.errno
            break
        k += 1
    with open(countfile, "w") as f:
        f.write("%d" % k)
    listed = want_list(name(i) for i in range(k))
    ok(k == N or (err == errno.ENOSPC and 65536 - 64 < listed + len(name(k)) + 1 and listed <= 65536),
       "set %d of %d names (%d bytes of list), then %s" % (k, N, listed, errno.errorcode.get(err, "done")))
elif phase in ("check", "checktrimmed"):
    k = int(open(countfile).read())
    live = range(k) if phase == "check" else range(0, k, 3)
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
    for i in range(int(open(countfile).read())):
        if i % 3:
            os.removexattr(path, name(i))
    ok(True, "removed two names in three")
sys.exit(1 if failed else 0)
PY_EOF

run_checker() {	# FILE PHASE LABEL
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$2" "$TEST_TMP/${3%%-*}.count"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
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
