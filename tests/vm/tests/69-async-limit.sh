#!/bin/bash
# Asynchronous requests are bounded (issue 12, kernel item 4): with the
# daemon killed, a large buffered write does not pile WRITEs up in the
# request table (the bdi's strict dirty limit throttles the writer, and
# writeback does not queue WRITEs for an absent daemon), the writer stays
# killable, and everything drains once a daemon is back.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-async
MNT=$TEST_TMP/mnt
REQS=/sys/kernel/debug/modalfs/requests
require_root
mkdir -p "$MNT"
OLD_BG=$(cat /proc/sys/vm/dirty_background_bytes)
OLD_BGR=$(cat /proc/sys/vm/dirty_background_ratio)

cleanup() {
	[ -n "${P:-}" ] && kill -KILL "$P" 2>/dev/null
	if [ "$OLD_BG" != 0 ]; then echo "$OLD_BG" > /proc/sys/vm/dirty_background_bytes
	else echo "$OLD_BGR" > /proc/sys/vm/dirty_background_ratio; fi
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

inflight() {
	sed -n 's/^daemon .* inflight \([0-9]*\)\/.*/\1/p' "$REQS"
}

plan 15

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "64 MiB of buffered writes with the daemon killed"
# Writeback starts at once instead of at 10% of memory.
echo 1048576 > /proc/sys/vm/dirty_background_bytes
kill -KILL "$MODALFSD_PID"; wait "$MODALFSD_PID" 2>/dev/null; MODALFSD_PID=
dd if=/dev/zero of="$MNT/big" bs=1M count=64 2>/dev/null &
P=$!
max=0
for ((i = 0; i < 20; i++)); do
	sleep 0.5
	n=$(inflight)
	[ "${n:-0}" -gt "$max" ] && max=$n
done
echo "    | most requests in the table: $max"
expect_match "at most 128 requests in the table (saw $max)" "^([0-9]|[0-9][0-9]|1[01][0-9]|12[0-8])$" "$max"
kill -KILL $P 2>/dev/null
sleep 2
st=$(awk '{print $3}' /proc/$P/stat 2>/dev/null)
expect_match "the writer is gone 2 s after SIGKILL (state '$st')" "^(Z|)$" "$st"
run_check "modalfsd restarts" start_daemon "$TEST_DAEMON_DIR"
wait $P 2>/dev/null
P=
check "sync drains everything" sync
expect_eq "the table is empty" 0 "$(inflight)"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
