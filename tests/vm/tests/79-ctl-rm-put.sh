#!/bin/bash
# Issue 12, data safety items 5 and 7 and the two small things a new user
# hit: `modalfsctl rm` and `delete` must not free what a lazily detached
# (umount -l) mount still has open (the kernel's sysfs entry says so, not
# mountinfo); `put` is atomic: killed half way, or failing on a full
# store, it leaves the old file whole; the progress bar is drawn only on a
# terminal; `mount -t modalfs` of an unknown volume names it and points at
# `modalfsctl list`.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-rmput
CTL=$MODALFSCTL
M=$TEST_TMP/m
L=$TEST_TMP/l
PUT_PID=
HELPER_INSTALLED=

require_root
plan 38
mkdir -p "$M" "$L"
cleanup() {
	[ -n "$PUT_PID" ] && kill -9 "$PUT_PID" 2>/dev/null
	exec 3<&- 2>/dev/null
	is_mounted "$M" && umount "$M"
	[ -n "$HELPER_INSTALLED" ] && rm -f /sbin/mount.modalfs
	stop_daemon
}
TEST_CLEANUP=cleanup

# The first bytes of /f, printable (a failed check shows them).
head_f() {
	"$CTL" get "$VOL" /f - 2>&1 | head -c 64 | tr -c '[:print:]' '?'
}

run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" --force > /dev/null 2>&1
check "create $VOL" "$CTL" create "$VOL" || finish
vol_id=$("$CTL" list --json | "$PYTHON" -c 'import json,sys; print(*[v["vol_id"] for v in json.load(sys.stdin) if v["name"] == sys.argv[1]])' "$VOL")

step "rm and delete with a lazily detached mount holding an unlinked file open"
check "mount $VOL" "$CTL" mount "$VOL" "$M" || finish
head -c 300000 /dev/urandom > "$L/open.bin"
cp "$L/open.bin" "$M/open"
echo other > "$M/other"
sync
exec 3< "$M/open"
rm "$M/open"
check "umount -l" umount -l "$M"
check_fails "... mountinfo no longer shows it" grep -q " - modalfs $VOL:" /proc/self/mountinfo
check "... but its superblock is alive in sysfs" test -d "/sys/fs/modalfs/volumes/$vol_id"
check "modalfsctl rm of another file" "$CTL" rm "$VOL" /other
drop_caches
check "the unlinked file still reads whole through the open descriptor" cmp - "$L/open.bin" <&3
out=$("$CTL" delete "$VOL" 2>&1)
expect_eq "delete without --force is refused" 1 "$?"
expect_match "... saying a lazily unmounted mount uses it" "lazily unmounted" "$out"
exec 3<&-
for ((i = 0; i < 100; i++)); do
	[ -d "/sys/fs/modalfs/volumes/$vol_id" ] || break
	sleep 0.1
done
check_fails "closing it ends the superblock" test -d "/sys/fs/modalfs/volumes/$vol_id"
# (Where delete went ahead above, the rest needs the volume back.)
"$CTL" create "$VOL" > /dev/null 2>&1

step "put killed half way leaves the old file whole"
printf 'the good old content\n' > "$L/old"
check "put the old file" "$CTL" put "$VOL" "$L/old" /f
head -c $((48 << 20)) /dev/urandom > "$L/big"
"$CTL" put "$VOL" "$L/big" /f 2>/dev/null &
PUT_PID=$!
# Wait until the new content has started to arrive, in a staging file or
# (without atomic put) in /f itself.
for ((i = 0; i < 300; i++)); do
	out=$("$CTL" ls "$VOL" / 2>/dev/null)
	[[ $out == *.modalfs-put.* ]] && break
	[[ $(awk '$NF == "f" { print $2 }' <<< "$out") != 21 ]] && break
	sleep 0.1
done
kill -9 "$PUT_PID"
wait "$PUT_PID" 2>/dev/null
PUT_PID=
expect_eq "after kill -9 of put, /f has its old content" "the good old content?" "$(head_f)"
for ((i = 0; i < 50; i++)); do
	[[ $("$CTL" ls "$VOL" /) == *.modalfs-put.* ]] || break
	sleep 0.1
done
check_fails "... and no staging file is left" grep -q modalfs-put <<< "$("$CTL" ls "$VOL" /)"
check "a whole put then replaces it" "$CTL" put "$VOL" "$L/big" /f
check "... byte for byte" cmp "$L/big" <("$CTL" get "$VOL" /f - 2>/dev/null)

step "the progress bar only on a terminal"
check "put with stderr to a file" "$CTL" put "$VOL" "$L/big" /g 2> "$TEST_TMP/put.err"
expect_eq "... writes nothing to it" "" "$(tr '\r' '\n' < "$TEST_TMP/put.err")"
script -qec "$CTL put $VOL $L/big /h" /dev/null > "$TEST_TMP/put.tty" 2>&1
expect_match "... and draws the bar on a terminal" '100%' "$(tr '\r' '\n' < "$TEST_TMP/put.tty")"

step "mount -t modalfs of a volume that does not exist"
if [ -n "${MODALFS_IN_VM:-}" ]; then
	cp "$MODALFS_REPO/tools/mount.modalfs" /sbin/mount.modalfs && HELPER_INSTALLED=1
	out=$(mount -t modalfs no-such-volume:/ "$M" 2>&1)
	expect_match "names the volume" '^modalfs: no volume named "no-such-volume"' "$out"
	expect_match "... and points at modalfsctl list" "modalfsctl list" "$out"
	out=$(mount -t modalfs "$VOL:/nope" "$M" 2>&1)
	expect_match "a missing directory in a volume is named as such" "volume \"$VOL\" has no directory /nope" "$out"
	rm -f /sbin/mount.modalfs && HELPER_INSTALLED=
else
	skip "mount helper: only inside the VM"
	skip "mount helper: only inside the VM"
	skip "mount helper: only inside the VM"
fi
check "delete $VOL" "$CTL" delete "$VOL"

step "put into a full store leaves the old file whole"
run_check "stop modalfsd" stop_daemon
run_check "modalfsd on a 16 MiB store" start_daemon "$TEST_TMP/small" --map-size 16M || finish
check "create $VOL" "$CTL" create "$VOL"
check "put the old file" "$CTL" put "$VOL" "$L/old" /f
out=$("$CTL" put "$VOL" "$L/big" /f 2>&1)
expect_eq "putting 48 MiB fails" 1 "$?"
expect_match "... with ENOSPC" "No space left on device" "$out"
expect_eq "... and /f has its old content" "the good old content?" "$(head_f)"
check_fails "... and no staging file is left" grep -q modalfs-put <<< "$("$CTL" ls "$VOL" /)"
check "delete $VOL" "$CTL" delete "$VOL"

check_stop_and_unload
check_dmesg_clean
finish
