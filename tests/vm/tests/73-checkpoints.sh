#!/bin/bash
# Product brief scenario 2, persisted checkpoints (first half): a job
# writes checkpoints to /models the way training code does (write a
# temporary file, fsync, rename), one more arrives through "modalfsctl
# put", and the volume is unmounted. After a daemon restart every
# checkpoint is byte-identical and "list --json" reports the right size.
# The expected state is kept on the state disk for
# 74-checkpoints-reboot.sh, which checks it again after a VM reboot.
. "$(dirname "$0")/../../lib.sh"
plan 26

VOL=vmtest-models
CTL=$MODALFSCTL
# /models as in the brief inside the VM; scratch space on a real host.
MODELS=${MODELS:-$([ -n "${MODALFS_IN_VM:-}" ] && echo /models || echo "$TEST_TMP/models")}

require_root
mkdir -p "$MODELS" "$TEST_RECORDS"
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	is_mounted "$MODELS" && umount "$MODELS"
	stop_daemon
}
TEST_CLEANUP=cleanup

# bytes and files of VOL from list --json, e.g. "4456461 7".
usage_of() {
	"$CTL" list --json | "$PYTHON" -c '
import json, sys
v = [v for v in json.load(sys.stdin) if v["name"] == sys.argv[1]]
print("%d %d %s" % (v[0]["bytes"], v[0]["files"], v[0]["kind"]) if v else "absent")' "$VOL"
}

tstep "load the module, start the daemon, mount $VOL at $MODELS"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" >/dev/null 2>&1	# left over from an earlier run
check "persisted $VOL" "$CTL" persisted "$VOL" || finish
check "mount -t modalfs $VOL:/ $MODELS" mount -t modalfs "$VOL:/" "$MODELS" || finish

tstep "the job writes checkpoints"
# The job's bytes also go to a reference tree on tmpfs: the expected
# manifest comes from what was written, never from the mount under test.
REF=$TEST_TMP/ref
mkdir -p "$REF"
check "write 4 checkpoints and metadata (tmp + fsync + rename)" "$PYTHON" - "$MODELS" "$REF" <<'PY'
import json, os, sys
for d in sys.argv[1:]:
    os.makedirs(os.path.join(d, "run-1"))
sizes = [1048576 + 13, 3 * 65536 + 1, 2 * 1048576, 0]


def put(rel, data, sync):
    for d in sys.argv[1:]:
        final = os.path.join(d, rel)
        tmp = final + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, final)


for step, size in enumerate(sizes, 1):
    name = "ckpt-%04d.pt" % step
    put(os.path.join("run-1", name), os.urandom(size), True)
    put(os.path.join("run-1", "latest.json"),
        json.dumps({"step": step, "path": name}).encode(), False)
fd = os.open(os.path.join(sys.argv[1], "run-1"), os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
os.close(fd)
PY
head -c 777777 /dev/urandom > "$TEST_TMP/imported.bin"
cp "$TEST_TMP/imported.bin" "$REF/run-1/imported.bin"
check "modalfsctl put a checkpoint from elsewhere" "$CTL" put "$VOL" "$TEST_TMP/imported.bin" /run-1/
check "... the mount sees it at once" cmp "$TEST_TMP/imported.bin" "$MODELS/run-1/imported.bin"
check "sync -f" sync -f "$MODELS"
manifest "$REF" > "$TEST_TMP/expected.manifest"
check "the expected manifest lists the 6 files written" \
	test "$(grep -c '^f ' "$TEST_TMP/expected.manifest")" -eq 6
manifest "$MODELS" > "$TEST_TMP/mounted.manifest"
check "the mount holds what the job wrote" diff -u "$TEST_TMP/expected.manifest" "$TEST_TMP/mounted.manifest"
expected_bytes=$(awk '$1 == "f" { s += $3 } END { print s }' "$TEST_TMP/expected.manifest")
expected_files=$(( $(wc -l < "$TEST_TMP/expected.manifest") + 1 ))
echo "    | $((expected_files - 1)) entries, $expected_bytes bytes"
expect_eq "list --json: bytes, files (inodes with the root), kind" \
	"$expected_bytes $expected_files persisted" "$(usage_of)"
check "umount $MODELS" umount "$MODELS"

tstep "daemon restart"
run_check "modalfsd exits 0 on SIGTERM" stop_daemon
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
expect_eq "list --json after the restart: the same size" \
	"$expected_bytes $expected_files persisted" "$(usage_of)"
check "mount again" mount -t modalfs "$VOL:/" "$MODELS" || finish
drop_caches
manifest "$MODELS" > "$TEST_TMP/got.manifest"
if diff -u "$TEST_TMP/expected.manifest" "$TEST_TMP/got.manifest" > "$TEST_TMP/diff"; then
	pass "every checkpoint is byte-identical after unmount + daemon restart"
else
	sed 's/^/    | /' "$TEST_TMP/diff" | head -n 30
	fail "every checkpoint is byte-identical after unmount + daemon restart"
fi
check "umount $MODELS" umount "$MODELS"
check "get a checkpoint without mounting" "$CTL" get "$VOL" /run-1/ckpt-0001.pt "$TEST_TMP/c1.pt"
expect_eq "... byte-identical" \
	"$(awk '$4 == "./run-1/ckpt-0001.pt" { print $5 }' "$TEST_TMP/expected.manifest")" \
	"$(sha256sum < "$TEST_TMP/c1.pt" | cut -d' ' -f1)"

tstep "keep the expected state for the reboot test"
cp "$TEST_TMP/expected.manifest" "$TEST_RECORDS/models.manifest" &&
	echo "$VOL $expected_bytes $expected_files" > "$TEST_RECORDS/models.expect" &&
	sync -f "$TEST_RECORDS/models.expect"
check "records saved in $TEST_RECORDS" test -s "$TEST_RECORDS/models.expect"

check_stop_and_unload
check_dmesg_clean
finish
