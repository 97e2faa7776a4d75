#!/bin/bash
# Product brief scenario 6, datasette: one process writes a SQLite
# database on the volume while others query it, through the same mount
# and through a second mount of the volume, once with a rollback journal
# (fcntl locks across processes) and once in WAL mode (fcntl locks plus a
# shared writable mmap of the -shm file). Every snapshot a reader sees
# must be consistent, PRAGMA integrity_check must say ok, and every
# transaction the writer saw commit (logged outside the volume) must be
# there, also after unmount + daemon restart + remount, including WAL
# commits a writer left in the -wal file by exiting without a checkpoint.
# Driver: tests/scenarios/datasette.py (tests/scenarios/selftest.sh proves
# its checks on tmpfs). NTXN: 100 per mode (74 s at host load 7, 134 s at 13); MODALFS_LONG=1:
# 2000 (~15 min: the readers rescan a growing table).
. "$(dirname "$0")/../../lib.sh"
plan 32

VOL=vmtest-datasette
DRIVER=$MODALFS_REPO/tests/scenarios/datasette.py
if [ -n "${MODALFS_LONG:-}" ]; then NTXN=2000 TIMEOUT=3600; else NTXN=100 TIMEOUT=600; fi
NTXN=${DATASETTE_TXNS:-$NTXN}
MODES="delete wal"

require_root
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	local m
	for m in m1 m2; do is_mounted "$TEST_TMP/$m" && umount "$TEST_TMP/$m"; done
	stop_daemon
}
TEST_CLEANUP=cleanup

mount_both() {
	local m
	for m in m1 m2; do
		mkdir -p "$TEST_TMP/$m"
		check "mount -t modalfs $VOL:/ $m" mount -t modalfs "$VOL:/" "$TEST_TMP/$m" || return 1
	done
}

# db_check MOUNT MODE WHAT: integrity_check and every logged commit.
db_check() {
	if "$PYTHON" "$DRIVER" check "$TEST_TMP/$1/$2/db.sqlite" "$TEST_TMP/$2.log" "$NTXN" \
		> "$TEST_TMP/check.out" 2>&1; then
		pass "$2: $3: integrity_check ok, all $NTXN commits present"
	else
		sed 's/^/    | /' "$TEST_TMP/check.out" | head -n 20
		fail "$2: $3: integrity_check ok, all $NTXN commits present"
	fi
}

tstep "load the module, start the daemon, create $VOL, mount it twice"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" >/dev/null 2>&1	# left over from an earlier run
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
mount_both || finish

for mode in $MODES; do
	tstep "$mode: 1 writer ($NTXN transactions), 2 readers in its mount, 1 in the other"
	mkdir -p "$TEST_TMP/m1/$mode"
	db=$mode/db.sqlite
	rm -f "$TEST_TMP/$mode.log" "$TEST_TMP/$mode.done"
	pids=()
	"$PYTHON" "$DRIVER" write "$TEST_TMP/m1/$db" "$mode" "$NTXN" "$TEST_TMP/$mode.log" \
		"$TEST_TMP/$mode.done" > "$TEST_TMP/$mode.writer" 2>&1 &
	pids+=($!)
	for r in m1 m1 m2; do
		"$PYTHON" "$DRIVER" read "$TEST_TMP/$r/$db" "$TEST_TMP/$mode.done" "$TIMEOUT" \
			> "$TEST_TMP/$mode.reader${#pids[@]}" 2>&1 &
		pids+=($!)
	done
	rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	cat "$TEST_TMP/$mode".writer "$TEST_TMP/$mode".reader* | head -n 40 | sed 's/^/    | /'
	expect_eq "$mode: writer and readers exit 0" 0 "$rc"
	expect_eq "$mode: broken invariants in the readers' snapshots" 0 \
		"$(cat "$TEST_TMP/$mode".reader* | grep -c '^BROKEN ')"
	seen=$(sed -n 's/^reader: [0-9]* snapshots, \([0-9]*\) distinct.*/\1/p' "$TEST_TMP/$mode".reader* |
		awk '{ s += $1 } END { print s + 0 }')
	check "$mode: the readers saw the database change while it was written ($seen states > 6)" \
		test "$seen" -gt 6
	db_check m2 "$mode" "through the other mount"
	if [ "$mode" = wal ]; then
		# The last connection closing checkpoints the WAL and removes it.
		ls_lacks "wal: -wal and -shm are gone once every connection closed" \
			"$TEST_TMP/m2/wal" '-(wal|shm)$'
	else
		ls_lacks "delete: no -journal left" "$TEST_TMP/m2/delete" '-journal$'
	fi
done

EXTRA=20
tstep "wal: $EXTRA more transactions by a writer that exits without a checkpoint"
check "wal: writer commits $EXTRA transactions and exits" "$PYTHON" "$DRIVER" write \
	"$TEST_TMP/m2/wal/db.sqlite" wal "$EXTRA" "$TEST_TMP/wal.log" "$TEST_TMP/wal.done" --no-checkpoint
check "wal: it left a non-empty db.sqlite-wal (seen through the other mount)" test -s "$TEST_TMP/m1/wal/db.sqlite-wal"

tstep "unmount, restart the daemon, mount again"
for m in m1 m2; do check "umount $m" umount "$TEST_TMP/$m"; done
drop_caches
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
mount_both || finish
args=("$TEST_TMP/m1/delete/db.sqlite" "$TEST_TMP/delete.log" "$NTXN"
	"$TEST_TMP/m1/wal/db.sqlite" "$TEST_TMP/wal.log" $((NTXN + EXTRA)))
if "$PYTHON" "$DRIVER" check "${args[@]}" > "$TEST_TMP/check.out" 2>&1; then
	pass "delete, wal (recovered from its -wal): after unmount + daemon restart: integrity_check ok, every commit present"
else
	fail "delete, wal (recovered from its -wal): after unmount + daemon restart: integrity_check ok, every commit present"
fi
sed 's/^/    | /' "$TEST_TMP/check.out" | head -n 20
echo "    | total ${SECONDS}s"
for m in m1 m2; do check "umount $m" umount "$TEST_TMP/$m"; done
check "modalfsctl delete $VOL" "$MODALFSCTL" delete "$VOL"

check_stop_and_unload
check_dmesg_clean
finish
