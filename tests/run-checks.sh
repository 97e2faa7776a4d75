#!/bin/bash
# Run the modalfs test layers and count their results:
#
#   tests/run-checks.sh [unit|selftest|kunit|vm|fuzz|all]     (default: all)
#
#   unit   cmocka tests of the daemon and tools (make -C tests/unit run),
#          then the same under ASan+UBSan (make -C tests/unit run-asan)
#   selftest  the tests' own self-tests, which must see broken things
#          fail: tests/lib-selftest.sh (verdicts of lib.sh),
#          tests/scenarios/selftest.sh (the scenario drivers on tmpfs),
#          tests/vm/selftest.sh (vm.sh, in VMs) and tests/fault/selftest.sh
#          (fsx, stress and mfs-posix against a daemon injecting faults,
#          in a VM); one check per ok/not ok line
#   kunit  the module's KUnit suites, in a VM   (tests/vm/kunit.sh)
#   vm     the end-to-end scripts in tests/vm/tests, in VMs: every script
#          whose name has no "reboot" in one boot on a fresh state disk,
#          then the *reboot* scripts in a second boot on the same disk;
#          then the power-cut rounds (tests/fault/powercut.sh).
#
# MODALFS_LONG=1 (make check-long) is passed to the VM scripts, which run
# their long variants. Every VM boot has a timeout (VM_BOOT_TIMEOUT,
# POWERCUT_TIMEOUT): a hung VM fails the layer, it never hangs the run.
# VM_SCRIPTS="10-register.sh 90-daemon-kill.sh" runs only those scripts;
# FAULT_POWERCUT_ROUNDS=0 skips the power cuts.
#
#   fuzz   libFuzzer over the daemon's decoding (make -C tests/fuzz run,
#          FUZZ_SECONDS a target): part of "all" only with MODALFS_LONG=1
#          (make check-long); one check: no crash found.
#
# Counting: unit = cmocka's test counts; kunit = kunit.py's test counts;
# vm = one per check line ("ok"/"not ok") the scripts print. A layer or
# script that could not run or died without reporting, and a VM whose
# kernel logged an oops/WARN/BUG/lockdep/hung-task report, each add one
# failure; nothing is ever counted as passed without having run.
# A skipped check ("ok N - ... # SKIP why", tests/lib.sh's skip) is
# counted as a skip, not a pass.
#
# Pinned counts: UNIT_PLAN is the number of cmocka tests (run twice: plain
# and under ASan+UBSan), KUNIT_PLAN the number of KUnit test cases; a run
# with a different count fails (a suite that vanished, or new cases without
# the pin updated). Every VM script pins its own count with `plan N`.
#
# The output ends with a line "N skipped" and then exactly one line
# "N passed, N failed"; the exit status is 0 iff N failed is 0. Consoles
# and results go to $BUILD/check.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$REPO/build}
export BUILD
OUT=$BUILD/check
VM=$HERE/vm/vm.sh
# Extra vm.sh options for every boot (tests/debug-kernel/run.sh passes
# --kernel and --no-modules), word-split.
read -r -a VM_OPTS <<< "${MODALFS_VM_ARGS:-}"
MAKE=${MAKE:-make}
# The unit layer compiles every daemon source twice (plain, then ASan+UBSan)
# before any VM runs: the cores are free.
JOBS=$(nproc)
# A VM that hangs fails its layer loudly after this long instead of
# hanging make check (MODALFS_LONG=1 runs longer variants).
if [ -n "${MODALFS_LONG:-}" ]; then
	VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-14400}
	POWERCUT_TIMEOUT=${POWERCUT_TIMEOUT:-7200}
else
	VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-2400}
	POWERCUT_TIMEOUT=${POWERCUT_TIMEOUT:-1500}
fi
KUNIT_TIMEOUT=${KUNIT_TIMEOUT:-600}
# Update these with the cases you add (tests/unit, tests/kunit).
UNIT_PLAN=${UNIT_PLAN:-136}
KUNIT_PLAN=${KUNIT_PLAN:-95}

LAYER=${1:-all}
case $LAYER in
unit|selftest|kunit|vm|fuzz|all) ;;
-h|--help) sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 [unit|selftest|kunit|vm|fuzz|all]" >&2; exit 2 ;;
esac

TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0
SUMMARY=()

# layer_result NAME PASSED FAILED SKIPPED [NOTE]
layer_result() {
	TOTAL_PASS=$((TOTAL_PASS + $2))
	TOTAL_FAIL=$((TOTAL_FAIL + $3))
	TOTAL_SKIP=$((TOTAL_SKIP + $4))
	SUMMARY+=("$(printf '%-6s %4d passed, %4d failed, %3d skipped%s' "$1" "$2" "$3" "$4" "${5:+  ($5)}")")
}

banner() {
	echo
	echo "==================== $* ===================="
}

elapsed() {
	echo "$(( $(date +%s) - $1 )) s"
}

mkdir -p "$OUT"
# Several people (and helpers) share this tree and its 2 cores: one
# run-checks at a time, as results and the state disk live in $OUT.
exec 7>"$OUT/.lock"
if ! flock -n 7; then
	echo "run-checks: waiting for another run-checks in this tree to finish"
	flock 7
fi

# The test tools are needed by the VM scripts; build them quietly.
if [ "$LAYER" = vm ] || [ "$LAYER" = selftest ] || [ "$LAYER" = all ]; then
	$MAKE -s --no-print-directory -C "$HERE/tools" || echo "run-checks: building tests/tools failed"
	for d in posix fsx stress; do
		[ -f "$HERE/$d/Makefile" ] || continue
		$MAKE -s --no-print-directory -C "$HERE/$d" || echo "run-checks: building tests/$d failed"
	done
fi

# unit_count PASSED|FAILED LOG: the summed cmocka counts in a log.
unit_count() {
	sed -nE "s/.*\\[  $1  \\] ([0-9]+) test\\(s\\).*/\\1/p" "$2" | awk '{s += $1} END {print s + 0}'
}

run_unit() {
	banner "unit tests (cmocka, then again under ASan+UBSan)"
	local t0 log=$OUT/unit.log alog=$OUT/unit-asan.log p f rc arc ap af
	t0=$(date +%s)
	if [ ! -f "$HERE/unit/Makefile" ]; then
		echo "run-checks: tests/unit/Makefile missing"
		layer_result unit 0 1 0 "tests/unit missing"
		return
	fi
	$MAKE -j"$JOBS" --no-print-directory -C "$HERE/unit" run 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(unit_count PASSED "$log")
	f=$(unit_count FAILED "$log")
	local note=""
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="$note; make -C tests/unit run failed with status $rc"
	elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="$note; no cmocka results found"
	elif [ $((p + f)) -ne "$UNIT_PLAN" ]; then
		f=$((f + 1))
		note="$note; $((p + f - 1)) cmocka tests ran, UNIT_PLAN is $UNIT_PLAN"
	fi
	# The same suites built with -fsanitize=address,undefined; a sanitizer
	# report aborts the test binary, which shows as a failed make.
	echo
	echo "----- unit tests under ASan+UBSan (make -C tests/unit run-asan)"
	$MAKE -j"$JOBS" --no-print-directory -C "$HERE/unit" run-asan 2>&1 | tee "$alog"
	arc=${PIPESTATUS[0]}
	ap=$(unit_count PASSED "$alog")
	af=$(unit_count FAILED "$alog")
	if [ "$arc" -ne 0 ] && [ "$af" -eq 0 ]; then
		af=1
		note="$note; run-asan failed with status $arc"
	elif [ "$ap" -eq 0 ] && [ "$af" -eq 0 ]; then
		af=1
		note="$note; no ASan cmocka results found"
	elif [ $((ap + af)) -ne "$UNIT_PLAN" ]; then
		af=$((af + 1))
		note="$note; $((ap + af - 1)) cmocka tests ran under ASan+UBSan, UNIT_PLAN is $UNIT_PLAN"
	fi
	note="$(elapsed "$t0")$note; $ap passed and $af failed of them under ASan+UBSan"
	layer_result unit "$((p + ap))" "$((f + af))" 0 "$note"
}

