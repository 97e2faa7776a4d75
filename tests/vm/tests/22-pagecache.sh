#!/bin/bash
# Page cache of regular files: shared writable mmap with msync (mtime
# moves, stores past EOF never become file data), SIGBUS past EOF after a
# truncate, partial-page writes over uncached data, truncate down/up,
# O_APPEND from two descriptors, holes, a file beyond 4 GiB (mmap too),
# fsync/fdatasync on files and directories; then everything is read back
# after a remount (from the daemon, not the page cache). The checker runs
# on tmpfs first, which proves it.
. "$(dirname "$0")/../../lib.sh"
plan 65

VOL=${VOL:-vmtest-pagecache}
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/pagecache.py

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# run_checker DIR LABEL: the checker's ok/not ok lines become checks,
# its "expect NAME SHA" lines go to $TEST_TMP/LABEL.expect.
run_checker() {
	local line st=
	(cd / && "$PYTHON" "$BIN" "$1" "$2"; echo "exit $?") > "$TEST_TMP/checker.out" 2>&1
	: > "$TEST_TMP/$2.expect"
	while IFS= read -r line; do
		case $line in
		"ok - "*) pass "$2: ${line#ok - }" ;;
		"not ok - "*) fail "$2: ${line#not ok - }" ;;
		"expect "*) echo "${line#expect }" >> "$TEST_TMP/$2.expect" ;;
		"exit "*) st=${line#exit } ;;
		*) echo "    | $line" ;;
		esac
	done < "$TEST_TMP/checker.out"
	# A traceback ends the checker early: its status is a check of its own.
	check_status "$2: the checker ran to its end" "$st"
}

cat > "$BIN" <<'PY_EOF'
# Page-cache semantics of regular files, as on a local filesystem:
#   pagecache.py DIR [tmpfs]
# Prints "ok - ..." / "not ok - ..." lines, and "expect NAME SHA256" for
# files whose contents the caller checks again after a remount.
import ctypes, hashlib, mmap, os, signal, sys, time

libc = ctypes.CDLL(None, use_errno=True)

PG = mmap.PAGESIZE
d = sys.argv[1]
tmpfs = "tmpfs" in sys.argv[2:]
failed = False


def ok(cond, desc):
    global failed
    print(("ok - " if cond else "not ok - ") + desc, flush=True)
    failed |= not cond


def p(name):
    return os.path.join(d, name)


def content(name):
    with open(p(name), "rb") as f:
        return f.read()


def expect(name, data):
    print("expect %s %s" % (name, hashlib.sha256(data).hexdigest()), flush=True)


def pattern(n, seed):
    return bytes((i * 131 + seed * 7 + (i >> 8)) & 255 for i in range(n))


# 1. shared writable mmap + msync, coherent with read()
size = 3 * PG + 100
model = bytearray(pattern(size, 1))
with open(p("mm"), "wb") as f:
    f.write(model)
fd = os.open(p("mm"), os.O_RDWR)
st0 = os.fstat(fd)
time.sleep(0.02)
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
for off in (0, PG - 1, PG + 17, 2 * PG + 4000, size - 1):
    m[off] = 0x5A
    model[off] = 0x5A
ok(os.pread(fd, size, 0) == bytes(model), "read() sees stores through a shared mapping")
os.pwrite(fd, b"WRITE", PG + 100)
model[PG + 100:PG + 105] = b"WRITE"
ok(m[PG + 100:PG + 105] == b"WRITE", "the mapping sees write()")
m.flush()
ok(os.fstat(fd).st_mtime_ns > st0.st_mtime_ns, "a store through the mapping moves mtime")
# beyond EOF in the last page: not file data, must read as zeros later
# (Python's mmap refuses to map past EOF; libc does not.)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long)
libc.msync.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
addr = libc.mmap(None, 4 * PG, mmap.PROT_READ | mmap.PROT_WRITE,
                 mmap.MAP_SHARED, fd, 0)
