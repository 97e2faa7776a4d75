#!/bin/bash
# Exactly once across a daemon death between commit and reply: for each
# non-idempotent op, the daemon exits right after committing the op
# (MODALFSD_FAULT_DIE_BEFORE_REPLY), a new daemon answers the kernel's
# retransmission from the duplicate-request cache: the syscall succeeds
# (no EEXIST/ENOENT from a second run) and the effect happened once.
# Written by the userd-core helper (its MODALFSD_FAULT_DIE_BEFORE_REPLY hook
# takes the protocol command number), adopted into make check by faults.
. "$(dirname "$0")/../../lib.sh"
plan 40
VOL=vmtest-once
MNT=$TEST_TMP/mnt
STATE=$TEST_TMP/state
require_root
mkdir -p "$MNT"
cleanup() { is_mounted "$MNT" && umount "$MNT"; stop_daemon; }
TEST_CLEANUP=cleanup
run_check "insmod" load_module || finish
run_check "modalfsd registers" start_daemon "$STATE" || finish
"$MODALFSCTL" persisted "$VOL" >/dev/null
check "mount" mount -t modalfs "$VOL:/" "$MNT" || finish
mkdir "$MNT/rd" "$MNT/ren"; echo hi > "$MNT/f"; echo x > "$MNT/gone"
setfattr() { /usr/bin/python3 -c "import os,sys; os.setxattr(sys.argv[1], sys.argv[2], b'v', os.XATTR_CREATE)" "$@"; }
rmxattr() { /usr/bin/python3 -c "import os,sys; os.removexattr(sys.argv[1], sys.argv[2])" "$@"; }
setfattr "$MNT/f" user.old

# once OPNUM DESC CMD...: CMD's request kills the daemon after commit.
once() {
	local op=$1 desc=$2 pid rc
	shift 2
	stop_daemon
	MODALFSD_FAULT_DIE_BEFORE_REPLY=$op start_daemon "$STATE" || { fail "$desc: fault daemon"; return; }
	local dpid=$MODALFSD_PID
	"$@" & pid=$!
	for ((i = 0; i < 100; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
	wait "$dpid"; rc=$?
	MODALFSD_PID=
	expect_eq "$desc: daemon died before replying" 3 "$rc"
	run_check "$desc: new daemon" start_daemon "$STATE"
	wait "$pid"; rc=$?
	expect_eq "$desc: syscall succeeded" 0 "$rc"
}
once 9 mkdir mkdir "$MNT/newdir"
once 8 "create O_EXCL" /usr/bin/python3 -c "import os; os.close(os.open('$MNT/excl', os.O_CREAT|os.O_EXCL|os.O_WRONLY))"
once 10 symlink ln -s target "$MNT/sl"
once 12 link ln "$MNT/f" "$MNT/hard"
once 15 "rename" mv "$MNT/ren" "$MNT/renamed"
once 13 unlink rm "$MNT/gone"
once 14 rmdir rmdir "$MNT/rd"
once 21 "setxattr CREATE" setfattr "$MNT/f" user.new
once 23 removexattr rmxattr "$MNT/f" user.old
drop_caches
expect_eq "tree after" "excl f hard newdir renamed sl" "$(cd "$MNT" && ls | LC_ALL=C sort | tr "\n" " " | sed "s/ $//")"
expect_eq "f nlink" 2 "$(stat -c %h "$MNT/f")"
expect_eq "root nlink" 4 "$(stat -c %h "$MNT")"
expect_eq "xattrs" "user.new" "$(/usr/bin/python3 -c "import os; print(' '.join(sorted(os.listxattr('$MNT/f'))))")"
sf=$(stat -f -c '%b %f %a %S' "$MNT" 2>&1); echo "    | stat -f: $sf"
set -- $sf; b=$1 f=$2 a=$3 bs=$4
echo "    | statfs: blocks $b free $f avail $a bsize $bs"
check "statfs: 0 < avail <= free <= blocks" test "$a" -gt 0 -a "$a" -le "$f" -a "$f" -le "$b"
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check" "$MODALFSD" --check --state-dir "$STATE"
check "rmmod" rmmod modalfs
check_dmesg_clean
finish
