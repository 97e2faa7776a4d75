#!/bin/bash
# Extended attributes on a modalfs mount behave as on a local filesystem:
# user./trusted./security. namespaces, CREATE/REPLACE flags, empty and
# 64 KiB values, ERANGE for short buffers (size queries included), E2BIG,
# ENODATA, EPERM/ENODATA for trusted.* without CAP_SYS_ADMIN and a list
# that hides them, user.* refused on symlinks/fifos and sticky dirs,
# ctime moved by set/remove, values kept across a remount and a daemon
# restart. The same
# checker runs first on a loop-mounted ext4, which proves the checker
# itself (ext4 has block-sized values: "small"; 6.1's tmpfs has no user.*).
. "$(dirname "$0")/../../lib.sh"
plan 136

VOL=${VOL:-vmtest-xattr}
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/xattrtest.py

require_root
mkdir -p "$MNT"
chmod 755 "$TEST_TMP"	# the unprivileged part walks through it
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# run_checker DIR [small]: the checker's ok/not ok lines become checks.
run_checker() {
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" $3; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$2${2:+: }${line#ok - }" ;;
		"not ok - "*) fail "$2${2:+: }${line#not ok - }" ;;
		"exit "*) st=${line#exit } ;;
		*) echo "    | $line" ;;
		esac
	done < "$TEST_TMP/checker.out"
	# A traceback ends the checker early: its status is a check of its own.
	check_status "$2${2:+: }the checker ran to its end" "$st"
}