ctypes.memset(addr + size + 10, 0x77, 1)
libc.msync(addr, 4 * PG, 4)	# MS_SYNC
libc.munmap(addr, 4 * PG)
m.close()
os.ftruncate(fd, size + 200)
model += bytes(200)
if not tmpfs:
    # tmpfs of 6.1 keeps them (it never writes back); ext4 zeroes them.
    ok(os.pread(fd, size + 300, 0) == bytes(model),
       "after growing, bytes stored past the old EOF through mmap read as zeros")
os.close(fd)
expect("mm", bytes(model))

# 2. SIGBUS past EOF after a truncate, in a child
with open(p("bus"), "wb") as f:
    f.write(pattern(3 * PG, 2))
pid = os.fork()
if pid == 0:
    fd = os.open(p("bus"), os.O_RDWR)
    m = mmap.mmap(fd, 3 * PG, mmap.MAP_SHARED)
    os.ftruncate(fd, PG)
    x = m[0]
    x = m[2 * PG + 5]		# must raise SIGBUS
    os._exit(0)
_, st = os.waitpid(pid, 0)
ok(os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS,
   "touching a page past EOF after truncate is SIGBUS (status %r)" % st)
ok(content("bus") == pattern(PG, 2), "the truncated file keeps its first page")

# 3. partial-page writes over existing data (write_begin must read the page)
data = bytearray(pattern(5 * PG + 123, 3))
fd = os.open(p("part"), os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, data)
os.fsync(fd)
# Clean pages dropped: the writes below must read what they keep.
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
for off, n in ((10, 5), (PG - 3, 6), (2 * PG, PG), (3 * PG + 1, PG - 2),
               (5 * PG + 100, 50)):
    buf = pattern(n, off & 255)
    os.pwrite(fd, buf, off)
    data[off:off + n] = buf
ok(os.pread(fd, len(data) + 10, 0) == bytes(data), "partial-page overwrites keep the rest")
os.close(fd)
expect("part", bytes(data))

# 4. truncate down mid-page, then up: the cut bytes come back as zeros
fd = os.open(p("trunc"), os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, pattern(3 * PG, 4), 0)
os.ftruncate(fd, PG + 10)
os.ftruncate(fd, 3 * PG)
want = pattern(3 * PG, 4)[:PG + 10] + bytes(3 * PG - PG - 10)
ok(os.pread(fd, 4 * PG, 0) == want, "shrink then grow: zeros past the cut")
ok(os.fstat(fd).st_size == 3 * PG, "size after grow")
os.truncate(p("trunc"), 0)
ok(os.fstat(fd).st_size == 0 and os.pread(fd, 10, 0) == b"", "truncate(2) to 0")
os.close(fd)
expect("trunc", b"")

