#!/bin/bash
# modalfsctl, command by command: help, exit codes (0 ok, 1 runtime
# error naming the volume and path, 2 usage), the name rule, who may
# use modalfsd (root and the modalfs group) and mount (root),
# list/ls --json (parsed), put/get/rm without a mount (and seen at once by
# a mount), the mount subcommand, the mount helper (mount -t modalfs and
# fstab), install.sh and the man pages.
. "$(dirname "$0")/../../lib.sh"
plan 175

VOL=vmtest-cli
CTL=$MODALFSCTL
HELPER=$MODALFS_REPO/tools/mount.modalfs
M=$TEST_TMP/m
L=$TEST_TMP/local

require_root
mkdir -p "$M" "$L"
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	is_mounted "$M" && umount "$M"
	[ -n "${FSTAB_SAVED:-}" ] && cp "$TEST_TMP/fstab.orig" /etc/fstab
	[ -n "${HELPER_INSTALLED:-}" ] && rm -f /sbin/mount.modalfs
	stop_daemon
}
TEST_CLEANUP=cleanup

# expect_rc DESC RC CMD...: CMD exits RC; its stderr is kept in $ERR.
expect_rc() {
	local desc=$1 want=$2 rc
	shift 2
	ERR=$("$@" 2>&1 >"$TEST_TMP/out")
	rc=$?
	OUT=$(<"$TEST_TMP/out")
	expect_eq "$desc (exit $want)" "$want" "$rc"
}

# expect_re DESC ERE TEXT: expect_match without a grep process (process
# creation is slow under TCG, and this script checks a lot).
expect_re() {
	if [[ $3 =~ $2 ]]; then
		pass "$1"
		return 0
	fi
	echo "    | no match for /$2/ in:"
	printf '%s\n' "$3" | sed 's/^/    | /'
	fail "$1"
	return 1
}

nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
# modalfsd reads the group when it starts; the guest's /etc is throw-away.
getent group modalfs >/dev/null || groupadd -r modalfs
member() {
	setpriv --reuid=65534 --regid=65534 --groups="$(getent group modalfs | cut -d: -f3)" "$@"
}

tstep "help and usage errors (no daemon needed)"
expect_rc "modalfsctl --help" 0 "$CTL" --help
expect_re "... lists every command" "persisted.*create.*list.*delete.*app stop.*ls.*put.*get.*rm.*mount.*run" "$OUT"
for c in persisted create list delete "app stop" ls put get rm mount run; do
	# shellcheck disable=SC2086
	expect_rc "modalfsctl $c --help" 0 "$CTL" $c --help
	expect_re "... prints its usage" "^Usage: modalfsctl $c" "$OUT"
done
expect_rc "unknown command" 2 "$CTL" frobnicate
expect_re "... usage on stderr" "Usage: modalfsctl" "$ERR"
expect_eq "... nothing on stdout" "" "$OUT"
expect_rc "no command" 2 "$CTL"
expect_rc "unknown global option" 2 "$CTL" --bogus list
expect_rc "list with an unknown option" 2 "$CTL" list --bogus
expect_rc "ls without NAME" 2 "$CTL" ls
expect_rc "put without LOCAL" 2 "$CTL" put "$VOL"
expect_rc "get without REMOTE" 2 "$CTL" get "$VOL"
expect_rc "rm without PATH" 2 "$CTL" rm "$VOL"
expect_rc "rm with too many arguments" 2 "$CTL" rm "$VOL" /a /b
expect_rc "app without a subcommand" 2 "$CTL" app
expect_rc "app with an unknown subcommand" 2 "$CTL" app start x
expect_rc "mount without DIR" 2 "$CTL" mount "$VOL"
for bad in "a/b" "" "$(printf 'x%.0s' {1..65})" "sp ace" "caf\xc3\xa9"; do
	expect_rc "persisted '${bad:0:20}' is refused" 2 "$CTL" persisted "$bad"
	expect_re "... stating the rule" "1 to 64 characters from A-Z a-z 0-9 . _ -" "$ERR"
done
expect_rc "ls with a bad name" 2 "$CTL" ls "b@d"
expect_rc "mount with a bad name" 2 "$CTL" mount "b@d:/" "$M"
expect_re "... stating the rule" "A-Z a-z 0-9" "$ERR"
expect_rc "the daemon is not running: list" 1 "$CTL" list
expect_re "... says so" "cannot reach modalfsd" "$ERR"

