#!/bin/bash
# Product brief scenario 4, delete: deleting a persisted volume frees its
# space (the block store, statfs of another volume, and the state
# directory does not grow when the same amount is written again); the name can be
# made anew and the new volume is empty. Delete is refused while the
# volume is mounted, in any mount namespace; --force deletes it anyway,
# its live mounts then get ESTALE on every operation and can still be
# unmounted.
. "$(dirname "$0")/../../lib.sh"
plan 56

VOL=vmtest-delete
OTHER=vmtest-delete-other
CTL=$MODALFSCTL
M=$TEST_TMP/m
M2=$TEST_TMP/m2
MO=$TEST_TMP/other

require_root
mkdir -p "$M" "$M2" "$MO"
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	[ -n "${NS_PID:-}" ] && kill -KILL "$NS_PID" 2>/dev/null
	exec 3<&- 2>/dev/null
	for d in "$M" "$M2" "$MO"; do
		is_mounted "$d" && umount "$d"
	done
	stop_daemon
}
TEST_CLEANUP=cleanup

# snap: parse list --json once; vol NAME COLUMN then reads that snapshot:
# 2 kind, 3 app_id, 4 app_name, 5 files, 6 bytes, 7 mounts ("absent" if
# the volume is not listed). Python starts slowly under TCG: once a step.
snap() {
	"$CTL" list --json | "$PYTHON" -c '
import json, sys
for v in json.load(sys.stdin):
    print(v["name"], v["kind"], v["app_id"], v["app_name"] or "-", v["files"], v["bytes"], v["mounts"])' > "$TEST_TMP/snap"
}
vol() {
	awk -v n="$1" -v k="$2" '$1 == n { print $k; f = 1 } END { if (!f) print "absent" }' "$TEST_TMP/snap"
}

# KiB that the state directory and its block store take on the host.
state_kib() { du -sk "$TEST_DAEMON_DIR" | cut -f1; }
block_kib() { du -sk "$TEST_DAEMON_DIR/blocks" | cut -f1; }

tstep "load the module, start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" >/dev/null 2>&1	# left over on a real host
check "persisted $OTHER" "$CTL" persisted "$OTHER" || finish
check "mount $OTHER (to watch its statfs)" mount -t modalfs "$OTHER:/" "$MO" || finish

tstep "fill $VOL with 8 MiB in 70 files"
app1=$("$CTL" persisted "$VOL")
check "mount $VOL" mount -t modalfs "$VOL:/" "$M" || finish
check "write 8 MiB" "$PYTHON" - "$M" <<'PY'
import os, sys
d = sys.argv[1]
os.mkdir(os.path.join(d, "dir"))
for i in range(70):
    with open(os.path.join(d, "dir", "f%03d" % i), "wb") as f:
        f.write(os.urandom(128 * 1024 if i < 64 else 100))
with open(os.path.join(d, "pinned"), "w") as f:
    f.write("pinned\n")
PY
sync -f "$M"
snap
expect_eq "list: $VOL has 73 inodes" 73 "$(vol "$VOL" 5)"

tstep "delete is refused while the volume is mounted, in any namespace"
# A mount in a namespace of its own (made before the host's second mount,
# so that the namespace holds this one mount and the host's first).
mkdir -p "$TEST_TMP/m3"
unshare -m --propagation private sh -c "umount $M && mount -t modalfs $VOL:/ $TEST_TMP/m3 && echo ok > $TEST_TMP/ns-ready && exec sleep 600" &
NS_PID=$!
for ((i = 0; i < 100; i++)); do [ -s "$TEST_TMP/ns-ready" ] && break; sleep 0.1; done
check "a private namespace mounted $VOL" test -s "$TEST_TMP/ns-ready"
check "second mount of $VOL" mount -t modalfs "$VOL:/" "$M2"
snap
expect_eq "list counts 3 mounts over all namespaces" 3 "$(vol "$VOL" 7)"
out=$("$CTL" delete "$VOL" 2>&1)
expect_eq "delete while mounted exits 1" 1 "$?"
expect_match "... naming the volume and the mounts" "volume '$VOL' is mounted \\(3 mounts\\)" "$out"
out=$("$CTL" delete "$app1" 2>&1)
expect_eq "delete by app id while mounted exits 1 too" 1 "$?"
expect_eq "the data is intact" pinned "$(cat "$M/pinned")"
kill -KILL "$NS_PID"
wait "$NS_PID" 2>/dev/null
NS_PID=
check "umount both host mounts" umount "$M" "$M2"
snap
expect_eq "no mounts left" 0 "$(vol "$VOL" 7)"

