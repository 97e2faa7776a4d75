#!/bin/bash
# Issue 12, control channel items 1 and 2 (Documentation/security.md): who
# may talk to modalfsd (root and the modalfs group; anyone else is refused
# with a message naming the group), permission checks on every path
# component with the caller's uid, gid and supplementary groups as the VFS
# makes them, EACCES (never ENOENT) below a directory the caller cannot
# search, ownership of what put creates, volumes that `modalfsctl run`
# mounted privately, and get never making setuid/setgid/device files.
# Every unprivileged step runs through setpriv.
. "$(dirname "$0")/../../lib.sh"

VOL=vmtest-authz
CTL=$MODALFSCTL
M=$TEST_TMP/m
L=$TEST_TMP/l
SOCK=/run/modalfs/modalfsd.sock
RUN_PID=

require_root
plan 51
mkdir -p "$M" "$L"
# Unprivileged callers read their local files from here.
chmod 0755 "$TEST_TMP" "$L"

cleanup() {
	[ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null && wait "$RUN_PID"
	is_mounted "$M" && umount "$M"
	stop_daemon
}
TEST_CLEANUP=cleanup

# expect_rc DESC RC CMD...: CMD exits RC; stdout in $OUT, stderr in $ERR.
expect_rc() {
	local desc=$1 want=$2 rc
	shift 2
	ERR=$("$@" 2>&1 >"$TEST_TMP/out")
	rc=$?
	OUT=$(<"$TEST_TMP/out")
	expect_eq "$desc (exit $want)" "$want" "$rc"
}

# The guest's root is a throw-away overlay: the group lives for this boot.
getent group modalfs >/dev/null || groupadd -r modalfs || bail "groupadd modalfs"
G=$(getent group modalfs | cut -d: -f3)
# A member of the modalfs group by a supplementary group, as adduser makes.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --groups="$G" "$@"
}
outsider() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" --force >/dev/null 2>&1

step "the socket belongs to root and the modalfs group, mode 0660"
expect_eq "socket mode, owner, group" "660 root modalfs" "$(stat -c '%a %U %G' "$SOCK")"
expect_rc "list as nobody (not in the group)" 1 outsider "$CTL" list
expect_match "... refused, naming the group" "[Pp]ermission denied.*'modalfs' group" "$ERR"
expect_rc "list as uid 1001 in the group" 0 as 1001 "$CTL" list
expect_rc "a member creates a volume" 0 as 1001 "$CTL" create "$VOL-m"
expect_rc "... and deletes it" 0 as 1001 "$CTL" delete "$VOL-m"

step "set up, through a mount: /alice 0700 alice, note 0644 in it"
check "create $VOL" "$CTL" create "$VOL" || finish
check "mount it" "$CTL" mount "$VOL" "$M" || finish
mkdir "$M/alice" "$M/pub" "$M/grp" "$M/sticky"
echo secret > "$M/alice/note"
chown -R 1001:1001 "$M/alice"
chmod 0700 "$M/alice"
chmod 0644 "$M/alice/note"
chmod 0777 "$M/pub"
echo members > "$M/grp/f"
chgrp -R modalfs "$M/grp"
chmod 0750 "$M/grp"
chmod 0640 "$M/grp/f"
chmod 1777 "$M/sticky"
echo alices > "$M/sticky/a"
chown 1001:1001 "$M/sticky/a"
mknod "$M/null" c 1 3
sync
check "umount" umount "$M"