# 5. O_APPEND from two descriptors
a = os.open(p("app"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
b = os.open(p("app"), os.O_WRONLY | os.O_APPEND)
want = b""
for i in range(20):
    s = (b"a%d-" % i) * (i + 1)
    os.write(a if i % 2 else b, s)
    want += s
os.lseek(a, 0, os.SEEK_SET)
os.write(a, b"END")
want += b"END"
ok(content("app") == want, "O_APPEND writes land at the end, even after lseek")
os.close(a)
os.close(b)
expect("app", want)

# 6. sparse files and files beyond 4 GiB
fd = os.open(p("sparse"), os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"head", 0)
os.pwrite(fd, b"middle", 10 * 1024 * 1024)
ok(os.pread(fd, 100, 5 * 1024 * 1024) == bytes(100), "a hole reads as zeros")
ok(os.pread(fd, 8, 10 * 1024 * 1024 - 2) == b"\0\0middle", "read across hole/data")
st = os.fstat(fd)
ok(st.st_size == 10 * 1024 * 1024 + 6, "sparse size")
os.fsync(fd)
st = os.fstat(fd)
ok(st.st_blocks * 512 < 1024 * 1024, "a 10 MiB sparse file allocates little (%d blocks)" % st.st_blocks)
os.close(fd)
fd = os.open(p("large"), os.O_RDWR | os.O_CREAT, 0o644)
big = 5 * 1024 ** 3
os.pwrite(fd, b"X" * 8192, big - 4096)
os.pwrite(fd, b"4G", 4 * 1024 ** 3 - 1)
ok(os.fstat(fd).st_size == big + 4096, "size beyond 4 GiB")
ok(os.pread(fd, 4, 4 * 1024 ** 3 - 2) == b"\x004G\x00", "data across the 4 GiB boundary")
ok(os.pread(fd, 8192, big - 4096) == b"X" * 8192, "data at 5 GiB")
m = mmap.mmap(fd, PG, mmap.MAP_SHARED, offset=big)
m[0:4] = b"MMAP"
m.flush()
m.close()
ok(os.pread(fd, 4, big) == b"MMAP", "mmap at 5 GiB")
os.fsync(fd)
os.close(fd)
print("large %d" % big, flush=True)

# 7. fsync and fdatasync on files and directories
fd = os.open(p("mm"), os.O_RDONLY)
try:
    os.fsync(fd)
    os.fdatasync(fd)
    ok(True, "fsync/fdatasync on a file")
except OSError as e:
    ok(False, "fsync/fdatasync on a file: %s" % e)
os.close(fd)
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
try:
    os.fsync(fd)
    os.fdatasync(fd)
    ok(True, "fsync/fdatasync on a directory")
except OSError as e:
    ok(False, "fsync/fdatasync on a directory: %s" % e)
os.close(fd)
sys.exit(1 if failed else 0)
PY_EOF

step "the checker on tmpfs (proves the checker)"
mkdir -p "$TEST_TMP/ref"
run_checker "$TEST_TMP/ref" tmpfs
rm -rf "$TEST_TMP/ref"

step "mount and run the checker on modalfs"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/pc" && mkdir "$MNT/pc"
run_checker "$MNT/pc" modalfs

step "the daemon has the same bytes (remount)"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
while read -r name sum; do
	expect_eq "$name after remount" "$sum" "$(sha256sum < "$MNT/pc/$name" | cut -d' ' -f1)"
done < "$TEST_TMP/modalfs.expect"
expect_eq "the 5 GiB file after remount: size and bytes" "5368713216 b'MMAP' b'4G'" \
	"$("$PYTHON" -c 'import os,sys
fd = os.open(sys.argv[1], os.O_RDONLY)
print(os.fstat(fd).st_size, os.pread(fd, 4, 5 << 30), os.pread(fd, 2, (4 << 30) - 1))' "$MNT/pc/large" 2>&1)"
check "rm -rf the test tree" rm -rf "$MNT/pc"

step "clean pages can be dropped after readahead (no page reference is kept)"
# Readahead hands the filesystem a reference on every page; one it never
# drops pins the page: drop_caches and POSIX_FADV_DONTNEED cannot evict
# it and the memory is lost for good.
dd if=/dev/urandom of="$MNT/ra" bs=64k count=64 status=none
sync
echo 3 > /proc/sys/vm/drop_caches
expect_eq "nothing of the file is cached after sync and drop_caches" 0 \
	"$(cached_pages "$MNT/ra")"
cat "$MNT/ra" > /dev/null
"$PYTHON" -c 'import mmap,sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    sum(m[i] for i in range(0, len(m), 4096))' "$MNT/ra"
check "reading it (read() and mmap) cached it" test "$(cached_pages "$MNT/ra")" -gt 0
echo 3 > /proc/sys/vm/drop_caches
expect_eq "drop_caches evicts every page of it again" 0 "$(cached_pages "$MNT/ra")"
cat "$MNT/ra" > /dev/null
"$PYTHON" -c 'import os,sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$MNT/ra"
expect_eq "POSIX_FADV_DONTNEED evicts every page of it" 0 "$(cached_pages "$MNT/ra")"
check "rm the file" rm "$MNT/ra"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
