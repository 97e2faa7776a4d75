#!/bin/bash
# Daemon registration and the errors around it: mounting without a daemon,
# registering or mounting without CAP_SYS_ADMIN, a second daemon, an unknown volume,
# and a clean module unload afterwards.
. "$(dirname "$0")/../../lib.sh"
plan 24

MNT=$TEST_TMP/mnt
NOBODY=65534

require_root
require_file "$MFS_TOOLS/mfs-register"
require_file "$MFS_TOOLS/mfs-errno"
mkdir -p "$MNT"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

step "load the module"
run_check "insmod modalfs.ko" load_module || finish
expect_match "filesystem type modalfs is registered" "modalfs" "$(cat /proc/filesystems)"

step "mount without a daemon fails with ECONNREFUSED"
dmesg_mark
out=$(try_mount some-vol:/ "$MNT")
expect_eq "mount with no daemon registered -> ECONNREFUSED" ECONNREFUSED "$out"
msgs=$(dmesg_since)
expect_match "dmesg says no modalfsd is registered" "modalfs.*modalfsd.*regist" "$msgs"
expect_eq "exactly one dmesg line for it" 1 "$(printf '%s\n' "$msgs" | grep -c 'modalfsd')"
check_fails "nothing mounted after the failed mount" is_mounted "$MNT" || umount "$MNT"

step "a non-root process cannot register as the daemon"
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$MFS_TOOLS/mfs-register" 2>&1)
expect_eq "uid $NOBODY REGISTER -> EPERM" EPERM "$(printf '%s\n' "$out" | head -n 1)"
# The daemon itself, as nobody, with state it may write, must give up
# with the documented message and status 1.
NB=$(mktemp -d /tmp/modalfs-nobody.XXXXXX)
chown $NOBODY:$NOBODY "$NB"
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$MODALFSD" \
	--state-dir "$NB/state" --socket "$NB/ctl.sock" </dev/null >"$NB/log" 2>&1 &
pid=$!
for _ in $(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
	kill -KILL $pid
	echo "still running after 15 s" >> "$NB/log"
fi
wait $pid
rc=$?
out=$(cat "$NB/log")
rm -rf "$NB"
expect_match "non-root modalfsd says it needs CAP_SYS_ADMIN" \
	"cannot register with the kernel: Operation not permitted" "$out"
expect_eq "non-root modalfsd exits 1" 1 "$rc"

step "a non-root process cannot mount"
# A target uid 65534 can reach, so that the refusal is the mount's own.
NBMNT=$TEST_TMP/nobody-mnt
chmod 755 "$TEST_TMP"
mkdir -p "$NBMNT" && chmod 777 "$NBMNT"
out=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups "$MFS_TOOLS/mfs-errno" mount some-vol:/ "$NBMNT" 2>&1)
expect_eq "uid $NOBODY mount -t modalfs -> EPERM" EPERM "$out"
check_fails "nothing mounted at the refused mount's target" is_mounted "$NBMNT"
check_fails "no modalfs mount exists at all" grep -q ' modalfs ' /proc/mounts

step "start the daemon"
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
out=$("$MFS_TOOLS/mfs-register" 2>&1)
expect_eq "a second REGISTER while the daemon lives -> EBUSY" EBUSY "$(printf '%s\n' "$out" | head -n 1)"

step "mounting an unknown volume fails with ENOENT"
dmesg_mark
out=$(try_mount no-such-volume-xyz:/ "$MNT")
expect_eq "mount no-such-volume-xyz:/ -> ENOENT" ENOENT "$out"
msgs=$(dmesg_since)
expect_match "dmesg names the unknown volume" "modalfs.*no-such-volume-xyz" "$msgs"
expect_eq "exactly one dmesg line for it" 1 "$(printf '%s\n' "$msgs" | grep -c 'no-such-volume-xyz')"
out=$(mount -t modalfs no-such-volume-xyz:/ "$MNT" 2>&1)
expect_match "mount(8) of an unknown volume fails with a clear error" \
	"No such file or directory|does not exist|no such|not found" "$out"
check_fails "nothing mounted after the failed mount" is_mounted "$MNT" || umount "$MNT"

step "stop the daemon and unload the module"
check_stop_and_unload

check_dmesg_clean
finish
