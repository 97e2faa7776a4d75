#!/bin/bash
# Freed space goes back to the host file system (issue 10): after rm,
# truncate and deleting a volume, df of the file system holding the
# daemon's state directory gets back at least 90% of what was freed,
# within 10 seconds. The old store (file data inside LMDB) never gave
# space back to the host.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-space
VOL2=vmtest-space2
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
STATE=$TEST_STATE_ROOT/space
SZ=32	# MiB
require_root
plan 23
mkdir -p "$MNT" "$MNT2"
rm -rf "$STATE"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	is_mounted "$MNT2" && umount "$MNT2"
	stop_daemon
	rm -rf "$STATE"
}
TEST_CLEANUP=cleanup

# Free KiB of the host file system holding the state directory.
hostfree() { sync; df -k --output=avail "$STATE" | tail -n 1 | tr -d ' '; }
# wait_free BEFORE: until hostfree is back to at least BEFORE - 10% of SZ.
wait_free() {
	local want=$(($1 - SZ * 1024 / 10)) i now
	for ((i = 0; i < 100; i++)); do
		now=$(hostfree)
		[ "$now" -ge "$want" ] && { echo "    | host free $now KiB (wanted >= $want) after $((i / 10)).$((i % 10)) s"; return 0; }
		sleep 0.1
	done
	echo "    | host free $now KiB, wanted >= $want"
	return 1
}
fill() { dd if=/dev/urandom of="$1" bs=1M count=$SZ conv=fsync status=none; }

run_check "insmod" load_module || finish
run_check "modalfsd registers" start_daemon "$STATE" || finish
"$MODALFSCTL" persisted "$VOL" >/dev/null
"$MODALFSCTL" persisted "$VOL2" >/dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "rm"
free0=$(hostfree)
check "write $SZ MiB" fill "$MNT/a"
free1=$(hostfree)
echo "    | host free $free0 -> $free1 KiB"
check "the write took space on the host" test "$free1" -le $((free0 - SZ * 1024 * 9 / 10))
check "rm" rm "$MNT/a"
check "df of the host is back within 10 s" wait_free "$free0"

step "truncate"
free0=$(hostfree)
check "write $SZ MiB" fill "$MNT/b"
check "truncate to 1 MiB" truncate -s 1M "$MNT/b"
sync -f "$MNT"
check "df of the host is back within 10 s (but for 1 MiB)" wait_free $((free0 - 1024))
expect_eq "the file keeps its first MiB" 1048576 "$(stat -c %s "$MNT/b")"
check "rm" rm "$MNT/b"

step "delete a volume"
check "mount $VOL2" mount -t modalfs "$VOL2:/" "$MNT2" || finish
free0=$(hostfree)
check "write $SZ MiB into $VOL2" fill "$MNT2/c"
check "umount $VOL2" umount "$MNT2"
check "delete $VOL2" "$MODALFSCTL" delete "$VOL2"
check "df of the host is back within 10 s" wait_free "$free0"
check "no block store directory is left for it" \
	test "$(find "$STATE/blocks" -mindepth 1 -maxdepth 1 | wc -l)" -le 1

step "numbers for the record (printed, not checked)"
stats() {
	"$MODALFSCTL" stats --json | "$PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
print(s["commits"], s["syncs"], s["block_bytes"], s["meta_bytes"])'
}
head -c 1048576 /dev/urandom > "$TEST_TMP/src"
read -r c0 y0 b0 m0 < <(stats)
cp "$TEST_TMP/src" "$MNT/cp1" && sync -f "$MNT"
read -r c1 y1 b1 m1 < <(stats)
echo "    | 1 MiB cp + sync: $((c1 - c0)) LMDB commits (one fdatasync each), $((y1 - y0)) FSYNCs; block store $((b1 - b0)) B, metadata $((m1 - m0)) B written"
t0=$(date +%s%N)
"$PYTHON" -c '
import os, sys
for i in range(300):
    os.close(os.open(os.path.join(sys.argv[1], "c%d" % i), os.O_CREAT | os.O_WRONLY, 0o644))' "$MNT"
t1=$(date +%s%N)
echo "    | 300 creates: $(( 300 * 1000000000 / (t1 - t0) ))/s"

check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check" "$MODALFSD" --check --state-dir "$STATE"
check "rmmod" rmmod modalfs
check_dmesg_clean
finish
