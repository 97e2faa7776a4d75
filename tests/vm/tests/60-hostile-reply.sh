#!/bin/bash
# A daemon that lies (tests/tools/hostile-daemon.py): every kind of
# malformed reply fails its operation with EIO and a rate-limited log line,
# never an oops, WARN or hang; replies to unknown, reused or abandoned ids
# are dropped with an ENOENT ack; the mount keeps working and unmounts.
# Also: soft,timeo with a slow and a silent daemon, the sysfs abort file,
# umount -f, the mount options themselves, debugfs modalfs/requests, and
# the "has not answered ... still waiting" log line of a hard mount.
. "$(dirname "$0")/../../lib.sh"
plan 91

hostile_init
VOLDIR=/sys/fs/modalfs/volumes/7
OP_LOOKUP=4	# enum modalfs_op in netlink/modalfs.h

# wait_count REGEX N: until N lines of the log match.
wait_count() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -Ec -- "$1" "$LOG")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

step "load the module and register the hostile daemon"
hostile_start
# nodirfill: each stat below must be a LOOKUP of its name, not a READDIR
# of the root that would make it complete (kmod/dir.c modalfs_dir_fill).
expect_eq "mount hostile:/ (hard by default)" OK "$($ERRNO mount hostile:/ "$MNT" nodirfill)" || finish
expect_match "/proc/mounts shows hard,timeo=60" "$MNT modalfs rw.*,hard,timeo=60" "$(cat /proc/mounts)"

step "well-formed answers work"
expect_eq "stat ok" OK "$($ERRNO stat "$MNT/ok")"
expect_eq "cat ok gives the daemon's bytes" "hello" "$(cat "$MNT/ok")"
# Not the root: its READDIR lists only the daemon's entries table, not the
# names below, and a root listed to the end is complete (kmod/complete.c),
# so the kernel would answer those names ENOENT without sending a LOOKUP.
expect_eq "readdir of an empty directory" OK "$($ERRNO listdir "$MNT/sub")"

step "malformed LOOKUP replies fail with EIO; the daemon's ack says EINVAL"
dmesg_mark
BAD="missing-attr trunc-attr no-attr bad-type nlink-max size-huge errno-big extra-attr oversized"
for n in $BAD; do
	expect_eq "stat $n -> EIO" EIO "$(timeout 30 $ERRNO stat "$MNT/$n")"
done
wait_for "^ack lookup:oversized " 20
for n in $BAD; do
	expect_match "reply for $n acked EINVAL" "^ack lookup:$n EINVAL$" "$(cat "$LOG")"
done
expect_eq "ERRNO of 8 bytes -> EIO" EIO "$(timeout 30 $ERRNO stat "$MNT/anything")"
msgs=$(dmesg_since)
expect_match "the kernel logs malformed replies" "modalfs: malformed reply to request" "$msgs"
expect_match "the kernel logs undecodable replies" "modalfs: undecodable reply to request" "$msgs"

step "a type that contradicts the cached inode fails with EIO"
expect_eq "stat flip (ino 30, a file)" OK "$($ERRNO stat "$MNT/flip")"
dmesg_mark
expect_eq "stat flip-dir (ino 30 as a directory) -> EIO" EIO "$(timeout 30 $ERRNO stat "$MNT/flip-dir")"
expect_match "the kernel logs the conflict" "conflicting identity" "$(dmesg_since)"

step "data and directory replies that break their limits fail with EIO"
expect_eq "READ with one byte more than asked -> EIO" EIO "$(timeout 30 $ERRNO read "$MNT/long-data")"
expect_eq "READ with a short chunk before another -> EIO" EIO "$(timeout 30 $ERRNO read "$MNT/short-chunk")"
expect_eq "READDIR with SIZE+1 entries -> EIO" EIO "$(timeout 30 $ERRNO listdir "$MNT/dir-many")"
expect_eq "READDIR with cookies going backwards -> EIO" EIO "$(timeout 30 $ERRNO listdir "$MNT/dir-back")"
expect_eq "READDIR with cookie 0 -> EIO" EIO "$(timeout 30 $ERRNO listdir "$MNT/dir-zero")"
expect_eq "READDIR whose entry's ATTR is another inode -> EIO" EIO "$(timeout 30 $ERRNO listdir "$MNT/dir-plus")"

