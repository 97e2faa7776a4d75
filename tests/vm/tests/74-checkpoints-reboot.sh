#!/bin/bash
# Product brief scenario 2, second half, in a fresh VM boot on the same
# state disk: the checkpoints 73-checkpoints.sh wrote are byte-identical
# and "list --json" reports the volume with the right size. Then the
# volume is deleted, which also cleans the state disk up.
. "$(dirname "$0")/../../lib.sh"
plan 15

CTL=$MODALFSCTL
MODELS=${MODELS:-$([ -n "${MODALFS_IN_VM:-}" ] && echo /models || echo "$TEST_TMP/models")}

require_root
mkdir -p "$MODELS"

cleanup() {
	is_mounted "$MODELS" && umount "$MODELS"
	stop_daemon
}
TEST_CLEANUP=cleanup

step "records from the previous boot"
[ -s "$TEST_RECORDS/models.expect" ] || bail "records of 73-checkpoints.sh found in $TEST_RECORDS (run it in the previous boot)"
read -r VOL expected_bytes expected_files < "$TEST_RECORDS/models.expect"
pass "records of 73-checkpoints.sh found ($VOL: $expected_bytes bytes, $expected_files inodes)"

step "start the daemon; the volume is listed with its size"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
expect_eq "list --json after the reboot: kind, bytes, files, mounts" \
	"persisted $expected_bytes $expected_files 0" \
	"$("$CTL" list --json | "$PYTHON" -c '
import json, sys
v = [v for v in json.load(sys.stdin) if v["name"] == sys.argv[1]]
print(*(v[0][k] for k in ("kind", "bytes", "files", "mounts")) if v else "absent")' "$VOL")"

step "every checkpoint is byte-identical"
check "mount -t modalfs $VOL:/ $MODELS" mount -t modalfs "$VOL:/" "$MODELS" || finish
manifest "$MODELS" > "$TEST_TMP/got.manifest"
if diff -u "$TEST_RECORDS/models.manifest" "$TEST_TMP/got.manifest" > "$TEST_TMP/diff"; then
	pass "after a VM reboot: identical ($(wc -l < "$TEST_TMP/got.manifest") entries)"
else
	sed 's/^/    | /' "$TEST_TMP/diff" | head -n 30
	fail "after a VM reboot: identical"
fi
expect_eq "latest.json names the last checkpoint" '{"step": 4, "path": "ckpt-0004.pt"}' "$(cat "$MODELS/run-1/latest.json")"
check "umount $MODELS" umount "$MODELS"

step "delete the volume"
check "delete $VOL" "$CTL" delete "$VOL"
check_fails "it is gone" "$CTL" ls "$VOL"
rm -f "$TEST_RECORDS/models.expect" "$TEST_RECORDS/models.manifest"
check_stop_and_unload
check_dmesg_clean
finish
