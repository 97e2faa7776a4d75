#!/bin/bash
# A full store through the mount: writes fail with ENOSPC, nothing is
# corrupted, rm frees the space, writing works again; df follows.
# Written by the userd-core helper, adopted into make check by faults.
. "$(dirname "$0")/../../lib.sh"
plan 16
VOL=vmtest-full
MNT=$TEST_TMP/mnt
STATE=$TEST_TMP/state
require_root
mkdir -p "$MNT"
cleanup() { is_mounted "$MNT" && umount "$MNT"; stop_daemon; }
TEST_CLEANUP=cleanup
run_check "insmod" load_module || finish
run_check "modalfsd registers (16 MiB map)" start_daemon "$STATE" --map-size 16M || finish
"$MODALFSCTL" persisted "$VOL" >/dev/null
check "mount" mount -t modalfs "$VOL:/" "$MNT" || finish
df0=$(stat -f -c %a "$MNT")
out=$(dd if=/dev/zero of="$MNT/big" bs=1M count=64 conv=fsync 2>&1); rc=$?
echo "    | dd: rc $rc: $(echo "$out" | head -2 | tr '\n' ' ')"
check_fails "filling the store fails" test $rc -eq 0
expect_match "with ENOSPC" "No space left on device" "$out"
df1=$(stat -f -c %a "$MNT")
echo "    | avail blocks: before $df0, full $df1"
check "df shows the space used" test "$df1" -lt $((df0 / 4))
check_fails "creating more files fails" bash -c "for i in \$(seq 200); do head -c 100000 /dev/zero > $MNT/s\$i || exit 1; sync $MNT/s\$i || exit 1; done"
check "rm works on the full store" rm -f "$MNT"/big "$MNT"/s*
sync
df2=$(stat -f -c %a "$MNT")
echo "    | avail blocks after rm: $df2"
check "df shows the space free again" test "$df2" -gt $((df0 * 3 / 4))
check "writing works again" dd if=/dev/zero of="$MNT/again" bs=1M count=4 conv=fsync status=none
expect_eq "size" 4194304 "$(stat -c %s "$MNT/again")"
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check" "$MODALFSD" --check --state-dir "$STATE"
check "rmmod" rmmod modalfs
check_dmesg_clean
finish