step "every path component is checked as the VFS would"
expect_rc "alice gets /alice/note" 0 as 1001 "$CTL" get "$VOL" /alice/note -
expect_eq "... its content" secret "$OUT"
expect_rc "bob cannot get /alice/note (no search on /alice)" 1 as 1002 "$CTL" get "$VOL" /alice/note -
expect_match "... Permission denied" "$VOL:/alice/note: Permission denied" "$ERR"
expect_eq "... and nothing on stdout" "" "$OUT"
expect_rc "bob asking for a missing /alice/none" 1 as 1002 "$CTL" get "$VOL" /alice/none -
expect_match "... also Permission denied: what exists there stays hidden" "Permission denied" "$ERR"
expect_rc "bob cannot ls /alice" 1 as 1002 "$CTL" ls "$VOL" /alice
expect_rc "bob cannot put into /alice" 1 as 1002 "$CTL" put "$VOL" /etc/hostname /alice/x
expect_rc "bob cannot rm /alice/note" 1 as 1002 "$CTL" rm "$VOL" /alice/note
expect_rc "... which root still reads" 0 "$CTL" get "$VOL" /alice/note -
expect_rc "bob reads /grp/f through his supplementary group" 0 as 1002 "$CTL" get "$VOL" /grp/f -
expect_eq "... its content" members "$OUT"
expect_rc "bob cannot remove alice's file from a sticky directory" 1 as 1002 "$CTL" rm "$VOL" /sticky/a
expect_rc "alice can" 0 as 1001 "$CTL" rm "$VOL" /sticky/a

step "put keeps the caller's ownership and never makes setuid for non-root"
printf 'bob\n' > "$L/b"
chmod 06755 "$L/b"
expect_rc "bob puts /pub/b" 0 as 1002 "$CTL" put "$VOL" "$L/b" /pub/b
expect_rc "ls --json /pub/b" 0 "$CTL" ls "$VOL" /pub/b --json
expect_eq "... owned by bob, without setuid/setgid" "1002:1002:755" \
	"$("$PYTHON" -c 'import json,sys; e=json.loads(sys.argv[1])[0]; print("%d:%d:%o" % (e["uid"], e["gid"], e["mode"]))' "$OUT")"
expect_rc "bob cannot overwrite /grp/f (0640: the group may only read)" 1 as 1002 "$CTL" put "$VOL" "$L/b" /grp/f

step "get never creates setuid, setgid or device files"
printf '#!/bin/sh\necho owned\n' > "$L/suid"
chmod 06755 "$L/suid"
expect_rc "root puts a setuid file" 0 "$CTL" put "$VOL" "$L/suid" /suid
expect_rc "ls shows it setuid in the volume" 0 "$CTL" ls "$VOL" /suid
expect_match "... rwsr-sr-x" '^-rwsr-sr-x' "$OUT"
expect_rc "root gets it" 0 "$CTL" get "$VOL" /suid "$L/got"
expect_eq "... as a plain 0755 file" "755 regular file" "$(stat -c '%a %F' "$L/got")"
expect_rc "get of a device node is refused" 1 "$CTL" get "$VOL" /null "$L/dev"
check_fails "... and makes nothing" test -e "$L/dev"

step "volumes that modalfsctl run mounted privately are not reachable by others"
"$CTL" run --nfs /root/cache=new -- sh -c 'echo private > /root/cache/p; exec sleep 60' &
RUN_PID=$!
eph=
for ((i = 0; i < 100; i++)); do
	eph=$("$CTL" list --json | "$PYTHON" -c 'import json,sys; print(*[v["name"] for v in json.load(sys.stdin) if v["kind"] == "ephemeral"])')
	[ -n "$eph" ] && [ "$("$CTL" get "$eph" /p - 2>/dev/null)" = private ] && break
	sleep 0.1
done
expect_eq "root sees the run's volume and its file" private "$("$CTL" get "$eph" /p - 2>&1)"
expect_rc "list --json as a member" 0 as 1001 "$CTL" list --json
expect_eq "... has no ephemeral volume of someone else's run" "" \
	"$("$PYTHON" -c 'import json,sys; print(*[v["name"] for v in json.loads(sys.argv[1]) if v["kind"] == "ephemeral"])' "$OUT")"
expect_rc "a member's get of its file" 1 as 1001 "$CTL" get "$eph" /p -
expect_match "... says the volume does not exist" "volume '$eph' does not exist" "$ERR"
expect_rc "a member's delete of it" 1 as 1001 "$CTL" delete "$eph" --force
expect_match "... says the volume does not exist" "'$eph' does not exist" "$ERR"
expect_eq "... and it is still there" private "$("$CTL" get "$eph" /p - 2>&1)"
kill "$RUN_PID"
wait "$RUN_PID"
RUN_PID=

check "delete $VOL" "$CTL" delete "$VOL"
check_stop_and_unload
check_dmesg_clean
finish