step "replies to unknown and already answered ids are dropped"
expect_eq "stat unknown-id succeeds" OK "$($ERRNO stat "$MNT/unknown-id")"
wait_for "^ack lookup:unknown-id OK" 20
expect_match "the bogus id is acked ENOENT" "^ack lookup:unknown-id:bogus ENOENT$" "$(cat "$LOG")"
expect_match "the real reply is acked 0" "^ack lookup:unknown-id OK$" "$(cat "$LOG")"
expect_eq "stat dup-reply succeeds" OK "$($ERRNO stat "$MNT/dup-reply")"
wait_for "^ack lookup:dup-reply:again" 20
expect_match "the second reply to one id is acked ENOENT" "^ack lookup:dup-reply:again ENOENT$" "$(cat "$LOG")"
expect_eq "the mount still reads" "hello" "$(cat "$MNT/ok")"

step "sysfs abort: waiting counts, abort fails the request, the volume stays aborted"
expect_eq "$VOLDIR/name names the volume" hostile "$(cat $VOLDIR/name)"
expect_eq "$VOLDIR/waiting is 0" 0 "$(cat $VOLDIR/waiting)"
$ERRNO stat "$MNT/hang" > "$TEST_TMP/hang.out" 2>&1 &
hang=$!
wait_for "^holding lookup:hang" 50
expect_eq "$VOLDIR/waiting is 1 while the daemon sits on a LOOKUP" 1 "$(cat $VOLDIR/waiting)"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
expect_match "debugfs modalfs/requests lists it: sent, sync, volume 7, op LOOKUP" \
	"^[0-9]+ $OP_LOOKUP sent [0-9]+ [0-9]+ 7 [0-9]+ sync$" "$(cat /sys/kernel/debug/modalfs/requests)"
expect_match "debugfs modalfs/requests shows the daemon and one in flight" \
	"^daemon registered port [0-9]+ gen [0-9]+ inflight 1/1024$" "$(cat /sys/kernel/debug/modalfs/requests)"
check_fails "writing 0 to abort is refused" sh -c "echo 0 > $VOLDIR/abort"
expect_eq "still waiting after the refused write" 1 "$(cat $VOLDIR/waiting)"
dmesg_mark
echo 1 > $VOLDIR/abort
wait $hang
expect_eq "the waiting stat fails with EIO" EIO "$(cat "$TEST_TMP/hang.out")"
expect_eq "$VOLDIR/waiting is 0" 0 "$(cat $VOLDIR/waiting)"
expect_match "the kernel logs the abort" "modalfs: volume hostile aborted through sysfs; 1 waiting" "$(dmesg_since)"
echo release > "$FIFO"
wait_for "^ack lookup:hang:released" 30
expect_match "the late reply to the aborted request is acked ENOENT" \
	"^ack lookup:hang:released ENOENT$" "$(cat "$LOG")"
expect_eq "new requests fail with EIO (FUSE semantics)" EIO "$($ERRNO stat "$MNT/ok2")"
expect_eq "mounting the volume again while aborted -> EBUSY" EBUSY "$($ERRNO mount hostile:/ "$TEST_TMP")"
check "umount the aborted mount" umount "$MNT"
check_fails "its sysfs directory is gone" test -e $VOLDIR

step "mount options"
dmesg_mark
expect_eq "unknown option -> EINVAL" EINVAL "$($ERRNO mount hostile:/ "$MNT" bogus-opt)"
msgs=$(dmesg_since)
expect_eq "one dmesg line names it" 1 "$(printf '%s\n' "$msgs" | grep -c "modalfs: unknown option 'bogus-opt'")"
expect_eq "timeo=0 -> EINVAL" EINVAL "$($ERRNO mount hostile:/ "$MNT" soft,timeo=0)"
expect_eq "timeo=3601 -> EINVAL" EINVAL "$($ERRNO mount hostile:/ "$MNT" soft,timeo=3601)"
expect_eq "timeo=x -> EINVAL" EINVAL "$($ERRNO mount hostile:/ "$MNT" timeo=x)"
expect_eq "mount soft,timeo=2" OK "$($ERRNO mount hostile:/ "$MNT" soft,timeo=2,nodirfill)"
expect_match "/proc/mounts shows soft,timeo=2" "$MNT modalfs rw.*,soft,timeo=2" "$(cat /proc/mounts)"
check_fails "remount,hard of the soft mount is refused" mount -o remount,hard "$MNT"
check "remount with the same options works" mount -o remount,soft,timeo=2 "$MNT"
mkdir -p "$TEST_TMP/mnt2"
expect_eq "a second mount with other options -> EBUSY" EBUSY "$($ERRNO mount hostile:/ "$TEST_TMP/mnt2" hard)"
expect_eq "a second mount with the same options shares it" OK "$($ERRNO mount hostile:/ "$TEST_TMP/mnt2" soft,timeo=2)"
check "umount the second mount" umount "$TEST_TMP/mnt2"

