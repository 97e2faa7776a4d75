#!/bin/bash
# A daemon that answers with replies failing the netlink policy must not
# leave callers waiting: the operation fails with EIO, the kernel logs a
# rate-limited line, the mount keeps working and unmounts, and nothing
# oopses. The daemon is tests/tools/hostile-daemon.py.
. "$(dirname "$0")/../../lib.sh"

MNT=$TEST_TMP/mnt
HOSTILE_PID=

require_root
mkdir -p "$MNT"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	[ -n "$HOSTILE_PID" ] && kill "$HOSTILE_PID" 2>/dev/null
}
TEST_CLEANUP=cleanup

step "load the module and register the hostile daemon"
run_check "insmod modalfs.ko" load_module || finish
"$PYTHON" "$MODALFS_REPO/tests/tools/hostile-daemon.py" > "$TEST_TMP/hostile.log" 2>&1 &
HOSTILE_PID=$!
for ((i = 0; i < 100; i++)); do
	grep -q registered "$TEST_TMP/hostile.log" && break
	sleep 0.1
done
check "the hostile daemon registered" grep -q registered "$TEST_TMP/hostile.log" || finish
check "mount -t modalfs hostile:/ $MNT" mount -t modalfs hostile:/ "$MNT" || finish

step "a LOOKUP answered with an undecodable reply fails with EIO"
dmesg_mark
out=$(timeout 30 stat "$MNT/anything" 2>&1)
rc=$?
echo "    | $out"
expect_eq "stat exits 1 (not a timeout)" 1 "$rc"
expect_match "stat reports an I/O error" "Input/output error" "$out"
expect_match "the kernel logs why" "undecodable reply" "$(dmesg_since)"
out=$(timeout 30 stat "$MNT/again" 2>&1)
expect_match "the next LOOKUP fails the same way" "Input/output error" "$out"
check "the mount still answers getattr of its root" stat "$MNT"

step "unmount, stop the hostile daemon, unload the module"
check "umount $MNT" umount "$MNT"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs

check_dmesg_clean
finish