tstep "load the module and start the daemon"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$CTL" delete "$VOL" >/dev/null 2>&1	# left over on a real host

tstep "only root and the modalfs group may use modalfsd; mount needs root"
for c in "persisted $VOL" "create $VOL" "delete $VOL" "app stop x" "put $VOL /etc/hostname" "rm $VOL /x" "list"; do
	# shellcheck disable=SC2086
	expect_rc "as nobody: $c" 1 nobody "$CTL" $c
	expect_re "... permission denied, naming the group" "ermission denied.*'modalfs' group" "$ERR"
done
expect_rc "as nobody: mount $VOL $M" 1 nobody "$CTL" mount "$VOL" "$M"
expect_re "... must be run as root" "must be run as root" "$ERR"

tstep "persisted, create, list --json"
expect_rc "create $VOL" 0 "$CTL" create "$VOL"
app=$OUT
expect_re "... prints an app id" '^ap-[A-Za-z0-9]+$' "$app"
expect_rc "create $VOL again" 1 "$CTL" create "$VOL"
expect_re "... says it exists" "volume '$VOL' already exists" "$ERR"
expect_rc "persisted $VOL (exists)" 0 "$CTL" persisted "$VOL"
expect_eq "... prints the same app id" "$app" "$OUT"
expect_rc "list" 0 "$CTL" list
expect_re "list has $VOL" "$VOL +$app +persisted +- " "$OUT"
expect_rc "list as a member of modalfs works" 0 member "$CTL" list

tstep "put, ls, get, rm without mounting"
printf 'hello\n' > "$L/hello.txt"
head -c 200000 /dev/urandom > "$L/big.bin"
mkdir -p "$L/tree/a/b"
echo deep > "$L/tree/a/b/deep.txt"
: > "$L/tree/empty"
chmod 0640 "$L/tree/a/b/deep.txt"
ln -s hello.txt "$L/tree/link"
expect_rc "put a file (default REMOTE /BASENAME)" 0 "$CTL" put "$VOL" "$L/hello.txt"
expect_rc "put a file to an exact path, making parents" 0 "$CTL" put "$VOL" "$L/big.bin" /data/x/big.bin
expect_rc "put a file into a directory (trailing /)" 0 "$CTL" put "$VOL" "$L/hello.txt" /data/
expect_rc "put a tree recursively" 0 "$CTL" put "$VOL" "$L/tree" /t
expect_re "... skipping the symlink with a warning" "skipping .*link" "$ERR"
expect_rc "put onto a directory without a trailing /" 1 "$CTL" put "$VOL" "$L/hello.txt" /data
expect_re "... names volume and path" "$VOL:/data" "$ERR"
expect_rc "put of a missing local file" 1 "$CTL" put "$VOL" "$L/nope"
expect_re "... names the file" "$L/nope" "$ERR"
expect_rc "put into a missing volume" 1 "$CTL" put no-such-vol "$L/hello.txt"
expect_re "... names the volume" "volume 'no-such-vol' does not exist" "$ERR"
expect_rc "ls --json /t" 0 "$CTL" ls "$VOL" /t --json
expect_eq "ls --json parses: names, types, modes and sizes" \
	"a:dir:493:0 empty:file:420:0 tree-check" \
	"$("$PYTHON" -c '
