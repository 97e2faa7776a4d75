#!/bin/bash
# The dashboard (issue 15) in headless Chromium inside the VM:
# tests/ui/dashboard.test.mjs (playwright-core, Debian's /usr/bin/chromium)
# starts modalfs-dashboard, is refused without the token, lists volumes,
# browses into a directory, downloads a file and compares its bytes,
# deletes a volume through the trash icon and sees it gone from
# "modalfsctl list", refuses to delete a mounted volume until forced,
# refuses POSTs without the token or the CSRF value, and saves
# screenshots (dashboard.png, volume.png, dashboard-phone.png) in the
# test output's ui/ directory. Run it with make check-ui; it is not
# among the make check scripts (about 190 s of guest time under TCG).
. "$(dirname "$0")/../../lib.sh"

DASHBOARD=${DASHBOARD:-$MODALFS_REPO/dashboard/modalfs-dashboard}
UI=$MODALFS_REPO/tests/ui
# Subtests of dashboard.test.mjs with a mounted volume, plus the test.
UI_TESTS=10
VOL=ui-mounted
MNT=$TEST_TMP/mnt

require_root
require_file "$DASHBOARD"
[ -d "$UI/node_modules/playwright-core" ] ||
	bail "playwright-core installed in tests/ui (run make deps, or npm ci there)"
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

tstep "load the module, start the daemon, mount $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" --force >/dev/null 2>&1
check "persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
mkdir -p "$MNT"
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
echo hello > "$MNT/hello.txt"

tstep "the browser test"
out=$(cd "$UI" && env UI_OUT="${MODALFS_TEST_OUT:-$TEST_TMP}/ui" \
	UI_MOUNTED_VOLUME="$VOL" DASHBOARD="$DASHBOARD" MODALFSCTL="$MODALFSCTL" \
	HOME="$TEST_TMP" node --test --test-reporter=tap dashboard.test.mjs 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^ *(not )?ok |^# (pass|fail)|error|Error|expected|actual' | sed 's/^/    | /'
expect_eq "node --test exits 0" 0 "$rc"
expect_eq "browser test: $UI_TESTS passed, 0 failed" "pass $UI_TESTS fail 0" \
	"$(printf '%s\n' "$out" | awk '$1 == "#" && ($2 == "pass" || $2 == "fail") { printf "%s%s %s", sep, $2, $3; sep = " " }')"
check "a screenshot was saved" test -s "${MODALFS_TEST_OUT:-$TEST_TMP}/ui/dashboard.png"
check_fails "$VOL is gone from modalfsctl list (deleted by force)" \
	sh -c "'$MODALFSCTL' list | grep -qw '$VOL'"
check "its mount still unmounts" umount "$MNT"

check_stop_and_unload
check_dmesg_clean
finish
