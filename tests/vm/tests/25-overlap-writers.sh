#!/bin/bash
# Concurrent writers without locks on overlapping ranges of one file,
# through two mounts of one volume: 4 processes (two per mount) each make
# 300 pwrites of 1-8 whole 4 KiB blocks at random blocks of a 96-block
# file, some followed by fsync; every block they write names (writer, write
# number). Checked against a model of what each write could have left:
# every block is whole (one write's bytes, never torn inside a block), it
# comes from a write that covered it, and no write to it began after that
# write had ended (else that later write would have overwritten it); a
# block nobody wrote is zeros. Read through both mounts, after dropping
# caches, and after a daemon restart.
. "$(dirname "$0")/../../lib.sh"
plan 26

VOL=vmtest-overlap
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
BIN=$TEST_TMP/overlap.py
require_root
mkdir -p "$MNT" "$MNT2"
cleanup() {
	is_mounted "$MNT2" && umount "$MNT2"
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# overlap.py write FILE W LOG | check FILE LOGDIR
import json, os, random, struct, sys, time
B, NB, NW, K = 4096, 96, 4, 300


def block(w, k, b):
    return struct.pack("<IIII", 0x6f766c70, w, k, b) * (B // 16)


if sys.argv[1] == "write":
    path, w, log = sys.argv[2], int(sys.argv[3]), sys.argv[4]
    rnd = random.Random(1000 + w)
    fd = os.open(path, os.O_RDWR)
    recs = []
    for k in range(1, K + 1):
        b0 = rnd.randrange(NB)
        n = min(rnd.randint(1, 8), NB - b0)
        data = b"".join(block(w, k, b) for b in range(b0, b0 + n))
        t0 = time.monotonic_ns()
        if os.pwrite(fd, data, b0 * B) != len(data):
            sys.exit("short write")
        t1 = time.monotonic_ns()
        recs.append((k, b0, n, t0, t1))
        if rnd.random() < 0.05:
            os.fsync(fd)
    os.close(fd)
    with open(log, "w") as f:
        json.dump(recs, f)
    sys.exit(0)

path, logdir = sys.argv[2], sys.argv[3]
writes = {}	# block -> list of (w, k, t0, t1)
for w in range(1, NW + 1):
    with open(os.path.join(logdir, "w%d.json" % w)) as f:
        for k, b0, n, t0, t1 in json.load(f):
            for b in range(b0, b0 + n):
                writes.setdefault(b, []).append((w, k, t0, t1))
with open(path, "rb") as f:
    data = f.read()
torn = foreign = stale = zero_bad = 0
for b in range(NB):
    blk = data[b * B:(b + 1) * B]
    if b not in writes:
        zero_bad += blk != bytes(len(blk))
        continue
    if len(blk) != B or blk != blk[:16] * (B // 16):
        torn += 1
        continue
    magic, w, k, bb = struct.unpack("<IIII", blk[:16])
    mine = [x for x in writes[b] if x[0] == w and x[1] == k]
    if magic != 0x6f766c70 or bb != b or not mine:
        foreign += 1
        continue
    end = mine[0][3]
    if any(x[2] > end for x in writes[b]):
        stale += 1
print("blocks: %d written, %d torn, %d not from a write covering them, "
      "%d overwritten by a later write yet kept, %d unwritten but not zero; size %d"
      % (len(writes), torn, foreign, stale, zero_bad, len(data)))
sys.exit(1 if torn or foreign or stale or zero_bad else 0)
PY_EOF

step "load the module, start the daemon, mount $VOL twice"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL at $MNT" mount -t modalfs "$VOL:/" "$MNT" || finish
check "mount $VOL again at $MNT2" mount -t modalfs "$VOL:/" "$MNT2" || finish
rm -f "$MNT/shared" && : > "$MNT/shared"

step "the model checker on tmpfs (proves it)"
: > "$TEST_TMP/shared"
mkdir -p "$TEST_TMP/ref"
pids=()
for w in 1 2 3 4; do
	"$PYTHON" "$BIN" write "$TEST_TMP/shared" $w "$TEST_TMP/ref/w$w.json" & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
expect_eq "tmpfs: 4 writers finished" 0 "$rc"
check "tmpfs: the file matches the model" "$PYTHON" "$BIN" check "$TEST_TMP/shared" "$TEST_TMP/ref"
# A block from a write that a later write had to overwrite: caught.
"$PYTHON" - "$TEST_TMP/shared" "$TEST_TMP/ref" <<'PY'
import json, os, struct, sys
path, logdir = sys.argv[1], sys.argv[2]
recs = json.load(open(os.path.join(logdir, "w1.json")))
k, b0, n, t0, t1 = recs[0]
with open(path, "r+b") as f:
    f.seek(b0 * 4096)
    f.write(struct.pack("<IIII", 0x6f766c70, 1, k, b0) * 256)
PY
check_fails "tmpfs: a block put back to an early, overwritten write is caught" \
	"$PYTHON" "$BIN" check "$TEST_TMP/shared" "$TEST_TMP/ref"

step "4 writers, two through each mount, no locks"
mkdir -p "$TEST_TMP/logs"
pids=()
for w in 1 2 3 4; do
	if [ $((w % 2)) -eq 1 ]; then m=$MNT; else m=$MNT2; fi
	"$PYTHON" "$BIN" write "$m/shared" $w "$TEST_TMP/logs/w$w.json" & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
expect_eq "the 4 writers finished without an error" 0 "$rc"
check "through $MNT: the file matches the model" "$PYTHON" "$BIN" check "$MNT/shared" "$TEST_TMP/logs"
check "through $MNT2: the file matches the model" "$PYTHON" "$BIN" check "$MNT2/shared" "$TEST_TMP/logs"
check "the two mounts read the same bytes" cmp "$MNT/shared" "$MNT2/shared"
drop_caches
check "after dropping caches: the file matches the model" "$PYTHON" "$BIN" check "$MNT/shared" "$TEST_TMP/logs"
sha=$(sha256sum < "$MNT/shared")

step "after a daemon restart"
check "umount $MNT2" umount "$MNT2"
check "umount $MNT" umount "$MNT"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "the same bytes after the restart" "$sha" "$(sha256sum < "$MNT/shared")"
check "rm the file" rm -f "$MNT/shared"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