write_checker() {
	cat > "$1" <<'PY_EOF'
# Extended attribute semantics, as on a local filesystem (run as root):
#   xattrtest.py DIR [small]
# "small": values are limited to a block (ext4): 64 KiB cases skipped.
import ctypes, errno, os, sys, time

libc = ctypes.CDLL(None, use_errno=True)
for fn in ("getxattr", "lgetxattr", "setxattr", "lsetxattr", "listxattr",
           "removexattr"):
    getattr(libc, fn).restype = ctypes.c_ssize_t
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def call(fn, *args):
    ctypes.set_errno(0)
    r = getattr(libc, fn)(*[a.encode() if isinstance(a, str) else a
                            for a in args])
    return r, ctypes.get_errno()


def err(e, desc, fn, *args):
    r, en = call(fn, *args)
    ok(r == -1 and en == e, "%s -> %s (got %d, %s)" %
       (desc, errno.errorcode[e], r, os.strerror(en)))


def ret(v, desc, fn, *args):
    r, en = call(fn, *args)
    ok(r == v, "%s -> %d (got %d, %s)" % (desc, v, r, os.strerror(en)))


def buf(n):
    return ctypes.create_string_buffer(n)


def names(b, n):
    return set(x.decode() for x in b.raw[:n].split(b"\0")[:-1])


def ctime(p):
    return os.stat(p).st_ctime_ns


d = sys.argv[1]
small = len(sys.argv) > 2 and sys.argv[2] == "small"
f, dd, l, fifo, sticky = (os.path.join(d, x) for x in
                          ("xf", "xd", "xl", "xp", "xs"))
open(f, "w").close()
os.chmod(f, 0o666)
os.mkdir(dd, 0o755)
os.symlink("xf", l)
os.mkfifo(fifo, 0o666)
os.mkdir(sticky)
os.chmod(sticky, 0o1777)
B = buf(70000)
NULL = None

err(errno.ENODATA, "getxattr of a missing name", "getxattr", f, "user.none", B, 70000)
c0 = ctime(f)
time.sleep(0.02)
ret(0, "setxattr user.a", "setxattr", f, "user.a", b"value1", 6, 0)
ok(ctime(f) > c0, "setxattr moves ctime forward")
ret(6, "size query (size 0)", "getxattr", f, "user.a", NULL, 0)
ret(6, "getxattr, exact buffer", "getxattr", f, "user.a", B, 6)
ok(B.raw[:6] == b"value1", "value bytes are exact")
err(errno.ERANGE, "getxattr, buffer one byte short", "getxattr", f, "user.a", B, 5)
ret(6, "getxattr, large buffer", "getxattr", f, "user.a", B, 70000)
ret(0, "setxattr replaces", "setxattr", f, "user.a", b"v2", 2, 0)
ret(2, "replaced value has the new size", "getxattr", f, "user.a", B, 70000)
ok(B.raw[:2] == b"v2", "replaced value bytes")

err(errno.EEXIST, "XATTR_CREATE on an existing name", "setxattr", f, "user.a", b"x", 1, 1)
err(errno.ENODATA, "XATTR_REPLACE on a missing name", "setxattr", f, "user.b", b"x", 1, 2)
ret(0, "XATTR_CREATE on a new name", "setxattr", f, "user.b", b"x", 1, 1)
ret(0, "XATTR_REPLACE on an existing name", "setxattr", f, "user.b", b"yy", 2, 2)
err(errno.EINVAL, "unknown flag bits", "setxattr", f, "user.b", b"x", 1, 4)

ret(0, "set an empty value", "setxattr", f, "user.empty", b"", 0, 0)
ret(0, "empty value reads back as 0 bytes", "getxattr", f, "user.empty", B, 70000)
ret(0, "empty value size query", "getxattr", f, "user.empty", NULL, 0)

want = len(b"user.a\0user.b\0user.empty\0")
ret(want, "listxattr size query", "listxattr", f, NULL, 0)
ret(want, "listxattr, exact buffer", "listxattr", f, B, want)
ok(names(B, want) == {"user.a", "user.b", "user.empty"}, "listxattr names all three")
err(errno.ERANGE, "listxattr, buffer one byte short", "listxattr", f, B, want - 1)

c0 = ctime(f)
time.sleep(0.02)
ret(0, "removexattr", "removexattr", f, "user.b")
ok(ctime(f) > c0, "removexattr moves ctime forward")
err(errno.ENODATA, "removed name is gone", "getxattr", f, "user.b", B, 70000)
err(errno.ENODATA, "removexattr of a missing name", "removexattr", f, "user.b")
n, _ = call("listxattr", f, B, 70000)
ok(n > 0 and "user.b" not in names(B, n), "removed name is not listed")

long255 = "user." + "n" * 250
err(errno.ERANGE, "256-byte name", "setxattr", f, long255 + "n", b"x", 1, 0)
ret(0, "255-byte name", "setxattr", f, long255, b"x", 1, 0)
ret(1, "255-byte name reads back", "getxattr", f, long255, B, 70000)
ret(0, "255-byte name removed", "removexattr", f, long255)
err(errno.EOPNOTSUPP, "unknown namespace", "setxattr", f, "foo.bar", b"x", 1, 0)
err(errno.EINVAL, "prefix without a name", "setxattr", f, "user.", b"x", 1, 0)

big = bytes((i * 31 + 7) & 255 for i in range(65537))
if not small:
    ret(0, "64 KiB value", "setxattr", f, "user.big", big, 65536, 0)
    ret(65536, "64 KiB value reads back", "getxattr", f, "user.big", B, 70000)
    ok(B.raw[:65536] == big[:65536], "64 KiB value bytes are exact")
    err(errno.ERANGE, "64 KiB value into 65535 bytes", "getxattr", f, "user.big", B, 65535)
    ret(65536, "64 KiB size query", "getxattr", f, "user.big", NULL, 0)
    ret(0, "64 KiB value removed", "removexattr", f, "user.big")
err(errno.E2BIG, "value of 64 KiB + 1", "setxattr", f, "user.huge", big, 65537, 0)
err(errno.ENODATA, "failed set left nothing", "getxattr", f, "user.huge", B, 70000)

ret(0, "user.* on a directory", "setxattr", dd, "user.d", b"dir", 3, 0)
ret(3, "user.* on a directory reads back", "getxattr", dd, "user.d", B, 70000)
err(errno.EPERM, "user.* on a symlink itself", "lsetxattr", l, "user.l", b"x", 1, 0)
ret(0, "trusted.* on a symlink itself", "lsetxattr", l, "trusted.l", b"sym", 3, 0)
ret(3, "trusted.* on a symlink reads back", "lgetxattr", l, "trusted.l", B, 70000)
err(errno.ENODATA, "getxattr follows the symlink", "getxattr", l, "trusted.l", B, 70000)
err(errno.EPERM, "user.* on a fifo", "setxattr", fifo, "user.p", b"x", 1, 0)

ret(0, "trusted.* as root", "setxattr", f, "trusted.t", b"tv", 2, 0)
ret(0, "security.* as root", "setxattr", f, "security.s", b"sv", 2, 0)
n, _ = call("listxattr", f, B, 70000)
ok({"trusted.t", "security.s"} <= names(B, n), "root lists trusted.* and security.*")

pid = os.fork()
if pid == 0:
    os.setgid(65534)
    os.setuid(65534)
    err(errno.EPERM, "unprivileged set of trusted.*", "setxattr", f, "trusted.u", b"x", 1, 0)
    err(errno.ENODATA, "unprivileged get of trusted.*", "getxattr", f, "trusted.t", B, 70000)
    n, _ = call("listxattr", f, NULL, 0)
    m, _ = call("listxattr", f, B, 70000)
    ok(m > 0 and m == n and "trusted.t" not in names(B, m) and "user.a" in names(B, m),
       "unprivileged list hides trusted.* and its size query agrees (%d %d)" % (n, m))
    ret(0, "unprivileged user.* on a 0666 file", "setxattr", f, "user.u", b"x", 1, 0)
    err(errno.EACCES, "unprivileged user.* on a 0755 dir of root", "setxattr", dd, "user.u", b"x", 1, 0)
    err(errno.EPERM, "unprivileged user.* on a sticky dir of root", "setxattr", sticky, "user.u", b"x", 1, 0)
    os._exit(1 if failed else 0)
_, st = os.waitpid(pid, 0)
ok(os.WIFEXITED(st), "unprivileged child ran")
sys.exit(1 if failed or st else 0)
PY_EOF
}

