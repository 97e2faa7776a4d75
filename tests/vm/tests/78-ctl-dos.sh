#!/bin/bash
# Issue 12, control channel item 3 (Documentation/security.md, "Denial of
# service"): a member of the modalfs group who opens 100 connections to a
# daemon limited to 64 descriptors neither makes it spin nor locks root
# out; a client that queues LIST requests and never reads the replies
# holds no thread for ever, and SIGTERM still stops the daemon promptly.
# The hostile clients run as an unprivileged user through setpriv.
. "$(dirname "$0")/../../lib.sh"

CTL=$MODALFSCTL
SOCK=/run/modalfs/modalfsd.sock
HOLD_PID=

require_root
plan 18
cleanup() {
	[ -n "$HOLD_PID" ] && kill "$HOLD_PID" 2>/dev/null && wait "$HOLD_PID"
	stop_daemon
}
TEST_CLEANUP=cleanup

getent group modalfs >/dev/null || groupadd -r modalfs || bail "groupadd modalfs"
G=$(getent group modalfs | cut -d: -f3)
member() {
	setpriv --reuid=1001 --regid=1001 --groups="$G" "$@"
}

# CPU time (utime + stime, clock ticks) of a process so far.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# hold N: opens N connections (as many as the daemon accepts) and keeps
# them open without sending anything; prints "ready" when done.
HOLD='
import socket, sys, time
n = int(sys.argv[1]); s = []
for i in range(n):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        c.connect(sys.argv[2]); s.append(c)
    except OSError:
        pass
print("ready", len(s), flush=True)
time.sleep(600)
'

# flood N: sends N LIST requests without reading a reply, as fast as the
# socket takes them, then keeps the connection open.
FLOOD='
import socket, struct, sys, time
n = int(sys.argv[1])
c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
c.connect(sys.argv[2])
c.setblocking(False)
sent = full = 0
while sent < n and full < 50:
    gen = struct.pack("=BBH", 3, 2, 0)            # CTL_LIST, version 2
    msg = struct.pack("=IHHII", 16 + len(gen), 0x20, 1, sent + 1, 0) + gen
    try:
        c.send(msg); sent += 1; full = 0
    except BlockingIOError:                       # both queues are full
        full += 1; time.sleep(0.01)
print("sent", sent, flush=True)
time.sleep(600)
'

run_check "insmod modalfs.ko" load_module || finish
step "a daemon limited to 64 descriptors"
# prlimit on the shell: start_daemon's modalfsd inherits it.
ulimit -n 64
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
ulimit -n 1024
for v in 1 2 3 4 5 6 7 8; do "$CTL" persisted "vmtest-dos-$v" > /dev/null; done

step "100 connections of one member"
member "$PYTHON" -c "$HOLD" 100 "$SOCK" > "$TEST_TMP/hold" &
HOLD_PID=$!
for ((i = 0; i < 100; i++)); do
	grep -q ready "$TEST_TMP/hold" 2>/dev/null && break
	sleep 0.1
done
expect_match "the member's 100 connect() calls returned" '^ready' "$(cat "$TEST_TMP/hold")"
t0=$(cpu_ticks "$MODALFSD_PID")
sleep 3
t1=$(cpu_ticks "$MODALFSD_PID")
tck=$(getconf CLK_TCK)
echo "    | modalfsd used $((t1 - t0)) ticks of CPU in 3 s ($tck ticks/s)"
check "... modalfsd is idle meanwhile (under 10% of a CPU)" test $((t1 - t0)) -lt $((tck * 3 / 10))
check "root's list answers within 5 s" timeout 5 "$CTL" list
check "a second member's list answers within 5 s" timeout 5 setpriv --reuid=1002 --regid=1002 --groups="$G" "$CTL" list
kill "$HOLD_PID"
wait "$HOLD_PID"
HOLD_PID=

step "a client that queues LIST requests and never reads the replies"
run_check "stop modalfsd" stop_daemon
run_check "modalfsd starts again, without the descriptor limit" start_daemon "$TEST_DAEMON_DIR" || finish
member "$PYTHON" -c "$FLOOD" 1000 "$SOCK" > "$TEST_TMP/flood" &
HOLD_PID=$!
for ((i = 0; i < 100; i++)); do
	grep -q sent "$TEST_TMP/flood" 2>/dev/null && break
	sleep 0.1
done
expect_match "the flood is queued" '^sent [0-9]+' "$(cat "$TEST_TMP/flood")"
check "root's list still answers within 5 s" timeout 5 "$CTL" list
start=$SECONDS
run_check "SIGTERM stops modalfsd (exit 0) with the stuck client still connected" stop_daemon
expect_match "... within 10 s" '^([0-9]|10)$' "$((SECONDS - start))"
kill "$HOLD_PID"
wait "$HOLD_PID"
HOLD_PID=

step "clean up"
run_check "modalfsd starts again" start_daemon "$TEST_DAEMON_DIR" || finish
for v in 1 2 3 4 5 6 7 8; do "$CTL" delete "vmtest-dos-$v"; done
check_stop_and_unload
check_dmesg_clean
finish
