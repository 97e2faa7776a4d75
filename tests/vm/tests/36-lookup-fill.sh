#!/bin/bash
# Lookups that list their directory (issue 11, kmod/dir.c
# modalfs_dir_fill): in a directory that is not complete, the second name
# this kernel would send a LOOKUP for lists the directory instead
# (READDIRPLUS, up to 8 batches of 256), which primes every listed name
# and makes the directory complete. So a cold `stat` of each file, or an
# `rm` of each by name, costs a few requests, not one per name. Checked
# with the kernel's debugfs counters, after remounts (cold caches):
#  - stat of 300 files by name: 3 LOOKUPs (t, d, the first file), one
#    listing of 2 READDIRs, no GETATTR, and every size is right;
#  - a missing name is then answered without a request;
#  - unlink of 300 files by name: 299 of them asynchronous, and the
#    directory is empty after a remount;
#  - a directory of 2,400 files (more than 8 batches) is listed once by
#    a lookup, then never again while its inode is in memory: the 352
#    names past the listing get one LOOKUP each;
#  - a listed directory still follows NOTIFY (modalfsctl put and rm);
#  - 4 processes statting the same cold directory in different orders
#    (lookups that list and lookups that wait for each other) finish,
#    and see every file;
#  - -o nodirfill sends a LOOKUP per name, shows in /proc/mounts, and
#    can be switched by a remount (not by a second mount).
. "$(dirname "$0")/../../lib.sh"
plan 67

VOL=${VOL:-vmtest-fill}
MNT=$TEST_TMP/mnt
CTL=$MODALFSCTL
NFILES=300
NBIG=2400

require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

remount() {
	check "umount" umount "$MNT"
	check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
}
# mkfiles DIR N: files f0..f(N-1) in DIR, file i holding 7 * i bytes.
mkfiles() {
	"$PYTHON" -c "
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, 'f%d' % i), 'wb') as f:
        f.write(b'x' * (7 * i))
" "$1" "$2"
}
# statfiles DIR N [SEED]: stats f0..f(N-1) by name (in an order shuffled
# by SEED, if given); fails unless each exists with size 7 * i.
statfiles() {
	timeout 300 "$PYTHON" -c "
import os, random, sys
d, n = sys.argv[1], int(sys.argv[2])
order = list(range(n))
if len(sys.argv) > 3:
    random.Random(int(sys.argv[3])).shuffle(order)
bad = [i for i in order if os.stat(os.path.join(d, 'f%d' % i)).st_size != 7 * i]
sys.exit('wrong sizes: %s' % bad[:5] if bad else 0)
" "$@"
}
# rmfiles DIR N: unlinks f0..f(N-1) by name (a glob would READDIR).
rmfiles() {
	timeout 300 "$PYTHON" -c "
import os, sys
for i in range(int(sys.argv[2])):
    os.unlink(os.path.join(sys.argv[1], 'f%d' % i))
" "$1" "$2"
}

step "load, start the daemon, mount, make the trees"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" --force > /dev/null 2>&1
"$CTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$MODALFS_STATS" || finish
check "$NFILES files in t/d" mkfiles "$MNT/t/d" $NFILES
check "$NFILES files in t/r" mkfiles "$MNT/t/r" $NFILES
check "$NFILES files in t/p" mkfiles "$MNT/t/p" $NFILES
check "5 files in t/g" mkfiles "$MNT/t/g" 5
check "$NBIG files in t/big" mkfiles "$MNT/t/big" $NBIG

step "a cold stat of each file lists the directory once"
remount
stats_snap
check "stat of $NFILES files by name: each has its size" statfiles "$MNT/t/d" $NFILES
expect_eq "LOOKUPs: t, d and the first file" 3 "$(stats_since LOOKUP)"
expect_eq "one lookup listed the directory" 1 "$(stats_since lookup_fills)"
expect_eq "in two READDIRs (256 entries each at most)" 2 "$(stats_since READDIR)"
expect_eq "no GETATTR" 0 "$(stats_since GETATTR)"
stats_snap
check_fails "a missing name: ENOENT" stat "$MNT/t/d/nonesuch"
expect_eq "answered without a LOOKUP" 0 "$(stats_since LOOKUP)"
expect_eq "by the complete directory" 1 "$(stats_since avoided)"
stats_snap
check "a second stat of every file" statfiles "$MNT/t/d" $NFILES 7
expect_eq "sends nothing" 0 "$(stats_since total)"

