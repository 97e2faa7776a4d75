#!/bin/bash
# Run the modalfs KUnit suites (inside the test VM, or on a real host with
# the target kernel) and summarise them with the kernel's kunit.py parser:
#   tests/vm/kunit.sh
# Loads build/kunit/kunit.ko and tests/kunit/modalfs_kunit.ko (and
# kmod/modalfs.ko first when the suites depend on it); the suites run
# during insmod. The parser's output goes to stdout and, when
# MODALFS_TEST_OUT is set, to $MODALFS_TEST_OUT/kunit.txt.
# Exit status: 0 iff at least one test ran and none failed or crashed.
set -u
REPO=${MODALFS_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$REPO/build}
KUNIT_KO=${KUNIT_KO:-$BUILD/kunit/kunit.ko}
SUITES_KO=${SUITES_KO:-$REPO/tests/kunit/modalfs_kunit.ko}
MODALFS_KO=${MODALFS_KO:-$REPO/kmod/modalfs.ko}
PARSER=${KUNIT_PARSER:-$(ls "$BUILD"/linux-src/linux-source-*/tools/testing/kunit/kunit.py 2>/dev/null | head -n 1)}
[ -n "$PARSER" ] || PARSER=$(ls /opt/src/linux-source-*/tools/testing/kunit/kunit.py 2>/dev/null | head -n 1)
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=${MODALFS_TEST_OUT:-}
TMP=$(mktemp -d /tmp/modalfs-kunit.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# A kernel with KUnit built in (the debug kernel) needs no kunit.ko.
for f in "$KUNIT_KO" "$SUITES_KO"; do
	[ "$f" = "$KUNIT_KO" ] && [ -d /sys/module/kunit ] && continue
	[ -e "$f" ] || { echo "kunit.sh: $f missing (make kunit)"; exit 2; }
done
[ -n "$PARSER" ] && [ -e "$PARSER" ] || { echo "kunit.sh: kunit.py not found (make kunit extracts the kernel source)"; exit 2; }

start=$(dmesg | wc -l)
if [ ! -d /sys/module/kunit ]; then
	insmod "$KUNIT_KO" || { echo "kunit.sh: insmod $KUNIT_KO failed"; exit 2; }
fi
deps=$(modinfo -F depends "$SUITES_KO" 2>/dev/null | tr ',' ' ')
for d in $deps; do
	[ -d "/sys/module/$d" ] && continue
	case $d in
	modalfs) insmod "$MODALFS_KO" || { echo "kunit.sh: insmod $MODALFS_KO failed"; exit 2; } ;;
	kunit) ;;
	*) modprobe "$d" || { echo "kunit.sh: cannot load dependency $d"; exit 2; } ;;
	esac
done
# The suites run synchronously inside insmod.
insmod "$SUITES_KO"
irc=$?
[ $irc -eq 0 ] || echo "kunit.sh: insmod $SUITES_KO failed with status $irc"

dmesg --notime | tail -n +$((start + 1)) > "$TMP/dmesg"
# Module suites print no top-level header; add it so the parser sees one
# KTAP document with one subtest per suite.
n=$(grep -c '^    # Subtest: ' "$TMP/dmesg")
{
	echo "KTAP version 1"
	echo "1..$n"
	sed -n '/^    KTAP version 1/,$p' "$TMP/dmesg"
} > "$TMP/ktap"
[ -n "$OUT" ] && { mkdir -p "$OUT"; cp "$TMP/ktap" "$OUT/kunit.ktap"; }

"$PYTHON" "$PARSER" parse "$TMP/ktap" > "$TMP/parsed" 2>&1
prc=$?
cat "$TMP/parsed"
[ -n "$OUT" ] && cp "$TMP/parsed" "$OUT/kunit.txt"

# Unload so that a leaked reference or a broken exit path shows up here.
rmmod "$(basename "$SUITES_KO" .ko)" || { echo "kunit.sh: rmmod of the suites failed"; irc=1; }

summary=$(grep -E 'Testing complete|Ran [0-9]+ tests' "$TMP/parsed" | tail -n 1)
ran=$(echo "$summary" | sed -nE 's/.*Ran ([0-9]+) tests.*/\1/p')
bad=0
for k in failed crashed errors; do
	v=$(echo "$summary" | sed -nE "s/.*$k: ([0-9]+).*/\\1/p")
	bad=$((bad + ${v:-0}))
done
echo "kunit.sh: suites=$n ran=${ran:-0} bad=$bad insmod=$irc parser=$prc"
[ "$n" -gt 0 ] && [ "${ran:-0}" -gt 0 ] && [ "$bad" -eq 0 ] && [ $irc -eq 0 ] && [ $prc -eq 0 ]