# The self-tests print "ok - ..."/"not ok - ..." lines and exit non-zero
# on any failure; a self-test that dies without a failing line, or prints
# none, counts one failure.
run_selftest() {
	banner "self-tests (they must see broken things fail)"
	local t0 t p f rc log p_all=0 f_all=0 note=""
	t0=$(date +%s)
	for t in lib-selftest.sh scenarios/selftest.sh vm/selftest.sh fault/selftest.sh; do
		log=$OUT/selftest-$(basename "$(dirname "$t")")-$(basename "$t" .sh).log
		echo
		echo "----- tests/$t"
		if [ ! -x "$HERE/$t" ]; then
			f_all=$((f_all + 1))
			note="$note; tests/$t missing"
			continue
		fi
		"$HERE/$t" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		p=$(grep -c '^ok ' "$log")
		f=$(grep -c '^not ok ' "$log")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] || [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
			f=$((f + 1))
			note="$note; tests/$t exited $rc"
		fi
		p_all=$((p_all + p)) f_all=$((f_all + f))
	done
	layer_result self "$p_all" "$f_all" 0 "$(elapsed "$t0")$note"
}

run_kunit() {
	banner "KUnit (in a VM)"
	local t0 dir=$OUT/kunit rc p=0 f=0 s sk=0 n=0 line note
	t0=$(date +%s)
	rm -rf "$dir"
	"$VM" "${VM_OPTS[@]}" --timeout "$KUNIT_TIMEOUT" --log "$dir.console" --out "$dir" -- tests/vm/kunit.sh
	rc=$?
	note="$(elapsed "$t0")"
	line=$(grep -E 'Ran [0-9]+ tests' "$dir/kunit.txt" 2>/dev/null | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -nE 's/.*passed: ([0-9]+).*/\1/p')
		for k in failed crashed errors; do
			s=$(echo "$line" | sed -nE "s/.*$k: ([0-9]+).*/\\1/p")
			f=$((f + ${s:-0}))
		done
		p=${p:-0}
		sk=$(echo "$line" | sed -nE 's/.*skipped: ([0-9]+).*/\1/p')
		sk=${sk:-0}
		n=$(echo "$line" | sed -nE 's/.*Ran ([0-9]+) tests.*/\1/p')
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="$note; VM run failed with status $rc"
	elif [ -z "$line" ] || [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		f=1
		note="$note; no KUnit results"
	elif [ "${n:-0}" -ne "$KUNIT_PLAN" ]; then
		f=$((f + 1))
		note="$note; $n KUnit tests ran, KUNIT_PLAN is $KUNIT_PLAN"
	fi
	layer_result kunit "$p" "$f" "$sk" "$note"
}

# vm_boot N STATE SCRIPT...: one VM boot running the scripts; adds to the
# VM_P / VM_F counters and VM_NOTES.
vm_boot() {
	local n=$1 state=$2 dir=$OUT/vm$1 rc p f k s st extra=0
	shift 2
	rm -rf "$dir"
	echo
	echo "----- VM boot $n: $*"
	"$VM" "${VM_OPTS[@]}" --state "$state" --timeout "$VM_BOOT_TIMEOUT" --log "$dir.console" --out "$dir" \
		-- tests/vm/run-tests.sh "$@"
	rc=$?
	p=$(grep '^ok ' "$dir/results.tap" 2>/dev/null | grep -vc ' # SKIP')
	k=$(grep '^ok ' "$dir/results.tap" 2>/dev/null | grep -c ' # SKIP')
	f=$(grep -c '^not ok ' "$dir/results.tap" 2>/dev/null)
	p=${p:-0} f=${f:-0} k=${k:-0}
	# A script that failed without a failing check (it died, or never
	# ran because the VM went down) still counts once.
	for s in "$@"; do
		s=$(basename "$s")
		st=$(awk -v s="$s" '$1 == s {print $2}' "$dir/scripts.txt" 2>/dev/null | tail -n 1)
		if [ -z "$st" ]; then
			VM_NOTES+=" $s did not finish;"
			extra=$((extra + 1))
		elif [ "$st" -ne 0 ] && ! grep -q "^not ok [0-9]* - ${s%.sh}:" "$dir/results.tap" 2>/dev/null; then
			VM_NOTES+=" $s exited $st;"
			extra=$((extra + 1))
		fi
	done
	# The harness failing on its own (kernel problem, timeout) with every
	# script accounted for is one more failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$extra" -eq 0 ]; then
		VM_NOTES+=" boot $n: vm.sh status $rc (kernel problem or timeout, see $dir.console);"
		extra=1
	fi
	VM_P=$((VM_P + p))
	VM_F=$((VM_F + f + extra))
	VM_S=$((VM_S + k))
}

# The power-cut rounds (tests/fault/powercut.sh): one boot per round on
# their own state disk, QEMU killed during the workload; each check counts.
run_powercut() {
	local dir=$OUT/powercut rc p f t1
	[ "${FAULT_POWERCUT_ROUNDS:-1}" -gt 0 ] || return 0
	t1=$(date +%s)
	echo
	echo "----- power cuts (tests/fault/powercut.sh)"
	timeout -k 10 "$POWERCUT_TIMEOUT" "$HERE/fault/powercut.sh" --out "$dir"
	rc=$?
	p=$(grep -c '^ok ' "$dir/results.tap" 2>/dev/null)
	f=$(grep -c '^not ok ' "$dir/results.tap" 2>/dev/null)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && VM_NOTES+=" power cuts: TIMEOUT after ${POWERCUT_TIMEOUT}s;" \
			|| VM_NOTES+=" power cuts: powercut.sh status $rc;"
	fi
	VM_NOTES+=" power cuts $p/$((p + f)) in $(elapsed "$t1");"
	VM_P=$((VM_P + p))
	VM_F=$((VM_F + f))
}

run_vm() {
	banner "VM tests"
	local t0 state=$BUILD/vm/check-state.img first=() second=() t
	t0=$(date +%s)
	VM_P=0 VM_F=0 VM_S=0 VM_NOTES=
	for t in "$HERE"/vm/tests/*.sh; do
		[ -e "$t" ] || continue
		if [ -n "${VM_SCRIPTS:-}" ]; then
			case " $VM_SCRIPTS " in *" $(basename "$t") "*) ;; *) continue ;; esac
		fi
		case $(basename "$t") in
		*reboot*) second+=("tests/vm/tests/$(basename "$t")") ;;
		*) first+=("tests/vm/tests/$(basename "$t")") ;;
		esac
	done
	if [ ${#first[@]} -eq 0 ] && [ ${#second[@]} -eq 0 ]; then
		layer_result vm 0 1 0 "no scripts in tests/vm/tests"
		return
	fi
	# A fresh state disk: the first boot starts from nothing, the second
	# must find what the first left.
	rm -f "$state"
	[ ${#first[@]} -gt 0 ] && vm_boot 1 "$state" "${first[@]}"
	[ ${#second[@]} -gt 0 ] && vm_boot 2 "$state" "${second[@]}"
	run_powercut
	layer_result vm "$VM_P" "$VM_F" "$VM_S" "$(elapsed "$t0")${VM_NOTES:+;$VM_NOTES}"
}

run_fuzz() {
	banner "fuzzing (libFuzzer, tests/fuzz)"
	local t0 rc
	t0=$(date +%s)
	$MAKE --no-print-directory -C "$HERE/fuzz" run 2>&1 | tee "$OUT/fuzz.log" | grep -v '^#[0-9]'
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		layer_result fuzz 1 0 0 "$(elapsed "$t0")"
	else
		layer_result fuzz 0 1 0 "$(elapsed "$t0"); make -C tests/fuzz run failed with status $rc, see $OUT/fuzz.log"
	fi
}

T0=$(date +%s)
case $LAYER in
unit) run_unit ;;
selftest) run_selftest ;;
kunit) run_kunit ;;
vm) run_vm ;;
fuzz) run_fuzz ;;
all) run_unit; run_selftest; run_kunit; run_vm; [ -n "${MODALFS_LONG:-}" ] && run_fuzz ;;
esac

banner "summary ($(elapsed "$T0"))"
for l in "${SUMMARY[@]}"; do
	echo "$l"
done
echo "$TOTAL_SKIP skipped"
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
