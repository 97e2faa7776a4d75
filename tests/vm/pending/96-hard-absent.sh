#!/bin/bash
# A hard mount whose daemon is gone:
#   - a process blocked in a request (stat of an uncached name) dies at
#     once on SIGKILL, and after a daemon restart the mount works;
#   - dirty-page pressure: with the dirty limit at 32 MiB, a writer of
#     64 MiB blocks in writeback throttling while the daemon is away,
#     the rest of the system goes on (tmpfs writes, /proc), the writer
#     is not failed; once the daemon is back it finishes, its fsync
#     succeeds, and the file holds every byte, after dropping caches too.
. "$(dirname "$0")/../../lib.sh"
plan 24

VOL=vmtest-absent
MNT=$TEST_TMP/mnt
require_root
mkdir -p "$MNT"
DIRTY=$(sysctl -n vm.dirty_bytes) DIRTY_BG=$(sysctl -n vm.dirty_background_bytes)
DIRTY_R=$(sysctl -n vm.dirty_ratio) DIRTY_BG_R=$(sysctl -n vm.dirty_background_ratio)
cleanup() {
	[ -n "${BG:-}" ] && kill -KILL "$BG" 2>/dev/null
	if is_mounted "$MNT"; then
		# Dirty pages left by a failed run need a daemon to go.
		[ -n "$MODALFSD_PID" ] || start_daemon "$TEST_DAEMON_DIR" > /dev/null 2>&1
		umount "$MNT" || umount -l "$MNT"
	fi
	stop_daemon
	if [ "$DIRTY" -gt 0 ]; then sysctl -q vm.dirty_bytes="$DIRTY"; else sysctl -q vm.dirty_ratio="$DIRTY_R"; fi
	if [ "$DIRTY_BG" -gt 0 ]; then sysctl -q vm.dirty_background_bytes="$DIRTY_BG"; else sysctl -q vm.dirty_background_ratio="$DIRTY_BG_R"; fi
}
TEST_CLEANUP=cleanup

step "load the module, start the daemon, mount $VOL (hard)"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
dmesg_mark

step "SIGKILL of a process blocked on the absent daemon"
run_check "stop modalfsd" stop_daemon
stat "$MNT/not-cached-$$" > /dev/null 2>&1 & BG=$!
sleep 2
check "stat of an uncached name waits for the daemon" kill -0 "$BG"
kill -KILL "$BG"
t0=$(date +%s%N)
for ((i = 0; i < 100; i++)); do kill -0 "$BG" 2>/dev/null || break; sleep 0.05; done
ms=$((($(date +%s%N) - t0) / 1000000))
check_fails "it dies on SIGKILL ($ms ms)" kill -0 "$BG"
wait "$BG" 2>/dev/null; BG=
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "the mount works: create and stat" bash -c "echo x > '$MNT/after' && stat '$MNT/after' > /dev/null"

step "dirty-page pressure while the daemon is away"
sysctl -q vm.dirty_bytes=$((32 << 20)) vm.dirty_background_bytes=$((16 << 20))
# Created and opened while the daemon is there: only the writes meet its
# absence (an open would wait for it itself).
"$PYTHON" -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
for i in range(64):
    os.write(fd, bytes([i]) * 1048576)
os.fsync(fd)
print("written")' "$MNT/dirty" "$TEST_TMP/opened" "$TEST_TMP/go" > "$TEST_TMP/writer.out" 2>&1 & BG=$!
for ((i = 0; i < 300; i++)); do [ -e "$TEST_TMP/opened" ] && break; sleep 0.1; done
run_check "stop modalfsd" stop_daemon
touch "$TEST_TMP/go"
sleep 5
check "the writer is still running (throttled, not failed)" kill -0 "$BG"
dirty=$(awk '/^Dirty:/ {print $2}' /proc/meminfo)
echo "    | Dirty: $dirty kB"
check "dirty pages built up to the limit and stay near it (8 to 48 MiB)" \
	test "$dirty" -ge 8192 -a "$dirty" -lt 49152
check "other processes go on: 64 MiB to tmpfs" timeout 20 dd if=/dev/zero of="$TEST_TMP/tmpfs-file" bs=1M count=64 status=none
check "other processes go on: /proc/meminfo" timeout 5 cat /proc/meminfo > /dev/null
rm -f "$TEST_TMP/tmpfs-file"
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
for ((i = 0; i < 1200; i++)); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
wait "$BG"; st=$?; BG=
sed 's/^/    | /' "$TEST_TMP/writer.out"
expect_eq "the writer finished and its fsync succeeded" "0 written" "$st $(cat "$TEST_TMP/writer.out")"
drop_caches
check "the file holds every byte after dropping caches" "$PYTHON" -c 'import sys
f = open(sys.argv[1], "rb")
for i in range(64):
    assert f.read(1048576) == bytes([i]) * 1048576, i
assert f.read(1) == b""' "$MNT/dirty"
check "rm the files" rm -f "$MNT/dirty" "$MNT/after"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
