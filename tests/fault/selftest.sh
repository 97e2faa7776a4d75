#!/bin/bash
# Self-test of the data checkers (part of make check's selftest layer):
#   tests/fault/selftest.sh [--out DIR]
# One VM boot runs tests/fault/selftest-guest.sh: mfs-fsx, mfs-stress and
# mfs-posix pass against the real daemon, then each must FAIL against a
# daemon injecting faults (MODALFSD_FAULT: flipped READ bytes, a dropped
# directory entry, EIO from renames or writes), and 24-attrs must turn red
# when its Python checker dies of an EIO. Prints the guest's ok/not ok
# lines; exit 0 iff the boot worked and none failed.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
export BUILD
read -r -a VM_OPTS <<< "${MODALFS_VM_ARGS:-}"
OUT=$BUILD/check/fault-selftest
[ "${1:-}" = --out ] && OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
for d in tools posix fsx stress; do
	make -s --no-print-directory -C "$REPO/tests/$d" > /dev/null || echo "fault selftest: building tests/$d failed"
done
"$REPO/tests/vm/vm.sh" "${VM_OPTS[@]}" --timeout "${FAULT_SELFTEST_TIMEOUT:-900}" \
	--log "$OUT/console.log" --out "$OUT/guest" -- tests/fault/selftest-guest.sh > "$OUT/vm.log" 2>&1
rc=$?
cat "$OUT/guest/results.tap" 2>/dev/null
if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$OUT/guest/results.tap" 2>/dev/null; then
	echo "not ok - fault selftest: the VM run failed with status $rc (see $OUT/console.log)"
fi
echo "fault selftest: VM status $rc, console in $OUT/console.log"
exit $rc