step "a cold unlink of each file by name is asynchronous after the first"
remount
stats_snap
check "unlink $NFILES files by name" rmfiles "$MNT/t/r" $NFILES
expect_eq "$NFILES UNLINKs" $NFILES "$(stats_since UNLINK)"
expect_eq "all but the first asynchronous" $((NFILES - 1)) "$(stats_since async_queued)"
expect_eq "LOOKUPs: t, r and the first file" 3 "$(stats_since LOOKUP)"
check "syncfs" sync -f "$MNT"
remount
check "the directory is empty after a remount" test -z "$(ls -A "$MNT/t/r")"

step "a directory bigger than 8 batches is listed once, then looked up by name"
remount
stats_snap
check "stat of $NBIG files by name: each has its size" statfiles "$MNT/t/big" $NBIG
expect_eq "one lookup listed it" 1 "$(stats_since lookup_fills)"
expect_eq "8 READDIRs, then it stopped" 8 "$(stats_since READDIR)"
expect_eq "LOOKUPs: t, big, f0 and the $((NBIG - 2048)) names past the listing" \
	$((NBIG - 2048 + 3)) "$(stats_since LOOKUP)"
stats_snap
check "a second pass" statfiles "$MNT/t/big" $NBIG 3
expect_eq "sends nothing" 0 "$(stats_since total)"

step "a listed directory follows NOTIFY"
remount
stats_snap
check "stat t/g/f0 to f2 (the second lists t/g)" statfiles "$MNT/t/g" 3
expect_eq "t/g was listed" 1 "$(stats_since lookup_fills)"
check_fails "t/g/new does not exist yet" stat "$MNT/t/g/new"
echo fresh > "$TEST_TMP/new"
check "modalfsctl put t/g/new" "$CTL" put "$VOL" "$TEST_TMP/new" /t/g/new
check "t/g/new shows" grep -qx fresh "$MNT/t/g/new"
check "modalfsctl rm t/g/f4" "$CTL" rm "$VOL" /t/g/f4
check_fails "t/g/f4 is gone" stat "$MNT/t/g/f4"

step "4 processes stat one cold directory in different orders"
for round in 1 2 3; do
	remount
	pids=()
	for s in 1 2 3 4; do
		statfiles "$MNT/t/p" $NFILES "$round$s" &
		pids+=($!)
	done
	ok=0
	for p in "${pids[@]}"; do
		wait "$p" && ok=$((ok + 1))
	done
	expect_eq "round $round: all 4 saw every file" 4 "$ok"
done

step "-o nodirfill: lookups send a LOOKUP per name"
check "umount" umount "$MNT"
check "mount -o nodirfill" mount -t modalfs -o nodirfill "$VOL:/" "$MNT" || finish
check "/proc/mounts says nodirfill" grep -q "$MNT modalfs .*nodirfill" /proc/mounts
stats_snap
check "stat of the 5 files of t/g" statfiles "$MNT/t/g" 4
expect_eq "LOOKUPs: t, g and 4 files; no READDIR" "6 0" \
	"$(stats_since LOOKUP) $(stats_since READDIR)"
mkdir -p "$TEST_TMP/mnt2"
check_fails "a second mount asking for dirfill is refused" \
	mount -t modalfs -o dirfill "$VOL:/" "$TEST_TMP/mnt2"
check "remount -o dirfill" mount -o remount,dirfill "$MNT"
check_fails "/proc/mounts no longer says nodirfill" grep -q "$MNT modalfs .*nodirfill" /proc/mounts
check "umount" umount "$MNT"
check_dmesg_clean
finish
