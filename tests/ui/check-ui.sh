#!/bin/bash
# make check-ui: one VM boot that runs tests/vm/ui/46-dashboard.sh, the
# dashboard in headless Chromium. It is not among the make check scripts
# (tests/vm/tests) because Chromium under TCG needs about three minutes
# of guest time. Results and screenshots land in $BUILD/check-ui.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
OUT=$BUILD/check-ui
STATE=$BUILD/vm/check-ui-state.img

rm -rf "$OUT" "$STATE"
mkdir -p "$OUT" "$BUILD/vm"
cd "$REPO" || exit 1
"$REPO/tests/vm/vm.sh" --state "$STATE" --timeout "${VM_BOOT_TIMEOUT:-900}" \
	--log "$OUT/console.log" --out "$OUT" \
	-- tests/vm/run-tests.sh tests/vm/ui/46-dashboard.sh
rc=$?
p=$(grep -c '^ok ' "$OUT/results.tap" 2>/dev/null)
f=$(grep -c '^not ok ' "$OUT/results.tap" 2>/dev/null)
[ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || f=1
echo "check-ui: screenshots in $OUT/ui/"
echo "${p:-0} passed, ${f:-0} failed"
exit $rc
