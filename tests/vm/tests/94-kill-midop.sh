#!/bin/bash
# kill -9 of modalfsd in the middle of three long operations, each resumed
# by a new daemon (hard mount: the kernel resends what was in flight):
#   - readdir of a large directory, read slowly: the listing goes on from its
#     position (the cookies stay valid across daemons), every name once;
#   - write faults through a shared mmap of a file whose pages are
#     not cached (each fault reads from the daemon): all the writes land;
#   - a sequential read (readahead) from a cold cache: the bytes
#     read equal the file's.
# After each: the file or listing checked after dropping caches, and a
# clean kernel log at the end. Sizes: 1,500 entries, 8 MiB and 12 MiB
# (the kill still lands mid-operation: after 200 names, 1 MiB of faults
# and 4 MiB read); MODALFS_LONG=1: 3,000, 16 MiB and 24 MiB.
. "$(dirname "$0")/../../lib.sh"
plan 28

VOL=vmtest-killmid
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/mid.py
require_root
mkdir -p "$MNT"
if [ -n "${MODALFS_LONG:-}" ]; then NENT=3000 MAPMB=16 READMB=24; else NENT=1500 MAPMB=8 READMB=12; fi
cleanup() {
	[ -n "${OP:-}" ] && kill "$OP" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# mid.py readdir DIR N | mmap FILE GOFILE | read FILE GOFILE: prints "started" once the
# operation is under way, then its verdict; exit 0 iff right.
import hashlib, mmap, os, sys, time
cmd, p = sys.argv[1], sys.argv[2]
if cmd == "readdir":
    n = int(sys.argv[3])
    names = []
    with os.scandir(p) as it:
        for i, e in enumerate(it):
            names.append(e.name)
            if i == 200:
                print("started", flush=True)
            if i >= 200:
                time.sleep(0.002)
    s = set(names)
    want = {"e%05d" % i for i in range(n)}
    print("readdir: %d names, %d distinct, %d missing, %d unknown"
          % (len(names), len(s), len(want - s), len(s - want)))
    sys.exit(0 if len(names) == len(s) and s == want else 1)
if cmd == "mmap":
    fd = os.open(p, os.O_RDWR)
    size = os.fstat(fd).st_size
    m = mmap.mmap(fd, size, mmap.MAP_SHARED)
    for pg in range(size // 4096):
        m[pg * 4096 + 7] = (pg * 13 + 1) % 256
        if pg == 256:
            print("started", flush=True)
            # Fault-around reads up to a 4 MiB readahead window at once:
            # go on only once the daemon is dead, so later faults need it.
            while not os.path.exists(sys.argv[3]):
                time.sleep(0.01)
        if pg >= 256 and pg % 64 == 0:
            time.sleep(0.01)
    m.flush()
    m.close()
    os.close(fd)
    print("mmap: wrote one byte in each of %d pages" % (size // 4096))
    sys.exit(0)
if cmd == "read":
    h = hashlib.sha256()
    with open(p, "rb", buffering=0) as f:
        n = 0
        while True:
            b = f.read(65536)
            if not b:
                break
            h.update(b)
            n += len(b)
            if n == 4 << 20:
                print("started", flush=True)
                # Go on only once the daemon is dead, so that the rest of
                # the file (past the 1 MiB readahead window) must wait for
                # the next daemon however fast this host reads.
                while not os.path.exists(sys.argv[3]):
                    time.sleep(0.01)
            if n >= 4 << 20:
                time.sleep(0.001)
    print(h.hexdigest())
    sys.exit(0)
PY_EOF

# during DESC CMD...: runs CMD in the background, kills the daemon once CMD
# said "started", starts a new daemon after a second, and waits for CMD.
during() {
	local desc=$1 i rc
	shift
	rm -f "$TEST_TMP/go"
	"$@" > "$TEST_TMP/op.out" 2>&1 & OP=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^started' "$TEST_TMP/op.out" && break
		kill -0 "$OP" 2>/dev/null || break
		sleep 0.05
	done
	check "$desc: the operation got under way" grep -q '^started' "$TEST_TMP/op.out"
	kill -KILL "$MODALFSD_PID"
	wait "$MODALFSD_PID" 2>/dev/null
	MODALFSD_PID=
	touch "$TEST_TMP/go"
	sleep 1
	check "$desc: the operation waits while there is no daemon" kill -0 "$OP"
	run_check "$desc: a new modalfsd registers" start_daemon "$TEST_DAEMON_DIR"
	wait "$OP"; rc=$?
	OP=
	sed 's/^/    | /' "$TEST_TMP/op.out"
	expect_eq "$desc: the operation completed right" 0 "$rc"
}

step "load the module, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
dmesg_mark

step "kill during readdir"
rm -rf "$MNT/dir" && mkdir "$MNT/dir"
check "create $NENT entries" "$PYTHON" -c 'import os,sys
for i in range(int(sys.argv[2])): open(os.path.join(sys.argv[1], "e%05d" % i), "w").close()' "$MNT/dir" "$NENT"
drop_caches
during "readdir" "$PYTHON" "$BIN" readdir "$MNT/dir" "$NENT"

step "kill during mmap write faults"
head -c $((MAPMB << 20)) /dev/urandom > "$TEST_TMP/orig"
check "write a $MAPMB MiB file" cp "$TEST_TMP/orig" "$MNT/mapped"
drop_caches
during "mmap write faults" "$PYTHON" "$BIN" mmap "$MNT/mapped" "$TEST_TMP/go"
"$PYTHON" - "$TEST_TMP/orig" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for pg in range(len(b) // 4096):
    b[pg * 4096 + 7] = (pg * 13 + 1) % 256
open(p, "wb").write(b)
PY
drop_caches
check "mmap: the file holds every write after dropping caches" cmp "$TEST_TMP/orig" "$MNT/mapped"

step "kill during readahead"
head -c $((READMB << 20)) /dev/urandom > "$TEST_TMP/big"
check "write a $READMB MiB file" cp "$TEST_TMP/big" "$MNT/big"
want=$(sha256sum < "$TEST_TMP/big" | cut -d' ' -f1)
drop_caches
during "readahead" "$PYTHON" "$BIN" read "$MNT/big" "$TEST_TMP/go"
expect_eq "readahead: the bytes read are the file's" "$want" "$(tail -n 1 "$TEST_TMP/op.out")"
check "rm the test files" rm -rf "$MNT/dir" "$MNT/mapped" "$MNT/big"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
