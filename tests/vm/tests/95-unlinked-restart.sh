#!/bin/bash
# An unlinked file that is still open lives on across a daemon restart and
# across kill -9 of the daemon: reads, writes and fstat through the open
# descriptor keep working against the new daemon, no name reappears, and
# once the last descriptor closes the space is given back (df).
. "$(dirname "$0")/../../lib.sh"
plan 24

VOL=vmtest-orphan
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/orphan.py
FIFO_IN=$TEST_TMP/in
require_root
mkdir -p "$MNT"
cleanup() {
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# The holder keeps the unlinked file open and runs one command per line
# from a fifo: "check", "write", "quit"; it answers "ok ..." or "bad ...".
cat > "$BIN" <<'PY_EOF'
import hashlib, os, sys
path, fifo = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
data = bytearray(os.urandom(8 << 20))
os.write(fd, data)
os.fsync(fd)
os.unlink(path)
print("ready", flush=True)
n = 0
for line in open(fifo):
    cmd = line.strip()
    if cmd == "quit":
        break
    if cmd == "write":
        n += 1
        chunk = os.urandom(65536)
        off = (n * 1048576 + 4096) % len(data)
        os.pwrite(fd, chunk, off)
        data[off:off + len(chunk)] = chunk
        os.fsync(fd)
        print("ok write %d" % n, flush=True)
    elif cmd == "check":
        # Drop the file's pages first, so the read is the daemon's answer.
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        got = os.pread(fd, len(data) + 1, 0)
        st = os.fstat(fd)
        good = got == bytes(data) and st.st_nlink == 0 and st.st_size == len(data)
        print("%s check: %d bytes, nlink %d" % ("ok" if good else "bad", len(got), st.st_nlink), flush=True)
os.close(fd)
PY_EOF

# ask CMD: sends one command to the holder and waits for its answer line.
ask() {
	local before i
	before=$(wc -l < "$TEST_TMP/holder.out")
	echo "$1" >&9
	for ((i = 0; i < 600; i++)); do
		[ "$(wc -l < "$TEST_TMP/holder.out")" -gt "$before" ] && break
		sleep 0.1
	done
	tail -n 1 "$TEST_TMP/holder.out" | tee /dev/stderr | grep -q '^ok '
}

step "load the module, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/o" && mkdir "$MNT/o"
avail0=$(stat -f -c %a "$MNT")

step "an 8 MiB file, open and unlinked"
mkfifo "$FIFO_IN"
"$PYTHON" "$BIN" "$MNT/o/victim" "$FIFO_IN" > "$TEST_TMP/holder.out" 2>&1 & HOLDER=$!
exec 9<> "$FIFO_IN"	# read-write: never blocks on a holder that died
for ((i = 0; i < 300; i++)); do grep -q ready "$TEST_TMP/holder.out" && break; sleep 0.1; done
check "the holder created, filled and unlinked it" grep -q ready "$TEST_TMP/holder.out"
expect_eq "the name is gone" "" "$(ls -A "$MNT/o")"
check "read back through the descriptor" ask check

step "daemon restart (SIGTERM)"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR"
check "after the restart: read back through the descriptor" ask check
check "after the restart: write + fsync through it" ask write
check "... and read back" ask check

step "daemon kill -9"
kill -KILL "$MODALFSD_PID"; wait "$MODALFSD_PID" 2>/dev/null; MODALFSD_PID=
run_check "modalfsd registers after the kill" start_daemon "$TEST_DAEMON_DIR"
check "after the kill: write + fsync through it" ask write
check "... and read back" ask check
check "no name reappeared" test -z "$(ls -A "$MNT/o")"

step "the last close frees the space"
echo quit >&9
exec 9>&-
wait "$HOLDER"; st=$?; HOLDER=
expect_eq "the holder exited 0" 0 "$st"
sync
avail1=$(stat -f -c %a "$MNT")
echo "    | available blocks: $avail0 before, $avail1 after"
check "the space is free again (within 1 MiB)" test $((avail0 - avail1)) -lt 256

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
