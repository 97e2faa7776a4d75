#!/bin/bash
# Directory listing: N entries (1,500: six READDIR batches, two getdents
# calls; MODALFS_LONG=1: 20,000, as 81-posix covers 100,000 in long mode;
# MODALFS_READDIR_N overrides), every name exactly once, telldir/seekdir positions
# that stay valid while entries are unlinked and created and in a newly
# opened stream, one pass during churn returns every survivor once,
# rewinddir sees the new state, lseek rules. The checker runs on tmpfs
# first (without the stability checks: tmpfs positions are ordinals).
. "$(dirname "$0")/../../lib.sh"
plan 41

VOL=${VOL:-vmtest-readdir}
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/dirtest.py
if [ -n "${MODALFS_LONG:-}" ]; then N=20000; else N=1500; fi
N=${MODALFS_READDIR_N:-$N}

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_checker() {	# DIR LABEL [stable]
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$N" $3; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$2: ${line#ok - }" ;;
		"not ok - "*) fail "$2: ${line#not ok - }" ;;
		"exit "*) st=${line#exit } ;;
		*) echo "    | $line" ;;
		esac
	done < "$TEST_TMP/checker.out"
	# A traceback ends the checker early: its status is a check of its own.
	check_status "$2: the checker ran to its end" "$st"
}

cat > "$BIN" <<'PY_EOF'
# readdir/telldir/seekdir over many entries: dirtest.py DIR N [stable]
# "stable": positions must survive unlinks and creates (modalfs cookies;
# tmpfs positions are ordinals, so the reference run leaves that out).
import ctypes, os, random, sys

libc = ctypes.CDLL(None, use_errno=True)


class Dirent(ctypes.Structure):
    _fields_ = [("d_ino", ctypes.c_uint64), ("d_off", ctypes.c_int64),
                ("d_reclen", ctypes.c_uint16), ("d_type", ctypes.c_uint8),
                ("d_name", ctypes.c_char * 256)]


libc.opendir.restype = ctypes.c_void_p
libc.opendir.argtypes = (ctypes.c_char_p,)
libc.readdir.restype = ctypes.POINTER(Dirent)
libc.readdir.argtypes = (ctypes.c_void_p,)
libc.telldir.restype = ctypes.c_long
libc.telldir.argtypes = (ctypes.c_void_p,)
libc.seekdir.argtypes = (ctypes.c_void_p, ctypes.c_long)
libc.rewinddir.argtypes = (ctypes.c_void_p,)
libc.closedir.argtypes = (ctypes.c_void_p,)
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def rd(dp):
    e = libc.readdir(dp)
    return e.contents.d_name.decode() if e else None


def listing(dp, with_pos=False):
    out = []
    while True:
        n = rd(dp)
        if n is None:
            return out
        out.append((n, libc.telldir(dp)) if with_pos else n)


