#!/bin/bash
# Big I/O (issue 11): a 16 MiB sequential write ending in fsync and a cold
# 16 MiB sequential read move their data in READs and WRITEs larger than
# 64 KiB (protocol version 3 allows 1 MiB), counted by the kernel's debugfs
# modalfs/stats: at most 32 READs and 64 WRITEs for 16 MiB (64 KiB
# requests would take 256). WRITEs get the wider bound because writeback
# that runs while dd is still writing cuts a 1 MiB write in two: 18-19 in
# a VM of their own, 20-33 inside a full VM run. The data reads back
# exactly after drop_caches and after a remount.
# No timing is asserted.
. "$(dirname "$0")/../../lib.sh"
plan 17

VOL=vmtest-bigio
MNT=$TEST_TMP/mnt
STATS=/sys/kernel/debug/modalfs/stats
SRC=$TEST_TMP/src
require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# sent count of one op in modalfs/stats (0 when absent)
sent() {
	awk -v op="$1" '$1 == op { print $2; f = 1 } END { if (!f) print 0 }' "$STATS"
}

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
head -c $((16 << 20)) /dev/urandom > "$SRC"
want=$(sha256sum < "$SRC" | cut -d' ' -f1)

step "16 MiB sequential write + fsync"
w0=$(sent WRITE)
check "dd bs=1M conv=fsync" dd if="$SRC" of="$MNT/f" bs=1M conv=fsync status=none
nw=$(( $(sent WRITE) - w0 ))
echo "    | WRITE requests for 16 MiB: $nw"
expect_match "at most 64 WRITEs for 16 MiB (saw $nw)" "^([1-9]|[1-5][0-9]|6[0-4])$" "$nw"

step "cold 16 MiB sequential read"
drop_caches
r0=$(sent READ)
got=$(dd if="$MNT/f" bs=1M status=none | sha256sum | cut -d' ' -f1)
nr=$(( $(sent READ) - r0 ))
echo "    | READ requests for 16 MiB: $nr"
expect_eq "the cold read returns the data" "$want" "$got"
expect_match "at most 32 READs for 16 MiB (saw $nr)" "^([1-9]|[12][0-9]|3[0-2])$" "$nr"

step "after a remount"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT"
expect_eq "the data after a remount" "$want" "$(sha256sum < "$MNT/f" | cut -d' ' -f1)"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
