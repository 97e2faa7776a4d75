#!/bin/bash
# Product brief scenario 3, ephemeral lifetime: "modalfsctl run --nfs
# DIR=new -- CMD" sees an empty volume mounted only in its own mount
# namespace, and once the run ends the volume and its data are gone: when
# CMD exits, when CMD is SIGKILLed, when modalfsctl itself is SIGKILLed
# (the daemon's reaper), and across a daemon restart. Named apps (--app)
# share their ephemeral volumes between runs until "app stop".
. "$(dirname "$0")/../../lib.sh"
plan 45

require_root
CTL=$MODALFSCTL
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	[ -n "${BG_PID:-}" ] && kill -KILL "$BG_PID" 2>/dev/null
	[ -s "$TEST_TMP/cmd.pid" ] && kill -KILL "$(cat "$TEST_TMP/cmd.pid")" 2>/dev/null
	stop_daemon
}
TEST_CLEANUP=cleanup

# How many volumes the app owns. This polls, so it reads the table: under
# TCG python (for the JSON) takes seconds to start; the JSON is checked
# where it matters.
app_volumes() {
	"$CTL" list | awk -v a="$1" '$2 == a { n++ } END { print n + 0 }'
}

# wait_gone APP SECONDS: until the app owns no volume.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(app_volumes "$1")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_file FILE: until FILE is non-empty (10 s).
wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

tstep "load the module and start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish

tstep "run --nfs /root/cache=new: an empty, private volume"
out=$("$CTL" run --nfs /root/cache=new -- bash -c '
	echo "entries=$(ls -A /root/cache | wc -l)"
	echo "app=$MODALFS_APP_ID"
	echo "source=$(awk "\$5 == \"/root/cache\" { for (i = 7; \$i != \"-\"; i++); print \$(i + 2) }" /proc/self/mountinfo)"
	echo "outside=$(grep -c " - modalfs " /proc/1/mountinfo)"
	echo hello > /root/cache/f && head -c 3000000 /dev/urandom > /root/cache/big && sync -f /root/cache/f
	'"$CTL"' list --json > '"$TEST_TMP/during.json"'
	exit 7')
rc=$?
printf '%s\n' "$out" | sed 's/^/    | /'
expect_eq "run exits with CMD's status" 7 "$rc"
expect_eq "the new volume is empty" "entries=0" "$(grep '^entries=' <<< "$out")"
app=$(sed -n 's/^app=//p' <<< "$out")
src=$(sed -n 's/^source=//p' <<< "$out")
vol=${src%%:*}
expect_match "CMD sees MODALFS_APP_ID" '^ap-[A-Za-z0-9]+$' "$app"
expect_match "it is mounted from an ephemeral volume" '^[A-Za-z0-9._-]+:/$' "$src"
expect_eq "the mount is not visible outside the run's namespace" "outside=0" "$(grep '^outside=' <<< "$out")"
expect_eq "during the run, list shows it as ephemeral, 3 inodes, 3000006 bytes, 1 mount, owned by the app" \
	"ephemeral $app 3 3000006 1" \
	"$("$PYTHON" -c '
import json, sys
v = [v for v in json.load(open(sys.argv[1])) if v["name"] == sys.argv[2]]
print(*(v[0][k] for k in ("kind", "app_id", "files", "bytes", "mounts")) if v else "missing")' "$TEST_TMP/during.json" "$vol")"
expect_eq "after the run the app owns no volume" 0 "$(app_volumes "$app")"
check_fails "ls of the deleted volume fails" "$CTL" ls "$vol"
check_fails "nothing is left mounted at /root/cache" is_mounted /root/cache

tstep "CMD killed with SIGKILL: the volume is still deleted"
"$CTL" run --nfs /root/cache=new -- bash -c "echo \$MODALFS_APP_ID > $TEST_TMP/app2; echo x > /root/cache/x; kill -KILL \$\$"
rc=$?
expect_eq "run exits 128+9 when CMD is SIGKILLed" 137 "$rc"
app2=$(cat "$TEST_TMP/app2")
expect_match "the run had an app" '^ap-' "$app2"
expect_eq "its volume is gone" 0 "$(app_volumes "$app2")"

tstep "modalfsctl run itself SIGKILLed: the daemon's reaper deletes the volume"
rm -f "$TEST_TMP/app3" "$TEST_TMP/cmd.pid"
"$CTL" run --nfs /root/cache=new -- bash -c "echo \$\$ > $TEST_TMP/cmd.pid; echo data > /root/cache/d; echo \$MODALFS_APP_ID > $TEST_TMP/app3; exec sleep 600" &
BG_PID=$!
wait_file "$TEST_TMP/app3" || bail "the background run started"
app3=$(cat "$TEST_TMP/app3")
kill -KILL "$BG_PID"
wait "$BG_PID" 2>/dev/null
BG_PID=
sleep 1.5
expect_eq "while CMD still runs (and mounts it), the volume stays" 1 "$(app_volumes "$app3")"
kill -KILL "$(cat "$TEST_TMP/cmd.pid")"
if wait_gone "$app3" 10; then
	pass "once CMD is gone too, the reaper deletes the volume within 10 s"