import json, sys
e = json.loads(sys.argv[1])
print(*("%s:%s:%d:%d" % (x["name"], x["type"], x["mode"], x["size"] if x["type"] != "dir" else 0) for x in sorted(e, key=lambda x: x["name"])), "tree-check")' "$OUT")"
expect_rc "ls of a file lists it alone" 0 "$CTL" ls "$VOL" /t/a/b/deep.txt
expect_re "... with its mode and size" '^-rw-r----- +5 .* deep.txt$' "$OUT"
expect_rc "ls /" 0 "$CTL" ls "$VOL"
expect_eq "ls / shows data/ hello.txt t/" "data/ hello.txt t/" "$(awk '{ print $NF }' <<< "$OUT" | sort | tr '\n' ' ' | sed 's/ $//')"
expect_rc "ls of a missing path" 1 "$CTL" ls "$VOL" /nope
expect_re "... names volume and path" "$VOL:/nope: No such file" "$ERR"
expect_rc "ls of a missing volume" 1 "$CTL" ls no-such-vol
expect_rc "get to a file" 0 "$CTL" get "$VOL" /data/x/big.bin "$L/got.bin"
check "... byte-identical" cmp "$L/big.bin" "$L/got.bin"
expect_rc "get refuses to overwrite" 1 "$CTL" get "$VOL" /hello.txt "$L/got.bin"
expect_re "... and says --force" "refusing to overwrite .*--force" "$ERR"
check "... leaving the file alone" cmp "$L/big.bin" "$L/got.bin"
expect_rc "get --force overwrites" 0 "$CTL" get "$VOL" /hello.txt "$L/got.bin" --force
check "... with the new content" cmp "$L/hello.txt" "$L/got.bin"
expect_eq "... and no temporary file is left" "" "$(find "$L" -maxdepth 1 -name '*modalfsctl*')"
mkdir "$L/into"
expect_rc "get into a directory" 0 "$CTL" get "$VOL" /t/a/b/deep.txt "$L/into"
expect_eq "... keeps the base name and mode" "640 deep" "$(stat -c %a "$L/into/deep.txt") $(cat "$L/into/deep.txt")"
expect_rc "get - writes to stdout" 0 "$CTL" get "$VOL" /data/hello.txt -
expect_eq "... the content" hello "$OUT"
(cd "$L/into" && "$CTL" get "$VOL" /hello.txt)
check "get with no DEST writes ./BASENAME" cmp "$L/hello.txt" "$L/into/hello.txt"
expect_rc "get of a missing file" 1 "$CTL" get "$VOL" /nope "$L/x"
expect_re "... names volume and path" "$VOL:/nope" "$ERR"
expect_rc "get of a directory" 1 "$CTL" get "$VOL" /t "$L/x"
expect_re "... says it is a directory" "$VOL:/t: Is a directory" "$ERR"
check_fails "... and leaves no file" test -e "$L/x"
expect_rc "get as a member works for a readable file" 0 member "$CTL" get "$VOL" /hello.txt -
expect_rc "rm of a non-empty directory" 1 "$CTL" rm "$VOL" /t
expect_re "... suggests -r" "$VOL:/t: Directory not empty .*-r" "$ERR"
expect_rc "rm -r" 0 "$CTL" rm "$VOL" /t -r
expect_rc "rm of a missing path" 1 "$CTL" rm "$VOL" /t
expect_rc "rm /" 1 "$CTL" rm "$VOL" /
expect_rc "rm a file" 0 "$CTL" rm "$VOL" /data/hello.txt

tstep "changes made without the mount are seen through it at once"
check "modalfsctl mount $VOL:/data $M -o nosuid,nodev,soft,timeo=30" "$CTL" mount "$VOL:/data" "$M" -o nosuid,nodev,soft,timeo=30 || finish
opts=$(awk -v m="$M" '$2 == m { print $4 }' /proc/mounts)
expect_re "the options reached mount(2) and the module" '(^|,)nosuid,nodev(,|$).*soft,timeo=30' "$opts"
ls "$M/x" > /dev/null
check "the sub-path mount shows x/big.bin" cmp "$L/big.bin" "$M/x/big.bin"
check_fails "new.txt is not there yet (a negative dentry now)" test -e "$M/x/new.txt"
check "put a new file" "$CTL" put "$VOL" "$L/hello.txt" /data/x/new.txt
check "... readable through the mount (the dentry cache was told)" cmp "$L/hello.txt" "$M/x/new.txt"
echo changed > "$L/changed"
cat "$M/x/new.txt" > /dev/null
check "put over it" "$CTL" put "$VOL" "$L/changed" /data/x/new.txt
expect_eq "... the mount reads the new content (the page cache was told)" changed "$(cat "$M/x/new.txt")"
check "rm it" "$CTL" rm "$VOL" /data/x/new.txt
check_fails "... gone from the mount" test -e "$M/x/new.txt"
expect_rc "mount again while mounted with other options" 1 "$CTL" mount "$VOL:/" "$TEST_TMP/m" -o hard
check "umount" umount "$M"
expect_rc "modalfsctl mount of a missing path" 1 "$CTL" mount "$VOL:/nope" "$M"
expect_re "... names volume and path" "$VOL:/nope" "$ERR"
expect_rc "modalfsctl mount of a missing volume" 1 "$CTL" mount "no-such-vol:/" "$M"
expect_rc "modalfsctl mount -o ro" 0 "$CTL" mount "$VOL" "$M" -o ro,noatime
expect_re "... read-only" '^ro,' "$(awk -v m="$M" '$2 == m { print $4 }' /proc/mounts)"
check_fails "... writes fail" touch "$M/w"
check "umount" umount "$M"