tstep "delete frees the space"
blocks0=$(block_kib)
bfree0=$(stat -f -c %f "$MO")
size0=$(state_kib)
t0=$(date +%s%N)
check "delete $VOL" "$CTL" delete "$VOL"
echo "    | delete took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
blocks1=$(block_kib)
bfree1=$(stat -f -c %f "$MO")
echo "    | block store $blocks0 -> $blocks1 KiB, statfs free blocks of $OTHER $bfree0 -> $bfree1"
snap
expect_eq "$VOL is no longer listed" absent "$(vol "$VOL" 1)"
check "the block store shrank by at least 8 MiB" test "$blocks1" -le $((blocks0 - 8000))
check "statfs free blocks of another volume grew by at least 8 MiB" test "$bfree1" -ge $((bfree0 + 2000))

tstep "the name is reusable, the new volume empty"
app2=$("$CTL" persisted "$VOL")
expect_match "persisted $VOL again prints an app id" '^ap-' "$app2"
check "... a new one" test "$app1" != "$app2"
snap
expect_eq "list: 1 inode, 0 bytes" "1 0" "$(vol "$VOL" 5) $(vol "$VOL" 6)"
check "mount the new $VOL" mount -t modalfs "$VOL:/" "$M" || finish
expect_eq "it is empty" "" "$(ls -A "$M")"
check "write 8 MiB again" "$PYTHON" -c '
import os, sys
for i in range(64):
    with open(os.path.join(sys.argv[1], "g%03d" % i), "wb") as f:
        f.write(os.urandom(128 * 1024))' "$M"
sync -f "$M"
size1=$(state_kib)
echo "    | state directory $size0 -> $size1 KiB"
# Without reuse it would grow by 8 MiB.
check "the state directory grew by less than half of that: the space was reused" test "$size1" -lt $((size0 + 4 * 1024))

tstep "--force while mounted: ESTALE on the live mount, umount works"
echo hello > "$M/f"
mkdir "$M/sub"
sync -f "$M"
exec 3< "$M/f"
check "delete without --force is refused" test "$("$CTL" delete "$VOL" >/dev/null 2>&1; echo $?)" = 1
check "delete --force" "$CTL" delete "$VOL" --force
check_fails "gone (ls fails)" "$CTL" ls "$VOL"
estale=$("$PYTHON" - "$M" <<'PY'
import errno, os, sys
m = sys.argv[1]
def e(fn):
    try:
        fn()
        return "ok"
    except OSError as x:
        return errno.errorcode.get(x.errno, str(x.errno))
def rd():
    with open(os.path.join(m, "f")) as f:
        f.read()
def wr():
    with open(os.path.join(m, "new"), "w") as f:
        f.write("x")
print(e(lambda: os.stat(os.path.join(m, "f"))), e(lambda: os.listdir(m)),
      e(rd), e(wr), e(lambda: os.read(3, 10)),
      e(lambda: os.mkdir(os.path.join(m, "d2"))),
      e(lambda: os.stat(os.path.join(m, "sub"))))
PY
)
expect_eq "stat, readdir, open+read, create, read of an open fd, mkdir, stat of a cached dir: all ESTALE" \
	"ESTALE ESTALE ESTALE ESTALE ESTALE ESTALE ESTALE" "$estale"
exec 3<&-
check "umount of the deleted volume works" umount "$M"
check_fails "it is unmounted" is_mounted "$M"
check "persisted $VOL once more works after --force" "$CTL" persisted "$VOL"
check "mount it" mount -t modalfs "$VOL:/" "$M"
expect_eq "and it is empty" "" "$(ls -A "$M")"
check "umount" umount "$M"

tstep "delete by app id, and errors"
app3=$("$CTL" persisted "$VOL")
check "delete $app3 (by app id)" "$CTL" delete "$app3"
snap
expect_eq "$VOL is gone" absent "$(vol "$VOL" 1)"
out=$("$CTL" delete "$VOL" 2>&1)
expect_eq "delete of a missing volume exits 1" 1 "$?"
expect_match "... saying it does not exist" "volume '$VOL' does not exist" "$out"
out=$("$CTL" delete ap-nosuchapp 2>&1)
expect_eq "delete of a missing app id exits 1" 1 "$?"
out=$("$CTL" delete 'bad name' 2>&1)
expect_eq "delete with a bad name exits 2" 2 "$?"
expect_match "... stating the rule" "1 to 64 characters from A-Z a-z 0-9 . _ -" "$out"
out=$("$CTL" delete 2>&1)
expect_eq "delete without NAME exits 2" 2 "$?"
out=$("$CTL" delete "$OTHER" --bogus 2>&1)
expect_eq "delete --bogus exits 2" 2 "$?"
expect_match "... with usage on stderr" "Usage: modalfsctl delete" "$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" delete "$OTHER" 2>&1)
expect_eq "delete as non-root outside the modalfs group exits 1" 1 "$?"
expect_match "... saying permission denied, naming the group" "ermission denied.*'modalfs' group" "$out"

tstep "clean up"
check "umount $OTHER" umount "$MO"
check "delete $OTHER" "$CTL" delete "$OTHER"
check_stop_and_unload
check_dmesg_clean
finish
