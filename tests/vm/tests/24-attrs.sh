#!/bin/bash
# Attributes: setgid directory inheritance, S_ISUID cleared by another
# user's write and by chown, directory mtime/ctime on create, ctime on
# link/rename, utimensat (nanoseconds, NULL, UTIME_OMIT/UTIME_NOW),
# relatime atime; then every one of them is compared after a remount and
# a daemon restart, i.e. the daemon holds what stat() showed (atime too).
# The checks run on tmpfs first, which proves them.
. "$(dirname "$0")/../../lib.sh"
plan 46

VOL=${VOL:-vmtest-attrs}
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/attrs.py

require_root
mkdir -p "$MNT"
chmod 755 "$TEST_TMP"	# another user writes below it
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_checker() {	# DIR LABEL PHASE
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$TEST_TMP/$2.json" "$3"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
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
# Attributes the kernel sets (checked), recorded, and compared again after
# a remount: attrs.py DIR STATEFILE phase1|phase2
import json, os, stat, sys, time

d, state, phase = sys.argv[1], sys.argv[2], sys.argv[3]
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def p(x):
    return os.path.join(d, x)


def st(x):
    s = os.lstat(p(x))
    return {"mode": s.st_mode, "uid": s.st_uid, "gid": s.st_gid,
            "nlink": s.st_nlink, "size": s.st_size,
            "atime": s.st_atime_ns, "mtime": s.st_mtime_ns,
            "ctime": s.st_ctime_ns}


if phase == "phase1":
    os.mkdir(p("sg"))
    os.chown(p("sg"), 0, 1234)
    os.chmod(p("sg"), 0o2775)
    open(p("sg/f"), "w").close()
    os.mkdir(p("sg/sub"))
    # setuid file written by a non-root user loses S_ISUID
    with open(p("suid"), "w") as f:
        f.write("x")
    os.chmod(p("suid"), 0o4777)
    pid = os.fork()
    if pid == 0:
        os.setgid(65534)
        os.setuid(65534)
        with open(p("suid"), "a") as f:
            f.write("y")
        os._exit(0)
    os.waitpid(pid, 0)
    # chown clears S_ISGID|S_ISUID of an executable
    with open(p("chown"), "w") as f:
        f.write("x")
    os.chmod(p("chown"), 0o6755)
    os.chown(p("chown"), 1000, 1000)
    # dir times move with create/unlink; link and rename move ctime
    os.mkdir(p("dt"))
    os.utime(p("dt"), ns=(10**18, 10**18))
    open(p("dt/a"), "w").close()
    open(p("lk"), "w").close()
    os.utime(p("lk"), ns=(10**18, 10**18))
    time.sleep(0.01)
    os.link(p("lk"), p("lk2"))
    open(p("rn"), "w").close()
    os.utime(p("rn"), ns=(10**18, 10**18))
    os.rename(p("rn"), p("rn2"))
    # utimensat with UTIME_OMIT for atime, explicit mtime
    open(p("ut"), "w").close()
    os.utime(p("ut"), ns=(1500000000 * 10**9 + 5, 1600000000 * 10**9 + 7))
    # atime: older than mtime, then a read (relatime updates it)
    with open(p("at"), "w") as f:
        f.write("data")
    os.utime(p("at"), ns=(10**18, 12 * 10**17))
    time.sleep(0.02)	# past the coarse clock tick of the ctime just set
    with open(p("at")) as f:
        f.read()
    S = {n: st(n) for n in ["sg", "sg/f", "sg/sub", "suid", "chown", "dt",
                            "lk", "lk2", "rn2", "ut", "at"]}
    ok(S["sg/f"]["gid"] == 1234, "a file in a setgid directory gets its group")
    ok(S["sg/sub"]["gid"] == 1234 and S["sg/sub"]["mode"] & stat.S_ISGID,
       "a subdirectory of a setgid directory gets its group and S_ISGID")
    ok(not S["sg/f"]["mode"] & stat.S_ISGID, "a plain file there does not get S_ISGID")
    ok(stat.S_IMODE(S["suid"]["mode"]) == 0o777,
       "a write by another user clears S_ISUID (mode %o)" % S["suid"]["mode"])
    ok(S["suid"]["size"] == 2, "that write landed")
    ok(stat.S_IMODE(S["chown"]["mode"]) == 0o755 and S["chown"]["uid"] == 1000,
       "chown clears S_ISUID and S_ISGID (mode %o)" % S["chown"]["mode"])
    ok(S["dt"]["mtime"] > 10**18 and S["dt"]["ctime"] > 10**18,
       "creating an entry moves the directory's mtime and ctime")
    ok(S["lk"]["nlink"] == 2 and S["lk"]["ctime"] > 10**18 and S["lk"]["mtime"] == 10**18,
       "link moves ctime, not mtime, and counts the link")
    ok(S["rn2"]["ctime"] > 10**18 and S["rn2"]["mtime"] == 10**18,
       "rename moves ctime, not mtime")
    ok(S["ut"]["atime"] == 1500000000 * 10**9 + 5 and S["ut"]["mtime"] == 1600000000 * 10**9 + 7,
       "utimensat sets nanoseconds exactly")
    os.utime(p("ut"))
    t = st("ut")
    ok(abs(t["mtime"] - time.time_ns()) < 5 * 10**9 and t["atime"] == t["mtime"],
       "utimensat(NULL) sets both to now")
    ok(S["at"]["atime"] > 12 * 10**17,
       "a read updates an atime older than mtime (relatime)")
    a0 = st("at")["atime"]
    with open(p("at")) as f:
        f.read()
    ok(st("at")["atime"] == a0, "a second read leaves atime alone (relatime)")
    # UTIME_OMIT for atime, UTIME_NOW for mtime (ctypes: os.utime has no OMIT)
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    class TS(ctypes.Structure):
        _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
    tv = (TS * 2)(TS(0, (1 << 30) - 2), TS(0, (1 << 30) - 1))	# OMIT, NOW
    before = st("at")
    time.sleep(0.01)
    r = libc.utimensat(-100, p("at").encode(), tv, 0)
    after = st("at")
    ok(r == 0 and after["atime"] == before["atime"] and after["mtime"] > before["mtime"]
       and after["ctime"] >= after["mtime"], "UTIME_OMIT keeps atime, UTIME_NOW sets mtime")
    S = {n: st(n) for n in S}
    json.dump(S, open(state, "w"))
    sys.exit(1 if failed else 0)
else:
    before = json.load(open(state))
    bad = 0
    for n, v in sorted(before.items()):
        now = st(n)
        for k in v:
            if now[k] != v[k]:
                print("not ok - %s %s: %r before remount, %r after" % (n, k, v[k], now[k]))
                bad += 1
    print("ok - all attributes identical after remount" if not bad else
          "not ok - %d attributes changed across remount" % bad)
    sys.exit(1 if bad else 0)
PY_EOF

step "the checks on tmpfs (proves them)"
mkdir -m 777 "$TEST_TMP/ref"
run_checker "$TEST_TMP/ref" tmpfs phase1
rm -rf "$TEST_TMP/ref"

step "the checks on modalfs"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/attrs" && mkdir -m 777 "$MNT/attrs"
chmod 777 "$MNT/attrs"
run_checker "$MNT/attrs" modalfs phase1

step "the daemon holds what stat() showed (remount, daemon restart)"
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
run_checker "$MNT/attrs" modalfs phase2
check "rm -rf the test tree" rm -rf "$MNT/attrs"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