tstep "the mount helper: mount -t modalfs and fstab"
expect_rc "mount.modalfs --help" 0 "$HELPER" --help
expect_rc "mount.modalfs with a bad name" 1 "$HELPER" "b@d:/" "$M"
expect_re "... stating the rule" "A-Z a-z 0-9" "$ERR"
expect_rc "mount.modalfs -f (fake) with options" 0 "$HELPER" "$VOL:/data" "$M" -f -v -o ro,noexec,soft,_netdev,x-foo=1
expect_re "... parses flags and data" "flags 0x9, options 'soft'" "$OUT"
expect_rc "mount.modalfs of a missing volume" 32 "$HELPER" "no-such-vol:/" "$M"
if [ -n "${MODALFS_IN_VM:-}" ] || [ ! -e /sbin/mount.modalfs ]; then
	rm -rf "$TEST_TMP/inst"
	check "install.sh into a DESTDIR" env KVER=none "$MODALFS_REPO/tools/install.sh" "$TEST_TMP/inst"
	for f in sbin/mount.modalfs usr/bin/modalfsctl usr/sbin/modalfsd usr/share/man/man8/mount.modalfs.8 usr/share/man/man8/modalfsctl.8 usr/share/man/man8/modalfsd.8; do
		check "... installs /$f" test -s "$TEST_TMP/inst/$f"
	done
	cp "$TEST_TMP/inst/sbin/mount.modalfs" /sbin/mount.modalfs && HELPER_INSTALLED=1
	check "mount -t modalfs $VOL:/data -o nodev,soft (through the helper)" mount -t modalfs "$VOL:/data" "$M" -o nodev,soft
	expect_re "... with its options" 'nodev.*soft' "$(awk -v m="$M" '$2 == m { print $4 }' /proc/mounts)"
	check "... shows the data" cmp "$L/big.bin" "$M/x/big.bin"
	check "umount" umount "$M"
	out=$(mount -t modalfs "b@d:/" "$M" 2>&1)
	expect_re "mount -t modalfs with a bad name: the helper says the rule" "mount.modalfs: invalid volume name 'b@d'.*A-Z a-z 0-9" "$out"
	cp /etc/fstab "$TEST_TMP/fstab.orig" && FSTAB_SAVED=1
	echo "$VOL:/data $M modalfs noauto,nosuid,_netdev 0 0" >> /etc/fstab
	check "mount DIR through an fstab entry" mount "$M"
	expect_re "... with the fstab options" 'nosuid' "$(awk -v m="$M" '$2 == m { print $4 }' /proc/mounts)"
	check "... shows the data" cmp "$L/big.bin" "$M/x/big.bin"
	check "umount" umount "$M"
	cp "$TEST_TMP/fstab.orig" /etc/fstab && FSTAB_SAVED=
	rm -f /sbin/mount.modalfs && HELPER_INSTALLED=
else
	# As many skips as the branch above has checks, so the plan holds.
	for ((i = 1; i <= 17; i++)); do
		skip "mount helper check $i/17: a /sbin/mount.modalfs is installed on this host"
	done
fi

tstep "man pages render without warnings"
for p in modalfsctl modalfsd mount.modalfs; do
	w=$(man --warnings -l "$MODALFS_REPO/Documentation/man/$p.8" 2>&1 >/dev/null)
	expect_eq "man --warnings -l $p.8" "" "$w"
done

tstep "clean up"
check "delete $VOL" "$CTL" delete "$VOL"
check_stop_and_unload
check_dmesg_clean
finish
