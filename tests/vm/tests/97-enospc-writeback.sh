#!/bin/bash
# ENOSPC found during writeback (a 16 MiB store): a file written and
# fsynced before stays intact; 24 MiB written into the page cache without
# room for it is not lost silently -- write(2) or the fsync after it fails
# with ENOSPC, and a later fsync of the same descriptor returns 0 (the
# error is reported once, as on local filesystems); what the file then
# holds is, page by page, the bytes written or zeros, never other data;
# dirty pages of a shared mmap get ENOSPC from msync. Removing the files
# frees the space, writing works again, and modalfsd --check passes.
. "$(dirname "$0")/../../lib.sh"
plan 28

VOL=vmtest-wbfull
MNT=$TEST_TMP/mnt
STATE=$TEST_TMP/state
BIN=$TEST_TMP/full.py
require_root
mkdir -p "$MNT"
cleanup() { is_mounted "$MNT" && umount "$MNT"; stop_daemon; }
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# full.py keep|big|mmap|check DIR: "ok - "/"not ok - " lines
import errno, hashlib, mmap, os, sys
cmd, d = sys.argv[1], sys.argv[2]
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def page(i):
    return hashlib.sha256(b"%d" % i).digest() * 128


if cmd == "keep":
    with open(os.path.join(d, "keep"), "wb") as f:
        f.write(b"K" * (2 << 20))
        f.flush()
        os.fsync(f.fileno())
    ok(True, "2 MiB written and fsynced")
elif cmd == "big":
    fd = os.open(os.path.join(d, "big"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    werr = None
    n = 0
    for i in range(24 * 256):
        try:
            os.write(fd, page(i))
            n += 1
        except OSError as e:
            werr = e.errno
            break
    try:
        os.fsync(fd)
        ferr = 0
    except OSError as e:
        ferr = e.errno
    print("    write: %d pages then %s; fsync: %s" % (n, errno.errorcode.get(werr, "no error"),
                                                     errno.errorcode.get(ferr, "0")))
    ok(werr == errno.ENOSPC or ferr == errno.ENOSPC, "write or fsync reports ENOSPC")
    try:
        os.fsync(fd)
        again = 0
    except OSError as e:
        again = e.errno
    ok(again == 0, "the next fsync returns 0: the error was reported once (%s)" % errno.errorcode.get(again, again))
    os.close(fd)
elif cmd == "check":
    with open(os.path.join(d, "keep"), "rb") as f:
        ok(f.read() == b"K" * (2 << 20), "the file fsynced before is intact")
    with open(os.path.join(d, "big"), "rb") as f:
        data = f.read()
    bad = sum(1 for i in range(0, len(data), 4096)
              if data[i:i + 4096] not in (page(i // 4096)[:len(data[i:i + 4096])], bytes(len(data[i:i + 4096]))))
    good = sum(1 for i in range(0, len(data), 4096) if data[i:i + 4096] == page(i // 4096)[:len(data[i:i + 4096])])
    print("    big: %d bytes, %d pages as written, %d other" % (len(data), good, bad))
    ok(bad == 0, "every page of the file is what was written or zeros (%d other)" % bad)
elif cmd == "mmap":
    p = os.path.join(d, "mapped")
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, 24 << 20)
    m = mmap.mmap(fd, 24 << 20, mmap.MAP_SHARED)
    for i in range(0, 24 << 20, 4096):
        m[i:i + 8] = b"mmapdirt"
    try:
        m.flush()
        merr = 0
    except OSError as e:
        merr = e.errno
    ok(merr == errno.ENOSPC, "msync of the dirty mapping reports ENOSPC (%s)" % errno.errorcode.get(merr, merr))
    m.close()
    os.close(fd)
sys.exit(1 if failed else 0)
PY_EOF

run_checker() {	# PHASE
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$MNT"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
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

run_check "insmod" load_module || finish
run_check "modalfsd registers (16 MiB map)" start_daemon "$STATE" --map-size 16M || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount" mount -t modalfs "$VOL:/" "$MNT" || finish

step "a file kept, then 24 MiB of dirty pages into a 16 MiB store"
run_checker keep
run_checker big
drop_caches
run_checker check

step "after a daemon restart"
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
run_check "modalfsd registers again" start_daemon "$STATE" --map-size 16M || finish
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
run_checker check

step "dirty pages of a shared mapping (24 MiB, with the big file gone)"
check "rm works on the full store" rm -f "$MNT/big"
run_checker mmap

step "space comes back"
check "rm the mapped file" rm -f "$MNT/mapped"
check "writing works again" dd if=/dev/zero of="$MNT/again" bs=1M count=4 conv=fsync status=none
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check" "$MODALFSD" --check --state-dir "$STATE"
check "rmmod" rmmod modalfs
check_dmesg_clean
finish
