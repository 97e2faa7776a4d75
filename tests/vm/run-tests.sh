#!/bin/bash
# Run several test scripts one after the other (inside one VM boot, or on
# a real host) and record each one's exit status for tests/run-checks.sh:
#   tests/vm/run-tests.sh tests/vm/tests/10-register.sh ...
# Exit status: 0 iff every script passed.
OUT=${MODALFS_TEST_OUT:-}
rc=0
for t in "$@"; do
	echo
	echo "######## $t"
	start=$(date +%s)
	bash "$t"
	st=$?
	echo "######## $t: exit status $st ($(( $(date +%s) - start )) s)"
	[ -n "$OUT" ] && { mkdir -p "$OUT"; echo "$(basename "$t") $st" >> "$OUT/scripts.txt"; }
	[ $st -eq 0 ] || rc=1
done
exit $rc
