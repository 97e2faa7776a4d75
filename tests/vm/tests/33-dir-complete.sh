#!/bin/bash
# Complete directories and directory attributes in replies (issue 11),
# counted with the kernel's debugfs counters (modalfs/stats):
#  - 100 creates in a directory this kernel just made send no LOOKUP, and
#    a stat of the directory afterwards no GETATTR (CREATE's reply carries
#    the directory's attributes, which match the daemon's after a remount);
#  - stat of 100 missing names there sends no request ("avoided" counts
#    them), also after an unlink and a rename in it;
#  - a directory listed to the end by readdir is complete too;
#  - modalfsctl put into a complete directory (NOTIFY) is visible to ls
#    and stat at once, and the directory asks again from then on;
#  - a daemon restart ends completeness as well.
. "$(dirname "$0")/../../lib.sh"
plan 41

VOL=${VOL:-vmtest-complete}
MNT=$TEST_TMP/mnt
STATS=$MODALFS_STATS
CTL=$MODALFSCTL
ERRNO=$MFS_TOOLS/mfs-errno

require_root
require_file "$ERRNO"
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

# missing DIR N: stat N names that do not exist; prints how many existed.
missing() {
	local i n=0
	for ((i = 0; i < $2; i++)); do
		[ -e "$1/missing$i" ] && n=$((n + 1))
	done
	echo $n
}

step "load, start the daemon, mount"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" --force > /dev/null 2>&1
"$CTL" persisted "$VOL" > /dev/null
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
check "debugfs modalfs/stats is readable" test -r "$STATS" || finish

step "100 creates in a new directory: no LOOKUP, no GETATTR of the parent"
check "mkdir c" mkdir "$MNT/c"
stats_snap
for ((i = 0; i < 100; i++)); do : > "$MNT/c/f$i"; done
echo "    | requests: CREATE $(stats_since CREATE) LOOKUP $(stats_since LOOKUP) GETATTR $(stats_since GETATTR) total $(stats_since total)"
expect_eq "100 CREATEs" 100 "$(stats_since CREATE)"
expect_eq "no LOOKUP (the new directory is complete)" 0 "$(stats_since LOOKUP)"
expect_eq "no GETATTR for stat of the parent" 0 "$(stats_since GETATTR)"
# Asynchronous creates (issue 11) take inode numbers from a range that
# one INO_RANGE asks for, 1,024 at a time.
expect_eq "no other request but one INO_RANGE" "101 1" "$(stats_since total) $(stats_since INO_RANGE)"

step "missing names in a complete directory cost no request"
stats_snap
expect_eq "none of 100 missing names exists" 0 "$(missing "$MNT/c" 100)"
echo "    | requests: total $(stats_since total), avoided $(stats_since avoided)"
expect_eq "no request for them" 0 "$(stats_since total)"
expect_eq "100 lookups avoided" 100 "$(stats_since avoided)"
check "rm c/f1" rm "$MNT/c/f1"
check "mv c/f2 c/g2" mv "$MNT/c/f2" "$MNT/c/g2"
stats_snap
expect_eq "f1 and f2 are gone, g2 is there" "ENOENT ENOENT OK" \
	"$($ERRNO stat "$MNT/c/f1") $($ERRNO stat "$MNT/c/f2") $($ERRNO stat "$MNT/c/g2")"
expect_eq "... and stat of the directory: no request" 0 "$(stats_since total)"
expect_eq "ls sees 99 files" 99 "$(ls "$MNT/c" | wc -l)"

step "the directory's attributes came from the daemon"
st=$(stat -c '%h %y %z %s' "$MNT/c")
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
expect_eq "nlink, times and size of c after a remount as before" "$st" \
	"$(stat -c '%h %y %z %s' "$MNT/c")"

step "a directory listed to the end is complete"
stats_snap
expect_eq "readdir lists 99 files" 99 "$(ls "$MNT/c" | wc -l)"
before=$(stats_since total)
expect_eq "none of 100 missing names exists" 0 "$(missing "$MNT/c" 100)"
expect_eq "no request for them after the listing" "$before" "$(stats_since total)"

step "modalfsctl put into a complete directory is seen at once (NOTIFY)"
echo hello > "$TEST_TMP/put.src"
check "modalfsctl put /c/missing7" "$CTL" put "$VOL" "$TEST_TMP/put.src" /c/missing7
expect_eq "ls shows it" 1 "$(ls "$MNT/c" | grep -cx missing7)"
expect_eq "stat finds it" OK "$($ERRNO stat "$MNT/c/missing7")"
expect_eq "cat reads it" hello "$(cat "$MNT/c/missing7")"
check "mkdir d, one file in it" sh -c "mkdir '$MNT/d' && : > '$MNT/d/x'"
check "modalfsctl put /d/y" "$CTL" put "$VOL" "$TEST_TMP/put.src" /d/y
expect_eq "stat d/y finds it (the NOTIFY ended completeness)" OK \
	"$($ERRNO stat "$MNT/d/y")"

step "a daemon restart ends completeness"
check "mkdir e" mkdir "$MNT/e"
run_check "stop modalfsd" stop_daemon
run_check "start modalfsd again" start_daemon "$TEST_DAEMON_DIR" || finish
stats_snap
expect_eq "e/missing0 is missing" ENOENT "$($ERRNO stat "$MNT/e/missing0")"
expect_eq "... as the daemon said (one LOOKUP)" 1 "$(stats_since LOOKUP)"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