step "soft,timeo=2: a slow reply and no reply both fail with EIO in time"
expect_eq "stat slow (answered after 4 s) -> EIO" EIO \
	"$(MFS_ERRNO_TIME=$TEST_TMP/ms $ERRNO stat "$MNT/slow")"
ms=$(cat "$TEST_TMP/ms")
echo "    | took $ms ms"
check "it took 2 to 10 s ($ms ms)" test "$ms" -ge 1900 -a "$ms" -le 10000
wait_for "^ack lookup:slow:late" 50
expect_match "the late reply is acked ENOENT" "^ack lookup:slow:late ENOENT$" "$(cat "$LOG")"
expect_eq "stat hang (never answered) -> EIO" EIO \
	"$(MFS_ERRNO_TIME=$TEST_TMP/ms $ERRNO stat "$MNT/hang")"
ms=$(cat "$TEST_TMP/ms")
check "it took 2 to 10 s ($ms ms)" test "$ms" -ge 1900 -a "$ms" -le 10000
expect_eq "the soft mount still works" "hello" "$(cat "$MNT/ok")"
check "umount the soft mount" umount "$MNT"

step "umount -f aborts what waits"
expect_eq "mount hostile:/ (hard)" OK "$($ERRNO mount hostile:/ "$MNT" nodirfill)"
$ERRNO stat "$MNT/hang" > "$TEST_TMP/hang.out" 2>&1 &
hang=$!
check "the daemon holds a third LOOKUP of hang" wait_count "^holding lookup:hang" 3
umount -f "$MNT" 2>/dev/null
wait $hang
expect_eq "the waiting stat fails with EIO" EIO "$(cat "$TEST_TMP/hang.out")"
is_mounted "$MNT" && umount "$MNT"
check_fails "the mount is gone" is_mounted "$MNT"

step "hard,timeo=1: a request the daemon sits on is logged once, and so is its answer"
expect_eq "mount hostile:/ hard,timeo=1" OK "$($ERRNO mount hostile:/ "$MNT" hard,timeo=1)"
dmesg_mark
$ERRNO stat "$MNT/hang" > "$TEST_TMP/hang.out" 2>&1 &
hang=$!
check "the daemon holds a fourth LOOKUP of hang" wait_count "^holding lookup:hang" 4
slow_logged() {
	dmesg_since | grep -Eq "modalfs: modalfsd has not answered 1 request for 1 s or more \(oldest: request [0-9]+, op $OP_LOOKUP, volume 7, [0-9]+ s\); still waiting \(hard mount\)"
}
for _ in $(seq 300); do slow_logged && break; sleep 0.1; done
check "dmesg says modalfsd has not answered it (NFS's \"still trying\")" slow_logged
check "the stat still waits (hard)" kill -0 "$hang"
echo release > "$FIFO"
wait $hang
expect_eq "the stat gets the daemon's late answer" ENOENT "$(cat "$TEST_TMP/hang.out")"
msgs=$(dmesg_since)
expect_match "dmesg says when the answer came" "modalfs: modalfsd answered request [0-9]+ \(op $OP_LOOKUP\) after [0-9]+ s" "$msgs"
expect_eq "the request was logged once" 1 "$(printf '%s\n' "$msgs" | grep -c "has not answered")"
check "umount" umount "$MNT"

step "stop the hostile daemon, unload the module"
kill "$HOSTILE_PID"; wait "$HOSTILE_PID" 2>/dev/null; HOSTILE_PID=
check "rmmod modalfs" rmmod modalfs

check_dmesg_clean
finish