else
	fail "once CMD is gone too, the reaper deletes the volume within 10 s"
	show_daemon_log
fi

tstep "owner gone while the daemon is down: reaped at daemon start"
rm -f "$TEST_TMP/app4" "$TEST_TMP/cmd.pid"
"$CTL" run --nfs /root/cache=new -- bash -c "echo \$\$ > $TEST_TMP/cmd.pid; echo \$MODALFS_APP_ID > $TEST_TMP/app4; exec sleep 600" &
BG_PID=$!
wait_file "$TEST_TMP/app4" || bail "the background run started"
app4=$(cat "$TEST_TMP/app4")
run_check "modalfsd exits 0 on SIGTERM (with the run's mount alive)" stop_daemon
kill -KILL "$BG_PID" "$(cat "$TEST_TMP/cmd.pid")"
wait "$BG_PID" 2>/dev/null
BG_PID=
run_check "modalfsd registers again" start_daemon "$TEST_DAEMON_DIR" || finish
if wait_gone "$app4" 10; then
	pass "the restarted daemon reaped the app's volume"
else
	fail "the restarted daemon reaped the app's volume"
	show_daemon_log
fi

tstep "named app: runs share its ephemeral volume until app stop"
C=$TEST_TMP/c
check "run --app nightly writes a file" "$CTL" run --app nightly --nfs "$C=new" -- sh -c "echo one > $C/shared"
expect_eq "a second run of the app sees it" one "$("$CTL" run --app nightly --nfs "$C=new" -- cat "$C/shared")"
napp=$("$CTL" list --json | "$PYTHON" -c '
import json, sys
v = [v for v in json.load(sys.stdin) if v["app_name"] == "nightly"]
print(len(v), v[0]["kind"], v[0]["app_id"] if v else "")')
expect_match "list shows one ephemeral volume of app nightly" '^1 ephemeral ap-' "$napp"
napp=${napp##* }
check "app stop nightly" "$CTL" app stop nightly
expect_eq "the app's volume is gone" 0 "$(app_volumes "$napp")"
out=$("$CTL" app stop nightly 2>&1)
expect_eq "app stop of a stopped app exits 1" 1 "$?"
expect_match "... and says it does not exist" "app 'nightly' does not exist" "$out"

tstep "run with a persisted volume mounts it, and leaves it"
check "persisted runvol" "$CTL" persisted runvol
check "run --nfs DIR=runvol writes" "$CTL" run --nfs "$TEST_TMP/data=runvol" -- sh -c "echo kept > $TEST_TMP/data/k"
expect_eq "the persisted volume keeps the file" kept "$("$CTL" get runvol /k -)"
check "delete runvol" "$CTL" delete runvol

tstep "run errors"
out=$("$CTL" run --nfs "$TEST_TMP/x"=no-such-vol -- true 2>&1)
expect_eq "run with a missing volume exits 1" 1 "$?"
expect_match "... naming the volume" "no-such-vol" "$out"
out=$("$CTL" run --nfs "$TEST_TMP/x"=new -- /no/such/cmd 2>&1)
expect_eq "run of a missing command exits 127" 127 "$?"
out=$("$CTL" run --nfs relative=new -- true 2>&1)
expect_eq "run --nfs with a relative dir exits 2" 2 "$?"
out=$("$CTL" run --nfs "$TEST_TMP/x"=bad/name -- true 2>&1)
expect_eq "run --nfs with a bad volume name exits 2" 2 "$?"
expect_match "... stating the rule" "A-Z a-z 0-9" "$out"
out=$("$CTL" run --nfs "$TEST_TMP/x"=new 2>&1)
expect_eq "run without CMD exits 2" 2 "$?"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" run --nfs "$TEST_TMP/x"=new -- true 2>&1)
expect_eq "run as non-root exits 1" 1 "$?"
expect_match "... saying it must be run as root" "must be run as root" "$out"
expect_eq "no ephemeral volume is left behind" 0 "$("$CTL" list --json | "$PYTHON" -c '
import json, sys
print(sum(1 for v in json.load(sys.stdin) if v["kind"] == "ephemeral"))')"

tstep "stop the daemon, unload the module"
check_stop_and_unload
check_dmesg_clean
finish
