#!/bin/bash
# A signal during a daemon restart (issue 12, kernel item 3): stat() and
# mkdir() waiting for a daemon that is not registered, under a SIGALRM
# handler installed with SA_RESTART that fires every 0.3 s, do not fail
# with EINTR: the request was never sent, so the syscall restarts and
# completes once the daemon is back. libc is called through ctypes,
# because Python itself retries EINTR (PEP 475).
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-restartsig
MNT=$TEST_TMP/mnt
require_root
mkdir -p "$MNT"

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

plan 15

step "load, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "stat and mkdir with SA_RESTART alarms while no daemon is registered"
kill -KILL "$MODALFSD_PID"; wait "$MODALFSD_PID" 2>/dev/null; MODALFSD_PID=
"$PYTHON" - "$MNT" > "$TEST_TMP/sig.out" 2>&1 <<'PY' &
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
mnt = sys.argv[1].encode()
alarms = [0]
def onalarm(sig, frame):
    alarms[0] += 1
signal.signal(signal.SIGALRM, onalarm)
signal.siginterrupt(signal.SIGALRM, False)      # SA_RESTART
signal.setitimer(signal.ITIMER_REAL, 0.3, 0.3)
buf = ctypes.create_string_buffer(256)
for name, call in (("stat", lambda: libc.stat(mnt + b"/uncached", buf)),
                   ("mkdir", lambda: libc.mkdir(mnt + b"/newdir", 0o755))):
    rc = call()
    err = ctypes.get_errno() if rc else 0
    print(name, "ENOENT" if err == 2 else "EINTR" if err == 4 else
          "OK" if rc == 0 else "errno %d" % err, flush=True)
signal.setitimer(signal.ITIMER_REAL, 0)
print("alarms", alarms[0] > 0)
PY
P=$!
sleep 3
run_check "modalfsd restarts" start_daemon "$TEST_DAEMON_DIR"
wait $P
out=$(cat "$TEST_TMP/sig.out")
expect_match "stat completes with the daemon's ENOENT, not EINTR" "^stat ENOENT$" "$out"
expect_match "mkdir completes, not EINTR" "^mkdir OK$" "$out"
expect_match "alarms fired meanwhile" "^alarms True$" "$out"
check "newdir exists" test -d "$MNT/newdir"
check "umount" umount "$MNT"
check_dmesg_clean
check_stop_and_unload
finish
