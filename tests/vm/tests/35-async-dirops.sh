#!/bin/bash
# Asynchronous directory operations (issue 11, kmod/dirops.c): in a
# complete directory create, unlink, and rmdir of a complete empty
# directory, return once their request is queued. Checked here:
#  - they are asynchronous (debugfs async_queued), the daemon ends up
#    with the same tree, and syncfs waits for them;
#  - order: an unlink followed at once by a create, mkdir or link of the
#    same name succeeds (the daemon runs nothing after an ASYNC request
#    before it, protocol section 3b);
#  - -o sync_dirops turns them off, per remount;
#  - an error only the daemon sees (fault injection: EIO for one name)
#    comes back at fsync of the directory, once, the name reappears and
#    the directory is no longer complete;
#  - mkdirs are asynchronous, and creates inside a directory whose MKDIR
#    is in flight carry FENCE: the daemon ends up with the same tree and
#    inode numbers, and a daemon stopped with 500 mkdirs and a file in
#    each queued, then killed, runs each exactly once;
#  - creates of regular files are asynchronous too, with inode numbers
#    from a range the daemon hands out (INO_RANGE), and the daemon ends
#    up with the kernel's inode numbers and times; ENOSPC at the daemon
#    comes back at fsync of the directory, and the tree is consistent;
#  - a daemon stopped with 1000 creates, then 1000 unlinks, queued and
#    then killed: the next daemon runs each exactly once; a daemon that dies after committing
#    one before replying answers its retransmission from its DRC;
#  - modalfsctl put into a complete directory shows on two mounts at once;
#  - rm -rf of a listed tree is asynchronous throughout: each RMDIR
#    follows its entries' removals with FENCE, so removing a tree never
#    waits for a stopped daemon, and the daemon ends up without it;
#  - 10,000 random creates, unlinks, mkdirs, rmdirs, renames and links
#    give the same errno sequence and final tree as tmpfs (the seed is
#    printed; DIROPS_SEED=N repeats a run).
. "$(dirname "$0")/../../lib.sh"
plan 144

