#!/bin/bash
# Durability while no daemon is registered (issue 12, kernel item 9):
#  - syncfs(2) does not return before a daemon made the volume durable;
#  - sync(2) waiting for the daemon can be killed (no D state);
#  - the last unmount during a daemon restart keeps the queued data: the
#    WRITEs wait in the request table for the next daemon instead of
#    failing, and the unmount itself does not wait.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-nodaemon
MNT=$TEST_TMP/mnt
require_root
mkdir -p "$MNT"

cleanup() {
	[ -n "${P:-}" ] && kill -KILL "$P" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

kill_daemon() {
	kill -KILL "$MODALFSD_PID"
	wait "$MODALFSD_PID" 2>/dev/null
	MODALFSD_PID=
}

# wait_idle: up to 10 s until no request is in the table.
wait_idle() {
	local i
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	for ((i = 0; i < 100; i++)); do
		grep -q " inflight 0/" /sys/kernel/debug/modalfs/requests && return
		sleep 0.1
	done
}

pstate() {
	awk '{print $3}' /proc/$1/stat 2>/dev/null
}

plan 21

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "syncfs with the daemon gone waits for the next one"
echo x > "$MNT/a"
kill_daemon
sync -f "$MNT" &
P=$!
sleep 2
expect_eq "syncfs has not returned 2 s later" yes "$(kill -0 $P 2>/dev/null && echo yes || echo no)"
run_check "modalfsd restarts" start_daemon "$TEST_DAEMON_DIR"
wait $P
expect_eq "syncfs returns 0 once the daemon is back" 0 "$?"
P=

step "sync(2) waiting for an absent daemon can be killed"
head -c 1048576 /dev/urandom > "$MNT/b"
# Killed only once nothing is in flight: a WRITE that background
# writeback sent to this daemon keeps its pages under writeback until the
# next one answers, and sync(2) waits for those unkillably (as on NFS).
# What is left dirty, sync(2) must wait for killably.
wait_idle
kill_daemon
sync &
P=$!
sleep 2
kill -KILL $P
sleep 2
st=$(pstate $P)
expect_match "sync is gone 2 s after SIGKILL (state '$st')" "^(Z|)$" "$st"
run_check "modalfsd restarts" start_daemon "$TEST_DAEMON_DIR"
wait $P 2>/dev/null
P=

step "the last unmount during a restart keeps the queued data"
head -c 262144 /dev/urandom > "$TEST_TMP/c"
want=$(sha256sum < "$TEST_TMP/c")
cp "$TEST_TMP/c" "$MNT/c"
kill_daemon
dmesg_mark
expect_eq "umount succeeds at once" 0 "$(timeout 20 umount "$MNT"; echo $?)"
run_check "modalfsd restarts" start_daemon "$TEST_DAEMON_DIR"
wait_idle
check "the queued requests reached the new daemon" grep -q " inflight 0/" /sys/kernel/debug/modalfs/requests
check_fails "no 'changes not yet written are lost'" grep -q "changes not yet written are lost" <<< "$(dmesg_since)"
check "mount again" mount -t modalfs "$VOL:/" "$MNT"
expect_eq "the data written before the restart is there" "$want" "$(sha256sum < "$MNT/c" 2>&1)"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
