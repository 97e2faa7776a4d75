#!/bin/bash
# Second half of the persistence test, in a fresh VM boot on the same state
# disk: the volume written by 20-persist.sh must come back byte-identical.
. "$(dirname "$0")/../../lib.sh"
plan 13

MNT=$TEST_TMP/mnt

require_root
mkdir -p "$MNT"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

step "records from the previous boot"
[ -s "$TEST_RECORDS/persist.manifest" ] || bail "records of 20-persist.sh found in $TEST_RECORDS (run it in the previous boot)"
read -r VOL app < "$TEST_RECORDS/persist.volume"
pass "records of 20-persist.sh found (volume $VOL, $app)"

step "load the module and start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
expect_match "modalfsctl list shows $VOL after the reboot" "$VOL" "$("$MODALFSCTL" list 2>&1)"
expect_eq "persisted returns the same app id after the reboot" "$app" "$("$MODALFSCTL" persisted "$VOL")"

step "remount and verify"
check "mount -t modalfs $VOL:/ $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
manifest "$MNT/persist-test" > "$TEST_TMP/got.manifest" 2>&1
if diff -u "$TEST_RECORDS/persist.manifest" "$TEST_TMP/got.manifest" > "$TEST_TMP/diff"; then
	pass "after VM reboot + remount: identical ($(wc -l < "$TEST_TMP/got.manifest") entries)"
else
	head -n 40 "$TEST_TMP/diff" | sed 's/^/    | /'
	fail "after VM reboot + remount: identical"
fi

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload

check_dmesg_clean
finish
