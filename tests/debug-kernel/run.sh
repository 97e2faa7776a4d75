#!/bin/bash
# make check-debug: the VM tests on the debug kernel.
#
#   tests/debug-kernel/run.sh [unit|kunit|vm|all]     (default: kunit and vm)
#
# 1. tests/debug-kernel/build.sh builds the KASAN + lockdep + kmemleak
#    kernel once (cached outside the tree, see there) -- or reuses it.
# 2. kmod/ and tests/kunit/ are copied to $BUILD/debug-kernel/mod and built
#    against that kernel's tree there, so the normal build's objects in
#    kmod/ are left alone.
# 3. tests/run-checks.sh runs the layers with vm.sh booting that kernel
#    (--kernel, --no-modules: its drivers are built in) and the copies'
#    modalfs.ko / modalfs_kunit.ko; tests/vm/tests/99-kmemleak.sh ends the
#    shared boot with a kmemleak scan that must find nothing.
# The output ends with run-checks' "N passed, N failed" line; the build and
# run times are printed (and documented in tests/vm/README.md).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
export BUILD
MOD=$BUILD/debug-kernel/mod

t0=$(date +%s)
echo "check-debug: building or reusing the debug kernel (first build: long; see build.log)"
KDIR=$("$HERE/build.sh") || { echo "check-debug: the debug kernel did not build"; echo "0 passed, 1 failed"; exit 1; }
t1=$(date +%s)
echo "check-debug: kernel in $KDIR ($((t1 - t0)) s$([ -s "$KDIR/build.time" ] && echo ", first build took $(cat "$KDIR/build.time") s"))"

rm -rf "$MOD"
mkdir -p "$MOD/tests"
cp -a "$REPO/Kbuild" "$REPO/kmod" "$REPO/netlink" "$MOD/"
cp -a "$REPO/tests/kunit" "$MOD/tests/"
# The copies must not carry objects built for the Debian kernel.
find "$MOD" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
	-o -name Module.symvers -o -name modules.order \) -delete
if ! make -s -C "$KDIR/src" M="$MOD" W=1 modules > "$MOD/build.log" 2>&1 ||
   ! make -s -C "$KDIR/src" M="$MOD/tests/kunit" W=1 modules >> "$MOD/build.log" 2>&1; then
	cat "$MOD/build.log"
	echo "check-debug: the module does not build against the debug kernel"
	echo "0 passed, 1 failed"
	exit 1
fi
t2=$(date +%s)
echo "check-debug: module and KUnit suites built against it ($((t2 - t1)) s)"

export MODALFS_VM_ARGS="--kernel $KDIR/bzImage --no-modules"
export MODALFS_KO=$MOD/kmod/modalfs.ko SUITES_KO=$MOD/tests/kunit/modalfs_kunit.ko
# kunit.sh looks for the parser under $BUILD, which moves below; the
# debug kernel's own tree has it.
export KUNIT_PARSER=$KDIR/src/tools/testing/kunit/kunit.py
export VM_ENV="MODALFS_KO SUITES_KO KUNIT_PARSER ${VM_ENV:-}"
# KASAN and lockdep under TCG are several times slower.
export VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-7200} POWERCUT_TIMEOUT=${POWERCUT_TIMEOUT:-5400}
export KUNIT_TIMEOUT=${KUNIT_TIMEOUT:-1800} FAULT_POWERCUT_TIMEOUT=${FAULT_POWERCUT_TIMEOUT:-900}
export VM_HUNG_SECS=${VM_HUNG_SECS:-300}
export BUILD=$BUILD/debug-kernel	# its own check/ output and state disks
mkdir -p "$BUILD"
rc=0
case ${1:-both} in
both) "$REPO/tests/run-checks.sh" kunit > "$BUILD/kunit.out" 2>&1; k=$?
      tail -n 3 "$BUILD/kunit.out"
      "$REPO/tests/run-checks.sh" vm | tee "$BUILD/vm.out"; rc=${PIPESTATUS[0]}
      # One total line: add the KUnit layer's counts to the VM layer's.
      kp=$(tail -n 1 "$BUILD/kunit.out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
      kf=$(tail -n 1 "$BUILD/kunit.out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
      vp=$(tail -n 1 "$BUILD/vm.out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
      vf=$(tail -n 1 "$BUILD/vm.out" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
      [ -n "$kp" ] || { kp=0 kf=1; }
      [ -n "$vp" ] || { vp=0 vf=1; }
      echo "check-debug: build/reuse $((t1 - t0)) s, module $((t2 - t1)) s, tests $(( $(date +%s) - t2 )) s"
      echo "$((kp + vp)) passed, $((kf + vf)) failed"
      [ $((kf + vf)) -eq 0 ]; exit $? ;;
*)    "$REPO/tests/run-checks.sh" "$1"; rc=$?
      echo "check-debug: build/reuse $((t1 - t0)) s, module $((t2 - t1)) s, tests $(( $(date +%s) - t2 )) s" ;;
esac
exit $rc