write_checker "$BIN"

step "the checker on ext4 (proves the checker)"
# A small ext4 on a loop device: the guest's own disks are tmpfs/9p, and
# tmpfs in 6.1 has no user.* xattrs. The debug kernel has loop built in
# and its VM no module tree, so modprobe fails there while
# /dev/loop-control exists.
REF=$TEST_TMP/ref
mkdir -p "$REF"
if { modprobe loop 2>/dev/null || [ -e /dev/loop-control ]; } && truncate -s 8M "$TEST_TMP/ref.img" &&
	mkfs.ext4 -q -F -O ^has_journal "$TEST_TMP/ref.img" &&
	mount -o loop,user_xattr "$TEST_TMP/ref.img" "$REF" 2>/dev/null; then
	chmod 755 "$REF"
	run_checker "$REF" ext4 small
	umount "$REF"
else
	fail "an ext4 image mounts for the reference run"
fi

step "mount and run the checker on modalfs"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/x" && mkdir -m 755 "$MNT/x"
run_checker "$MNT/x" modalfs

step "values survive dropping caches and a remount"
sha() { getfattr_py "$MNT/x/xf"; }
getfattr_py() {
	"$PYTHON" -c 'import os,sys,hashlib
p=sys.argv[1]
print(sorted((n, hashlib.sha256(os.getxattr(p,n,follow_symlinks=False)).hexdigest()) for n in os.listxattr(p,follow_symlinks=False)))' "$1"
}
before=$(sha)
# Python failing prints nothing to stdout: both sides would be empty.
expect_match "the xattrs to compare were read (user.* names listed)" "'user\." "$before"
drop_caches
expect_eq "xattrs after drop_caches" "$before" "$(sha)"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "xattrs after remount (from the daemon's store)" "$before" "$(sha)"
expect_eq "trusted.* on the symlink survives" "sym" \
	"$("$PYTHON" -c 'import os,sys; print(os.getxattr(sys.argv[1],"trusted.l",follow_symlinks=False).decode())' "$MNT/x/xl" 2>&1)"

step "values survive a daemon restart"
check "umount before the restart" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount after the restart" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "xattrs after a daemon restart (the new daemon's store)" "$before" "$(sha)"
expect_eq "trusted.* on the symlink survives the restart" "sym" \
	"$("$PYTHON" -c 'import os,sys; print(os.getxattr(sys.argv[1],"trusted.l",follow_symlinks=False).decode())' "$MNT/x/xl" 2>&1)"
check "rm -rf the test tree" rm -rf "$MNT/x"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
