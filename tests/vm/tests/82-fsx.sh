#!/bin/bash
# The fsx-style data checker (tests/fsx/mfs-fsx) on modalfs: three seeds,
# then once with the volume mounted at two paths, writing through one and
# reading through the other (close-to-open: fsync, then a fresh open).
# Ops per seed: FSX_OPS (default 1000; 250000 with MODALFS_LONG=1, so the
# three seeds and the two-mount run, FSX_OPS2 = 250000 there, make
# 1,000,000 operations; fstests' generic/127 makes 100,000). A failure
# prints the seed, the operation number and the last operations for a
# replay. modalfs has no fallocate yet: every fallocate and punch-hole
# call must fail with EOPNOTSUPP (-F eopnotsupp) and such calls are not
# counted as operations. After each run
# the file read through the mount must equal the daemon's copy
# (modalfsctl get, no page cache involved).
# Two mounts of one volume share one superblock today (sget by volume id),
# so the two-mount run exercises two vfsmounts over one page cache; the
# script says so when st_dev is the same. That run also reads through
# `modalfsctl get` (mfs-fsx -X) after fsyncs: the daemon's store, past
# every kernel cache, must hold what the model says.
. "$(dirname "$0")/../../lib.sh"
. "$MODALFS_REPO/tests/posix/vmlib.sh"

VOL=vmtest-fsx
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
if [ -n "$MODALFS_LONG" ]; then
	OPS=${FSX_OPS:-250000}
	OPS2=${FSX_OPS2:-250000}
else
	OPS=${FSX_OPS:-1000}
	OPS2=${FSX_OPS2:-500}
fi
SEEDS=${FSX_SEEDS:-"11 22 33"}
read -r -a seeds <<< "$SEEDS"
# build, mfs_up (4), 3 per seed, the two-mount run (3), teardown (6)
plan $((14 + 3 * ${#seeds[@]}))

require_root

cleanup() {
	is_mounted "$MNT2" && umount "$MNT2"
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_check "build mfs-posix, mfs-fsx, mfs-stress" posix_build || finish
mfs_up "$VOL" "$MNT" || finish
mkdir -p "$MNT/fsx"

total=0
for seed in $SEEDS; do
	step "mfs-fsx seed $seed, $OPS operations"
	log=$TEST_TMP/fsx-$seed.log
	"$MFS_FSX" -q -F eopnotsupp -S "$seed" -N "$OPS" "$MNT/fsx/file-$seed" > "$log" 2>&1
	rc=$?
	keep_log "$log"
	if [ $rc -eq 0 ]; then
		tail -n 1 "$log" | sed 's/^/    | /'
		pass "mfs-fsx seed $seed: $OPS operations match the model"
		total=$((total + OPS))
		"$MODALFSCTL" get "$VOL" "/fsx/file-$seed" "$TEST_TMP/daemon-copy" >/dev/null 2>&1
		check "seed $seed: the daemon's copy (modalfsctl get) equals the file read through the mount" \
			cmp "$TEST_TMP/daemon-copy" "$MNT/fsx/file-$seed"
		rm -f "$TEST_TMP/daemon-copy"
		# Every clean page of the file can go: nothing pins it (a leaked
		# page reference would, and pinned pages are never freed).
		sync
		echo 3 > /proc/sys/vm/drop_caches
		expect_eq "seed $seed: drop_caches evicts every page of the file" 0 \
			"$(cached_pages "$MNT/fsx/file-$seed")"
		echo "    | $(grep MemAvailable /proc/meminfo)"
	else
		tail -n 80 "$log" | sed 's/^/    | /'
		fail "mfs-fsx seed $seed: $OPS operations match the model (exit $rc)"
	fi
done
echo "    | $total operations over seeds $SEEDS, $OPS2 more through two mounts"

step "mfs-fsx through two mounts of $VOL, $OPS2 operations"
mkdir -p "$MNT2"
if check "mount $VOL:/ a second time at $MNT2" mount -t modalfs "$VOL:/" "$MNT2"; then
	if [ "$(stat -c %d "$MNT")" = "$(stat -c %d "$MNT2")" ]; then
		echo "    | NOTE: both mounts share one superblock (same st_dev): one page cache"
	fi
	log=$TEST_TMP/fsx-two-mounts.log
	# -X: a third reader past every kernel cache, the daemon's store
	"$MFS_FSX" -q -F eopnotsupp -S 44 -N "$OPS2" -2 "$MNT2/fsx/two" \
		-X "$MODALFSCTL get $VOL /fsx/two -" "$MNT/fsx/two" > "$log" 2>&1
	rc=$?
	keep_log "$log"
	if [ $rc -eq 0 ]; then
		tail -n 1 "$log" | sed 's/^/    | /'
		pass "mfs-fsx writing via $MNT, reading via $MNT2 and modalfsctl get: all reads match"
	else
		tail -n 80 "$log" | sed 's/^/    | /'
		fail "mfs-fsx writing via $MNT, reading via $MNT2 and modalfsctl get: all reads match (exit $rc)"
	fi
	check "umount $MNT2" umount "$MNT2"
fi
rm -rf "$MNT/fsx"

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