d, n = sys.argv[1], int(sys.argv[2])
stable = "stable" in sys.argv[3:]
names = ["f%07d" % i for i in range(n)]
for x in names:
    os.close(os.open(os.path.join(d, x), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
os.mkdir(os.path.join(d, "sub"))

dp = libc.opendir(d.encode())
ents = listing(dp, True)
seen = [e[0] for e in ents]
ok(len(seen) == len(set(seen)), "no name is returned twice")
ok(sorted(seen) == sorted(names + ["sub", ".", ".."]),
   "all %d entries, '.' and '..' once each (got %d)" % (n + 3, len(seen)))
ok(sorted(os.listdir(d)) == sorted(names + ["sub"]), "os.listdir agrees")

rnd = random.Random(7)
bad = 0
for _ in range(300):
    k = rnd.randrange(len(ents) - 1)
    libc.seekdir(dp, ents[k][1])
    if rd(dp) != ents[k + 1][0]:
        bad += 1
ok(bad == 0, "seekdir(telldir()) continues right after that entry (300 tries, %d wrong)" % bad)
libc.seekdir(dp, ents[-1][1])
ok(rd(dp) is None, "seekdir to the last position is the end")
libc.seekdir(dp, ents[0][1])
ok(rd(dp) == ents[1][0], "seekdir to the first position")

# One pass while entries come and go: every survivor exactly once.
libc.rewinddir(dp)
gone = set(names[1::3])
seen = []
for i in range(len(ents) + 200):
    x = rd(dp)
    if x is None:
        break
    seen.append(x)
    if i == 10:
        for g in gone:
            os.unlink(os.path.join(d, g))
        for j in range(100):
            os.close(os.open(os.path.join(d, "new%03d" % j), os.O_CREAT | os.O_WRONLY, 0o644))
surv = set(names) - gone
ok(len(seen) == len(set(seen)), "a pass during unlinks/creates returns no name twice")
ok(surv <= set(seen), "a pass during unlinks/creates returns every survivor (%d missing)"
   % len(surv - set(seen)))

if stable:
    bad = 0
    for _ in range(300):
        k = rnd.randrange(len(ents) - 1)
        libc.seekdir(dp, ents[k][1])
        want = next((e[0] for e in ents[k + 1:] if e[0] not in gone), None)
        got = rd(dp)
        while got is not None and got.startswith("new"):
            got = rd(dp)		# new entries may land anywhere after
        if got != want:
            bad += 1
    ok(bad == 0, "old positions survive unlinks and creates (300 tries, %d wrong)" % bad)

libc.rewinddir(dp)
after = listing(dp)
ok(sorted(after) == sorted(list(surv) + ["new%03d" % j for j in range(100)] + ["sub", ".", ".."]),
   "rewinddir shows the directory as it is now")
libc.closedir(dp)

fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
try:
    os.lseek(fd, 0, os.SEEK_END)
    ok(False, "lseek(SEEK_END) on a directory is EINVAL")
except OSError as e:
    ok(e.errno == 22, "lseek(SEEK_END) on a directory is EINVAL (%s)" % e)
ok(os.lseek(fd, 0, os.SEEK_SET) == 0, "lseek(0) on a directory")
os.close(fd)

if stable:
    # Positions are cookies: valid in another stream, opened later.
    dp = libc.opendir(d.encode())
    bad = 0
    for _ in range(100):
        k = rnd.randrange(len(ents) - 1)
        libc.seekdir(dp, ents[k][1])
        want = next((e[0] for e in ents[k + 1:] if e[0] not in gone), None)
        if rd(dp) != want:
            bad += 1
    ok(bad == 0, "positions are valid in a newly opened stream (%d wrong)" % bad)
    big = max(e[1] for e in ents)
    libc.seekdir(dp, big + 1000000)
    ok(rd(dp) is None, "seekdir past every cookie is the end")
    libc.closedir(dp)
sys.exit(1 if failed else 0)
PY_EOF

step "the checker on tmpfs with $N entries (proves the checker)"
mkdir -p "$TEST_TMP/ref"
run_checker "$TEST_TMP/ref" tmpfs
rm -rf "$TEST_TMP/ref"

step "mount and run the checker on modalfs with $N entries"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/dir" && mkdir "$MNT/dir"
run_checker "$MNT/dir" modalfs stable

step "the listing survives a remount"
# Kept in files, with ls's status: a missing directory lists nothing on
# both sides, which must not compare equal.
ls -f "$MNT/dir" | sort > "$TEST_TMP/before.ls"
check "the directory lists before the remount (more than . and ..)" \
	test "$(wc -l < "$TEST_TMP/before.ls")" -gt 2
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
ls -f "$MNT/dir" > "$TEST_TMP/after.unsorted" 2>&1
sort "$TEST_TMP/after.unsorted" > "$TEST_TMP/after.ls"
check "same names after remount" cmp "$TEST_TMP/before.ls" "$TEST_TMP/after.ls"
check "rm -rf the test tree" rm -rf "$MNT/dir"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
