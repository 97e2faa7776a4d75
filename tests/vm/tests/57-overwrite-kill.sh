#!/bin/bash
# fsx-style 4 KiB random overwrites of an 8 MiB file, checked against a
# model in memory, with modalfsd killed (-9) in the middle and restarted:
# writes acknowledged before the kill (in the daemon's block store, not
# synced) and writes made while it was down (resent by the kernel) must
# all be there. Every 64th write is followed by a read of a random page,
# every 256th by fsync; at the end the whole file, read after dropping
# caches, and the daemon's copy (modalfsctl get) must equal the model.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-overwrite
MNT=$TEST_TMP/mnt
STATE=$TEST_TMP/state
OPS=${OVERWRITE_OPS:-3000}
SEED=${OVERWRITE_SEED:-$RANDOM}
require_root
plan 13
mkdir -p "$MNT"
cleanup() {
	[ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

run_check "insmod" load_module || finish
run_check "modalfsd registers" start_daemon "$STATE" || finish
"$MODALFSCTL" persisted "$VOL" >/dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "$OPS random 4 KiB overwrites (seed $SEED), modalfsd killed at the half"
"$PYTHON" - "$MNT/f" "$OPS" "$SEED" "$TEST_TMP" > "$TEST_TMP/ow.out" 2>&1 <<'PY' &
import os, random, sys, time
path, ops, seed, tmp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
PAGES = 2048
rnd = random.Random(seed)
model = bytearray(rnd.randbytes(PAGES * 4096))
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, model, 0)
os.fsync(fd)
for i in range(ops):
    if i == ops // 2:
        open(tmp + "/half", "w").close()
    p = rnd.randrange(PAGES)
    data = rnd.randbytes(4096)
    os.pwrite(fd, data, p * 4096)
    model[p * 4096:(p + 1) * 4096] = data
    if i % 64 == 63:
        q = rnd.randrange(PAGES)
        got = os.pread(fd, 4096, q * 4096)
        if got != model[q * 4096:(q + 1) * 4096]:
            print("MISMATCH at op %d, page %d" % (i, q))
            sys.exit(1)
    if i % 256 == 255:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.fsync(fd)
os.close(fd)
open(tmp + "/model", "wb").write(model)
print("wrote %d pages" % ops)
PY
WPID=$!
for ((i = 0; i < 600; i++)); do [ -e "$TEST_TMP/half" ] && break; sleep 0.1; done
check "the writer reached the half" test -e "$TEST_TMP/half"
kill -KILL "$MODALFSD_PID"
wait "$MODALFSD_PID" 2>/dev/null
MODALFSD_PID=
sleep 1
run_check "modalfsd registers again" start_daemon "$STATE" || finish
wait "$WPID"
rc=$?
WPID=
sed 's/^/    | /' "$TEST_TMP/ow.out"
check "the writer saw no error and every read matched the model" test $rc -eq 0
drop_caches
check "the file read after dropping caches equals the model" cmp "$MNT/f" "$TEST_TMP/model"
"$MODALFSCTL" get "$VOL" /f "$TEST_TMP/daemon-copy" >/dev/null 2>&1
check "the daemon's copy (modalfsctl get) equals the model" cmp "$TEST_TMP/daemon-copy" "$TEST_TMP/model"
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check" "$MODALFSD" --check --state-dir "$STATE"
check "rmmod" rmmod modalfs
check_dmesg_clean
finish
