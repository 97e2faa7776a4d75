#!/bin/bash
# Issue 5, durability 1: kill -9 of modalfsd at random moments during an
# fsync-heavy workload (tests/fault/workload.py: creates, writes,
# truncates, renames, unlinks), restarting it each round. After each round:
#   - the workload saw no error: what was in flight at the kill was resent
#     to the next daemon and applied exactly once (a create or rename
#     applied twice fails with EEXIST/ENOENT);
#   - every operation an fsync acknowledged is present and byte-exact,
#     read back from the daemon (caches dropped);
#   - modalfsd --check passes on the store (when the daemon has --check);
#   - the kernel logged no oops/WARN/BUG/lockdep report.
# FAULT_KILL_ROUNDS (default 50, 150 with MODALFS_LONG=1), FAULT_SEED.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-kill
MNT=$TEST_TMP/mnt
LOGS=$TEST_TMP/logs
WORKLOAD=$MODALFS_REPO/tests/fault/workload.py
if [ -n "${MODALFS_LONG:-}" ]; then
	ROUNDS=${FAULT_KILL_ROUNDS:-150}
else
	ROUNDS=${FAULT_KILL_ROUNDS:-50}
fi
SEED=${FAULT_SEED:-$RANDOM}
RANDOM=$SEED

require_root
mkdir -p "$MNT" "$LOGS"

cleanup() {
	[ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null
	is_mounted "$MNT" && { umount "$MNT" || umount -l "$MNT"; }
	stop_daemon
}
TEST_CLEANUP=cleanup

HAVE_CHECK=
"$MODALFSD" --help 2>&1 | grep -q -- '--check' && HAVE_CHECK=1

# store_check: modalfsd --check on the store as the kill left it (no
# daemon running: the check is the strict, offline one).
store_check() {
	"$MODALFSD" --check --state-dir "$TEST_DAEMON_DIR" > "$TEST_TMP/check.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || sed 's/^/    | /' "$TEST_TMP/check.out" | head -n 20
	return $rc
}

# rand_sleep LO HI: sleep a random number of milliseconds in [LO, HI].
rand_sleep() {
	local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}

kernel_clean_since_mark() {
	local bad
	bad=$(dmesg_since | grep -E "$KERNEL_BAD_RE")
	[ -z "$bad" ] && return 0
	printf '%s\n' "$bad" | head -n 10 | sed 's/^/    | /'
	return 1
}

step "load the module, start the daemon, mount $VOL (seed $SEED, $ROUNDS rounds)"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount -t modalfs $VOL:/ $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
[ -n "$HAVE_CHECK" ] || echo "    | note: modalfsd has no --check yet; the store checks are skipped (not counted)"

t0=$(date +%s)
r_ok=0
for ((r = 1; r <= ROUNDS; r++)); do
	dmesg_mark
	rm -f "$TEST_TMP/stop"
	# The workload verifies its own round when stopped (caches dropped):
	# exit 3 = an op failed, 4 = acknowledged data missing or wrong.
	"$PYTHON" "$WORKLOAD" run --dir "$MNT/k$r" --log "$LOGS/k$r.log" --seed "$SEED-$r" \
		--stop "$TEST_TMP/stop" --verify > "$TEST_TMP/w.out" 2>&1 &
	WPID=$!
	# The kill lands anywhere from the round directory's creation to the
	# middle of a stream of ops.
	rand_sleep 100 1500
	kill -KILL "$MODALFSD_PID" 2>/dev/null
	wait "$MODALFSD_PID" 2>/dev/null
	MODALFSD_PID=
	round_ok=1
	if [ -n "$HAVE_CHECK" ]; then
		run_check "round $r: modalfsd --check passes on the killed daemon's store" store_check || round_ok=
	fi
	rand_sleep 0 300
	if ! start_daemon "$TEST_DAEMON_DIR"; then
		fail "round $r: modalfsd restarts after kill -9"
		break
	fi
	rand_sleep 0 300
	touch "$TEST_TMP/stop"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$WPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$WPID" 2>/dev/null; then
		fail "round $r: the workload finishes within 60 s of the restart"
		kill -KILL "$WPID"
		wait "$WPID" 2>/dev/null
		WPID=
		break
	fi
	wait "$WPID"
	wrc=$?
	WPID=
	ops=$(grep -o '[0-9]* ops acknowledged' "$TEST_TMP/w.out")
	if [ $wrc -eq 0 ] || [ $wrc -eq 4 ]; then
		pass "round $r: every op completed without an error (${ops%% *} ops)"
	else
		sed 's/^/    | /' "$TEST_TMP/w.out" | grep -v '^    | verify: ' | tail -n 5
		fail "round $r: every op completed without an error (exit $wrc; a resent op not applied exactly once?)"
		round_ok=
	fi
	if grep -q '^verify: .* 0 mismatches' "$TEST_TMP/w.out"; then
		pass "round $r: acknowledged ops present and byte-exact"
	else
		sed 's/^/    | /' "$TEST_TMP/w.out" | grep '^    | verify: ' | tail -n 10
		fail "round $r: acknowledged ops present and byte-exact"
		round_ok=
	fi
	run_check "round $r: kernel log clean" kernel_clean_since_mark || round_ok=
	[ -n "$round_ok" ] && r_ok=$((r_ok + 1))
done
echo "    | $r_ok of $ROUNDS rounds fully passed in $(( $(date +%s) - t0 )) s"

step "every round's acknowledged ops, all together, after a last restart"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
drop_caches
logs=()
for f in "$LOGS"/k*.log; do logs+=(--log "$f"); done
check "all rounds' acknowledged ops present and byte-exact" \
	"$PYTHON" "$WORKLOAD" verify --dir "$MNT" "${logs[@]}"

step "unmount, stop the daemon, unload the module"
check "umount $MNT" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
