#!/bin/bash
# Self-test of tests/lib.sh's verdicts (no root, no VM; a few seconds):
#   tests/lib-selftest.sh
# Deliberately broken scripts must each end red (non-zero, a "not ok"
# line in results.tap), the good ones green, and skips must be recorded
# as TAP skips, never as passes. Prints one ok/not ok line per case.
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/lib-selftest.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
fails=0

# case_ DESC WANT(0|1) SCRIPT-BODY: runs a script that sources lib.sh.
case_() {
	local desc=$1 want=$2 rc
	printf '. %q\n%s\n' "$HERE/lib.sh" "$3" > "$W/t.sh"
	rm -rf "$W/out"
	MODALFS_TEST_OUT=$W/out TEST_NAME=t NO_COLOR=1 bash "$W/t.sh" > "$W/log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && rc=1
	if [ "$rc" = "$want" ] && { [ "$want" = 0 ] || grep -q '^not ok ' "$W/out/results.tap"; }; then
		echo "ok - $desc (status $rc)"
	else
		echo "not ok - $desc (status $rc, wanted $want)"
		sed 's/^/    | /' "$W/log"
		fails=$((fails + 1))
	fi
}

case_ "a script that makes its plan passes" 0 'plan 2; pass a; check b true; finish'
case_ "a script one check short fails" 1 'plan 3; pass a; pass b; finish'
case_ "a script one check over fails" 1 'plan 1; pass a; pass b; finish'
case_ "a script without a plan fails" 1 'pass a; finish'
case_ "a non-numeric plan fails" 1 'plan x; pass a; finish'
case_ "a script that exits 0 before finish fails" 1 'plan 2; pass a; exit 0; pass b; finish'
case_ "a script killed by set -e before finish fails" 1 'set -e; plan 2; pass a; false; pass b; finish'
case_ "a script whose checks all skipped fails" 1 'plan 2; skip "no ext4"; skip "no ext4"; finish'
case_ "a skip counts towards the plan" 0 'plan 2; pass a; skip "no ext4"; finish'
case_ "a failing check fails" 1 'plan 2; pass a; check b false; finish'
case_ "check_status of a traceback (exit 1) fails" 1 'plan 1; check_status "the checker ran to its end" 1; finish'
case_ "check_status of a missing status fails" 1 'plan 1; check_status "the checker ran to its end" ""; finish'
case_ "skip_script (whole script not applicable) ends 0" 0 'skip_script "no kmemleak"; pass never; finish'

# A skip is a TAP skip line, not a plain ok.
MODALFS_TEST_OUT=$W/skip TEST_NAME=t NO_COLOR=1 bash -c ". '$HERE/lib.sh'; plan 2; pass a; skip why; finish" > /dev/null 2>&1
if [ "$(grep -c '^ok [0-9]* - t: # SKIP why$' "$W/skip/results.tap")" = 1 ] &&
	[ "$(grep -c '^ok ' "$W/skip/results.tap")" = 2 ]; then
	echo "ok - a skip is written as 'ok N - NAME: # SKIP why'"
else
	echo "not ok - a skip is written as 'ok N - NAME: # SKIP why'"
	sed 's/^/    | /' "$W/skip/results.tap"
	fails=$((fails + 1))
fi

[ $fails -eq 0 ] && echo "lib selftest: all passed" || echo "lib selftest: $fails failed"
[ $fails -eq 0 ]
