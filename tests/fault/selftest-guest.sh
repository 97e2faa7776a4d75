#!/bin/bash
# Guest half of tests/fault/selftest.sh: the checkers must FAIL on a
# daemon that injects faults (MODALFSD_FAULT, userd/fault.h). Each tool
# first passes against the same daemon without faults, so its failure is
# the fault's doing, not the setup's.
. "$(dirname "$0")/../lib.sh"
. "$MODALFS_REPO/tests/posix/vmlib.sh"
TEST_NAME=fault-selftest
plan 21

VOL=selftest-fault
MNT=$TEST_TMP/mnt
require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
	unload_module
}
TEST_CLEANUP=cleanup

# up FAULT: a daemon with MODALFSD_FAULT=FAULT (empty: none), VOL mounted.
up() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
	MODALFSD_FAULT=$1 start_daemon "$TEST_DAEMON_DIR" &&
		"$MODALFSCTL" persisted "$VOL" > /dev/null &&
		mount -t modalfs "$VOL:/" "$MNT"
}

run_fsx() { "$MFS_FSX" -q -S 5 -N 400 "$MNT/fsx-$1" > "$TEST_TMP/fsx.log" 2>&1 || { tail -n 3 "$TEST_TMP/fsx.log"; return 1; }; }
# mfs-stress, then its -V check again after dropping the page cache, so
# that file data is read from the daemon.
run_stress() {
	rm -rf "$MNT/mfs-stress" "$TEST_TMP/logs-$1"
	"$MFS_STRESS" "$MNT" -p 2 -t 4 -s 3 -l "$TEST_TMP/logs-$1" > "$TEST_TMP/stress.log" 2>&1 ||
		{ tail -n 3 "$TEST_TMP/stress.log"; return 1; }
	drop_caches
	"$MFS_STRESS" "$MNT" -V -l "$TEST_TMP/logs-$1" > "$TEST_TMP/stress.log" 2>&1 ||
		{ tail -n 3 "$TEST_TMP/stress.log"; return 1; }
}
# mfs-posix's verdict through posix_run's per-group checks, counted here.
# run_posix LABEL [ARGS]: mfs-posix on a fresh directory.
run_posix() {
	local out l=$1
	shift
	rm -rf "$MNT/posix-$l" && mkdir "$MNT/posix-$l"
	out=$(TEST_NAME=posix-$l MODALFS_TEST_OUT= posix_run "$l" "$MNT/posix-$l" --readdir-count 300 "$@")
	printf '%s\n' "$out" | grep -E '^(not ok|    \| not ok)' | head -n 3
	! printf '%s\n' "$out" | grep -q '^not ok '
}

run_check "build mfs-posix, mfs-fsx, mfs-stress" posix_build || finish
run_check "insmod modalfs.ko" load_module || finish

step "the checkers pass on the daemon without faults"
run_check "daemon without faults, $VOL mounted" up "" || finish
check "mfs-fsx passes" run_fsx clean
check "mfs-stress passes" run_stress clean
check "mfs-posix passes" run_posix clean

step "READ_FLIP: one byte flipped in every READ reply"
run_check "daemon with READ_FLIP" up READ_FLIP || finish
check_fails "mfs-fsx fails" run_fsx flip
check_fails "mfs-stress fails" run_stress flip
check_fails "mfs-posix --drop-caches fails" run_posix flip --drop-caches

step "READDIR_DROP: the first entry of every READDIR reply dropped"
run_check "daemon with READDIR_DROP" up READDIR_DROP || finish
check_fails "mfs-stress fails" run_stress drop
check_fails "mfs-posix fails" run_posix drop

step "EIO=RENAME: every rename answered EIO"
run_check "daemon with EIO=RENAME" up EIO=RENAME || finish
check_fails "mfs-stress fails" run_stress eio
check_fails "mfs-posix fails" run_posix eio

step "EIO=WRITE: every write answered EIO"
run_check "daemon with EIO=WRITE" up EIO=WRITE || finish
check_fails "mfs-fsx fails" run_fsx eio

step "a VM script whose Python checker raises: 24-attrs with EIO=RENAME:rn2"
is_mounted "$MNT" && umount "$MNT"
stop_daemon
unload_module
out=$(MODALFSD_FAULT=EIO=RENAME:rn2 MODALFS_TEST_OUT= TEST_DAEMON_DIR=$TEST_TMP/attrs-daemon NO_COLOR=1 \
	bash "$MODALFS_REPO/tests/vm/tests/24-attrs.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^not ok|Traceback|Error|=== ' | head -n 8 | sed 's/^/    | /'
check_fails "24-attrs exits non-zero" test "$rc" -eq 0
expect_match "its checker's traceback is a failing check" '^not ok .*the checker ran to its end \(exit status 1\)' "$out"
expect_match "its plan is not met" '^not ok .*plan: [0-9]+ checks were made, [0-9]+ planned' "$out"
finish