VOL=${VOL:-vmtest-async}
MNT=$TEST_TMP/mnt
MNT2=$TEST_TMP/mnt2
REF=$TEST_TMP/ref
ERRNO=$MFS_TOOLS/mfs-errno
EQUIV=$MFS_TOOLS/dirops-equiv.py
NEQUIV=${DIROPS_COUNT:-10000}
SEED=${DIROPS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

require_root
require_file "$ERRNO"
require_file "$EQUIV"
mkdir -p "$MNT" "$MNT2" "$REF"
cleanup() {
	is_mounted "$REF" && umount "$REF"
	is_mounted "$MNT2" && umount "$MNT2"
	is_mounted "$MNT" && umount "$MNT"
	[ -n "$MODALFSD_PID" ] && kill -CONT "$MODALFSD_PID" 2>/dev/null
	stop_daemon
}
TEST_CLEANUP=cleanup

# mkfiles DIR N: N empty files f0..f(N-1) in DIR.
mkfiles() {
	"$PYTHON" -c "
import os, sys
for i in range(int(sys.argv[2])):
    os.close(os.open(os.path.join(sys.argv[1], 'f%d' % i), os.O_CREAT | os.O_WRONLY, 0o644))
" "$1" "$2"
}
# rmfiles DIR N: unlinks f0..f(N-1) in DIR by name (a glob would READDIR),
# giving up after 2 minutes.
rmfiles() {
	timeout 120 "$PYTHON" -c "
import os, sys
for i in range(int(sys.argv[2])):
    os.unlink(os.path.join(sys.argv[1], 'f%d' % i))
" "$1" "$2"
}
# mkdirs DIR N: N/2 directories d0.. in DIR with an empty file f in each.
mkdirs() {
	"$PYTHON" -c "
import os, sys
for i in range(int(sys.argv[2]) // 2):
    d = os.path.join(sys.argv[1], 'd%d' % i)
    os.mkdir(d)
    os.close(os.open(os.path.join(d, 'f'), os.O_CREAT | os.O_WRONLY, 0o644))
" "$1" "$2"
}
# op_errors OP: requests of OP the daemon answered with an error.
op_errors() {
	awk -v op="$1" '$1 == op { n = $4 } END { print n + 0 }' "$MODALFS_STATS"
}

# stopped_then_killed OP WHAT FN: with the daemon stopped, FN makes 1000
# asynchronous ops OP in q; the daemon is killed and a new one started;
# every op ran exactly once (no OP failed).
stopped_then_killed() {
	local errs
	errs=$(op_errors "$1")
	kill -STOP "$MODALFSD_PID"
	check "1000 $2 return while the daemon is stopped" "$3" "$MNT/q" 1000
	expect_eq "1000 $2 in flight" 1000 "$(stats_count async_inflight)"
	kill -KILL "$MODALFSD_PID"
	wait "$MODALFSD_PID" 2>/dev/null
	MODALFSD_PID=
	run_check "start modalfsd again" start_daemon "$TEST_DAEMON_DIR" || finish
	check "syncfs" sync -f "$MNT"
	expect_eq "none in flight" 0 "$(stats_count async_inflight)"
	expect_eq "no $1 failed (none ran twice)" "$errs" "$(op_errors "$1")"
}

step "load, start the daemon, mount"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" --force > /dev/null 2>&1
"$MODALFSCTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$MODALFS_STATS" || finish

step "unlinks in a complete directory are asynchronous"
mkdir "$MNT/a" && mkfiles "$MNT/a" 200
stats_snap
check "rm of 200 files" rm "$MNT"/a/f*
echo "    | UNLINK $(stats_since UNLINK), async_queued $(stats_since async_queued), in flight $(stats_count async_inflight)"
expect_eq "200 UNLINKs sent" 200 "$(stats_since UNLINK)"
expect_eq "... all of them asynchronous" 200 "$(stats_since async_queued)"
check "syncfs" sync -f "$MNT"
expect_eq "none in flight after syncfs" 0 "$(stats_count async_inflight)"
expect_eq "a is empty" 0 "$(ls -A "$MNT/a" | wc -l)"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "a is empty for the daemon too" 0 "$(ls -A "$MNT/a" | wc -l)"

step "creates in a complete directory are asynchronous"
mkdir "$MNT/c"
stats_snap
check "create 200 files" mkfiles "$MNT/c" 200
echo "    | CREATE $(stats_since CREATE) INO_RANGE $(stats_since INO_RANGE) async_queued $(stats_since async_queued) total $(stats_since total)"
expect_eq "200 CREATEs sent" 200 "$(stats_since CREATE)"
expect_eq "... all of them asynchronous" 200 "$(stats_since async_queued)"
expect_eq "at most one INO_RANGE for them" 1 "$(($(stats_since INO_RANGE) <= 1))"
st=$(stat -c '%i %y %z %U %a' "$MNT/c/f7")
check "200 times: create y, unlink it at once; then fsync of the directory" "$PYTHON" -c "
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for i in range(200):
    os.close(os.open(sys.argv[1] + '/y', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    os.unlink(sys.argv[1] + '/y')
os.fsync(fd)
" "$MNT/c"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "the daemon has the 200 files" 200 "$(ls "$MNT/c" | wc -l)"
expect_eq "f7's inode number, times, owner and mode are the ones the kernel gave it" \
	"$st" "$(stat -c '%i %y %z %U %a' "$MNT/c/f7")"

step "mkdirs are asynchronous, and so are the creates inside them (FENCE)"
mkdir "$MNT/m"
stats_snap
errs="$(op_errors MKDIR) $(op_errors CREATE)"
check "50 directories with 3 empty files each, then a 6-deep mkdir -p" "$PYTHON" -c "
import os, sys
for i in range(50):
    d = os.path.join(sys.argv[1], 'd%d' % i)
    os.mkdir(d, 0o750)
    for j in range(3):
        os.close(os.open(os.path.join(d, 'f%d' % j), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640))
os.makedirs(os.path.join(sys.argv[1], 'p/q/r/s/t/u'))
" "$MNT/m"
echo "    | MKDIR $(stats_since MKDIR) CREATE $(stats_since CREATE) async_queued $(stats_since async_queued) total $(stats_since total)"
expect_eq "56 MKDIRs and 150 CREATEs, all asynchronous" "56 150 206" \
	"$(stats_since MKDIR) $(stats_since CREATE) $(stats_since async_queued)"
check "100 times: mkdir x, a file in it, rename it to x2, rmdir" "$PYTHON" -c "
import os, sys
d = sys.argv[1]
for i in range(100):
    os.mkdir(d + '/x')
    os.close(os.open(d + '/x/f', os.O_CREAT | os.O_WRONLY, 0o600))
    os.rename(d + '/x', d + '/x2')
    os.unlink(d + '/x2/f')
    os.rmdir(d + '/x2')
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
" "$MNT/m"
tree=$(find "$MNT/m" -printf '%i %y %m %n %U %P\n' | sort)
check "syncfs" sync -f "$MNT"
expect_eq "no MKDIR or CREATE failed" "$errs" "$(op_errors MKDIR) $(op_errors CREATE)"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "the daemon has the same tree: inode numbers, modes, link counts" \
	"$tree" "$(find "$MNT/m" -printf '%i %y %m %n %U %P\n' | sort)"
check "rm -rf m" rm -rf "$MNT/m"

step "rm -rf of a tree read from the daemon"
for d in 0 1 2 3 4; do mkdir -p "$MNT/t/d$d" && mkfiles "$MNT/t/d$d" 40; done
check "umount" umount "$MNT"
check "mount again (cold caches)" mount -t modalfs "$VOL:/" "$MNT" || finish
# Listing the root makes it complete, so that t's own RMDIR may be async.
ls "$MNT" > /dev/null
stats_snap
errs=$(op_errors RMDIR)
check "rm -rf t" rm -rf "$MNT/t"
echo "    | UNLINK $(stats_since UNLINK) RMDIR $(stats_since RMDIR) async_queued $(stats_since async_queued) total $(stats_since total)"
# Each RMDIR follows its entries' removals still in flight: FENCE.
expect_eq "its 200 UNLINKs and 6 RMDIRs were all asynchronous" "200 6 206" \
	"$(stats_since UNLINK) $(stats_since RMDIR) $(stats_since async_queued)"
expect_eq "t is gone" ENOENT "$($ERRNO stat "$MNT/t")"
check "syncfs" sync -f "$MNT"
expect_eq "no RMDIR failed" "$errs" "$(op_errors RMDIR)"

step "removing a listed tree never waits for the daemon"
for d in 0 1 2 3 4; do mkdir -p "$MNT/t2/d$d" && mkfiles "$MNT/t2/d$d" 40; done
check "syncfs" sync -f "$MNT"
kill -STOP "$MODALFSD_PID"
check "with the daemon stopped: unlink 200 files, rmdir their 5 directories and t2" \
	timeout 120 "$PYTHON" -c "
import os, sys
t = sys.argv[1]
for d in range(5):
    for i in range(40):
        os.unlink('%s/d%d/f%d' % (t, d, i))
    os.rmdir('%s/d%d' % (t, d))
os.rmdir(t)
" "$MNT/t2"
expect_eq "206 asynchronous ops in flight" 206 "$(stats_count async_inflight)"
kill -CONT "$MODALFSD_PID"
check "syncfs" sync -f "$MNT"
expect_eq "none in flight after syncfs" 0 "$(stats_count async_inflight)"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "t and t2 are gone for the daemon too" "ENOENT ENOENT" \
	"$($ERRNO stat "$MNT/t") $($ERRNO stat "$MNT/t2")"
expect_eq "no RMDIR failed" "$errs" "$(op_errors RMDIR)"

step "an unlink then a create, mkdir or link of the same name keep their order"
mkdir "$MNT/o" && echo start > "$MNT/o/x" && echo keep > "$MNT/o/k"
stats_snap
check "300 times: unlink x, create x at once" "$PYTHON" -c "
import os, sys
d = sys.argv[1]
for i in range(300):
    os.unlink(d + '/x')
    fd = os.open(d + '/x', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    os.write(fd, b'%d' % i)
    os.close(fd)
" "$MNT/o"
check "100 times: unlink y, mkdir y, rmdir y, link k to y" "$PYTHON" -c "
import os, sys
d = sys.argv[1]
os.link(d + '/k', d + '/y')
for i in range(100):
    os.unlink(d + '/y')
    os.mkdir(d + '/y')
    os.rmdir(d + '/y')
    os.link(d + '/k', d + '/y')
" "$MNT/o"
expect_eq "at least 400 of them asynchronous" 1 "$(($(stats_since async_queued) >= 400))"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "x holds the last write, y is k" "299 keep" "$(cat "$MNT/o/x") $(cat "$MNT/o/y")"
expect_eq "k has 2 links" 2 "$(stat -c %h "$MNT/o/k")"

step "-o sync_dirops"
check "remount -o sync_dirops" mount -o remount,sync_dirops "$MNT"
check "/proc/mounts says sync_dirops" grep -q "$MNT modalfs .*sync_dirops" /proc/mounts
mkdir "$MNT/s" && mkfiles "$MNT/s" 50
stats_snap
check "rm of 50 files" rm "$MNT"/s/f*
expect_eq "50 UNLINKs, none asynchronous" "50 0" "$(stats_since UNLINK) $(stats_since async_queued)"
check_fails "a second mount with async_dirops is refused" \
	mount -t modalfs -o async_dirops "$VOL:/" "$MNT2"
check "remount -o async_dirops" mount -o remount,async_dirops "$MNT"
check_fails "/proc/mounts no longer says sync_dirops" grep -q "$MNT modalfs .*sync_dirops" /proc/mounts

step "an error only the daemon sees comes back at fsync"
run_check "stop modalfsd" stop_daemon
MODALFSD_FAULT=EIO=UNLINK:victim run_check "start modalfsd failing UNLINK of 'victim'" \
	start_daemon "$TEST_DAEMON_DIR" || finish
mkdir "$MNT/e" && : > "$MNT/e/victim" && : > "$MNT/e/other"
dmesg_mark
stats_snap
expect_eq "unlink returns 0, the first fsync of the directory EIO, the next 0" \
	"0 EIO 0" "$("$PYTHON" -c "
import errno, os, sys
d = sys.argv[1]
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.unlink(d + '/victim')
out = ['0']
for _ in range(2):
    try:
        os.fsync(fd)
        out.append('0')
    except OSError as e:
        out.append(errno.errorcode[e.errno])
print(' '.join(out))
" "$MNT/e")"
expect_eq "the unlink was asynchronous" 1 "$(stats_since async_queued)"
expect_match "the kernel logged the failed unlink" "asynchronous unlink in directory [0-9]+ failed with error -5" "$(dmesg_since)"
stats_snap
expect_eq "e/missing is missing" ENOENT "$($ERRNO stat "$MNT/e/missing")"
# The failure invalidated the volume's caches: e itself is looked up again.
expect_eq "... as the daemon said: e is no longer complete (LOOKUP of e and of missing)" 2 "$(stats_since LOOKUP)"
expect_eq "victim is back" OK "$($ERRNO stat "$MNT/e/victim")"
expect_eq "ls e" "other victim" "$(ls "$MNT/e" | tr '\n' ' ' | sed 's/ $//')"
check_fails "syncfs of the volume reports it too" sync -f "$MNT"
check "... once" sync -f "$MNT"
run_check "stop the failing modalfsd" stop_daemon
run_check "start modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish

step "the daemon is stopped, then killed, with 1000 creates queued"
mkdir "$MNT/q"
check "umount" umount "$MNT"
check "mount again (an empty inode number range)" mount -t modalfs "$VOL:/" "$MNT" || finish
ls "$MNT/q" > /dev/null
# Takes a range of inode numbers while the daemon answers.
: > "$MNT/q/first"
stopped_then_killed CREATE creates mkfiles
expect_eq "q has the 1001 files, each once" "1001 1001" \
	"$(ls "$MNT/q" | wc -l) $(ls "$MNT/q" | sort -u | wc -l)"

step "the daemon is stopped, then killed, with 1000 unlinks queued"
ls "$MNT/q" > /dev/null
stopped_then_killed UNLINK unlinks rmfiles
expect_eq "q has only first" "first" "$(ls -A "$MNT/q")"
rm "$MNT/q/first"

step "the daemon is stopped, then killed, with 500 mkdirs and a file in each queued"
check "umount" umount "$MNT"
check "mount again (an empty inode number range)" mount -t modalfs "$VOL:/" "$MNT" || finish
ls "$MNT/q" > /dev/null
: > "$MNT/q/first"
cerrs=$(op_errors CREATE)
stopped_then_killed MKDIR "mkdirs and creates" mkdirs
expect_eq "no CREATE failed either" "$cerrs" "$(op_errors CREATE)"
expect_eq "q has first and the 500 directories, each once" "501 501" \
	"$(ls "$MNT/q" | wc -l) $(ls "$MNT/q" | sort -u | wc -l)"
expect_eq "each directory has its file" 500 "$(find "$MNT/q" -mindepth 2 -name f | wc -l)"
check "empty q again" rm -rf "$MNT"/q/*

step "the daemon dies after committing an asynchronous unlink"
mkfiles "$MNT/q" 100
run_check "stop modalfsd" stop_daemon
MODALFSD_FAULT_DIE_BEFORE_REPLY=13 run_check "start modalfsd that dies before its first UNLINK reply" \
	start_daemon "$TEST_DAEMON_DIR" || finish
# A new daemon ends completeness: list q again.
ls "$MNT/q" > /dev/null
dpid=$MODALFSD_PID
errs=$(op_errors UNLINK)
check "unlink of 100 files" rmfiles "$MNT/q" 100
for ((i = 0; i < 100; i++)); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
wait "$dpid"
expect_eq "the daemon died before replying" 3 "$?"
MODALFSD_PID=
run_check "start modalfsd again" start_daemon "$TEST_DAEMON_DIR" || finish
check "syncfs" sync -f "$MNT"
expect_eq "no UNLINK failed (the committed one was answered from the DRC)" "$errs" "$(op_errors UNLINK)"
expect_eq "q is empty" 0 "$(ls -A "$MNT/q" | wc -l)"

step "ENOSPC during asynchronous creates is reported at fsync"
check "umount" umount "$MNT"
run_check "stop modalfsd" stop_daemon
FULL=$TEST_TMP/full
run_check "start modalfsd on a 16 MiB store" start_daemon "$FULL" --map-size 16M || finish
"$MODALFSCTL" persisted vmtest-async-full > /dev/null
check "mount it" mount -t modalfs vmtest-async-full:/ "$MNT" || finish
mkdir "$MNT/d"
check_fails "filling the store fails" dd if=/dev/zero of="$MNT/big" bs=1M count=64 conv=fsync status=none
stats_snap
out=$("$PYTHON" -c "
import errno, os, sys
d = sys.argv[1]
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
made = 0
for i in range(300):
    try:
        os.close(os.open('%s/n%d' % (d, i), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        made += 1
    except OSError as e:
        print('create', i, errno.errorcode[e.errno])
        break
try:
    os.fsync(fd)
    print('made', made, 'fsync 0')
except OSError as e:
    print('made', made, 'fsync', errno.errorcode[e.errno])
" "$MNT/d" 2>&1)
echo "    | $out; CREATE $(stats_since CREATE) errors $(awk '$1 == "CREATE" { print $4 }' "$MODALFS_STATS") async_queued $(stats_since async_queued)"
expect_match "the creates returned, the fsync of the directory says ENOSPC" "^made [0-9]+ fsync ENOSPC$" "$out"
expect_eq "some of them were asynchronous" 1 "$(($(stats_since async_queued) > 0))"
listed=$(ls "$MNT/d" | wc -l)
echo "    | the daemon has $listed of them"
expect_eq "every name listed exists, none twice" "$listed $listed" \
	"$(cd "$MNT/d" && ls | sort -u | wc -l) $(cd "$MNT/d" && ls | xargs -r stat -c %n | wc -l)"
check "rm frees the space" rm -f "$MNT/big"
check "a create works again, and its fsync" "$PYTHON" -c "
import os, sys
fd = os.open(sys.argv[1] + '/again', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
os.fsync(fd)
" "$MNT/d"
check "umount" umount "$MNT"
run_check "stop that modalfsd" stop_daemon
check "its --check is clean" "$MODALFSD" --check --state-dir "$FULL"
run_check "start modalfsd" start_daemon "$TEST_DAEMON_DIR" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish

step "$NEQUIV random operations: the same errnos and tree as tmpfs (seed $SEED)"
check "mount tmpfs for reference" mount -t tmpfs none "$REF"
mkdir "$MNT/eq"
stats_snap
check "run on modalfs" sh -c "'$PYTHON' '$EQUIV' '$MNT/eq' $SEED $NEQUIV > '$TEST_TMP/eq.modalfs'"
check "run on tmpfs" sh -c "'$PYTHON' '$EQUIV' '$REF' $SEED $NEQUIV > '$TEST_TMP/eq.tmpfs'"
echo "    | async_queued $(stats_since async_queued) async_refused $(stats_since async_refused) total $(stats_since total)"
if ! cmp -s "$TEST_TMP/eq.modalfs" "$TEST_TMP/eq.tmpfs"; then
	diff "$TEST_TMP/eq.tmpfs" "$TEST_TMP/eq.modalfs" | head -n 20 | sed 's/^/    | /'
fi
check "identical output (seed $SEED)" cmp -s "$TEST_TMP/eq.modalfs" "$TEST_TMP/eq.tmpfs"
expect_eq "the run used asynchronous ops" 1 "$(($(stats_since async_queued) > 0))"
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
"$PYTHON" "$EQUIV" "$MNT/eq" 0 0 > "$TEST_TMP/eq.after"
sed -n '/^tree:/,$p' "$TEST_TMP/eq.tmpfs" > "$TEST_TMP/eq.want"
check "... and the daemon's tree is the same" cmp -s "$TEST_TMP/eq.want" "$TEST_TMP/eq.after"

step "modalfsctl put into a complete directory is seen on every mount at once"
check "a second mount of $VOL" mount -t modalfs "$VOL:/" "$MNT2" || finish
mkdir "$MNT/pc" && : > "$MNT/pc/a"
ls "$MNT2/pc" > /dev/null
echo hello > "$TEST_TMP/put.src"
check "modalfsctl put /pc/new" "$MODALFSCTL" put "$VOL" "$TEST_TMP/put.src" /pc/new
expect_eq "ls of the first mount shows it" "a new" "$(ls "$MNT/pc" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "ls of the second mount too" "a new" "$(ls "$MNT2/pc" | tr '\n' ' ' | sed 's/ $//')"
check "umount the second mount" umount "$MNT2"

step "teardown"
check "umount" umount "$MNT"
check "umount tmpfs" umount "$REF"
finish_clean
