# shellcheck shell=bash
# Helpers for modalfs test scripts. Source it from bash:
#
#   . "$(dirname "$0")/../../lib.sh"
#
# The same scripts run inside the QEMU test VM (tests/vm/vm.sh) and on a
# real host with the module built; everything environment-specific is a
# variable here, overridable from the environment.

# --- locations -----------------------------------------------------------
MODALFS_REPO=${MODALFS_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
MODALFS_KO=${MODALFS_KO:-$MODALFS_REPO/kmod/modalfs.ko}
MODALFSD=${MODALFSD:-$MODALFS_REPO/userd/modalfsd}
MODALFSCTL=${MODALFSCTL:-$MODALFS_REPO/tools/modalfsctl}
MFS_TOOLS=${MFS_TOOLS:-$MODALFS_REPO/tests/tools}
# Python with flufl.lock; the pyenv python on the host PATH lacks it.
PYTHON=${PYTHON:-/usr/bin/python3}
# Persistent storage for tests: the VM's state disk when there is one.
# Both the daemon's store and the tests' own records (checksums kept
# across reboots) live below it, in separate directories.
TEST_STATE_ROOT=${TEST_STATE_ROOT:-${MODALFS_STATE_DISK:-/var/tmp/modalfs-test}}
TEST_DAEMON_DIR=${TEST_DAEMON_DIR:-$TEST_STATE_ROOT/modalfsd}
TEST_RECORDS=${TEST_RECORDS:-$TEST_STATE_ROOT/testdata}
# Scratch space that vanishes (tmpfs in the VM).
TEST_TMP=${TEST_TMP:-$(mktemp -d /tmp/modalfs-test.XXXXXX)}
# Where results are also written as TAP lines for tests/run-checks.sh.
MODALFS_TEST_OUT=${MODALFS_TEST_OUT:-}

TEST_NAME=${TEST_NAME:-$(basename "${0%.sh}")}
MODALFSD_PID=
MODALFSD_LOG=
_T_PASS=0
_T_FAIL=0
_T_SKIP=0
_T_N=0
_T_PLAN=

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	_C_GREEN=$'\e[32m' _C_RED=$'\e[31m' _C_YELLOW=$'\e[33m' _C_BOLD=$'\e[1m' _C_OFF=$'\e[0m'
else
	_C_GREEN= _C_RED= _C_YELLOW= _C_BOLD= _C_OFF=
fi

# --- reporting -----------------------------------------------------------
step() {
	echo "${_C_BOLD}--- [$TEST_NAME] $*${_C_OFF}"
}

# _record ok|"not ok"|skip DESC: one numbered TAP line, on stdout and in
# $MODALFS_TEST_OUT/results.tap. A skip is TAP's "ok N - DESC # SKIP":
# run-checks.sh counts it as a skip, never as a pass.
_record() {
	_T_N=$((_T_N + 1))
	local line
	case $1 in
	ok)
		line="ok $_T_N - $TEST_NAME: $2"
		_T_PASS=$((_T_PASS + 1))
		echo "${_C_GREEN}${line}${_C_OFF}" ;;
	skip)
		line="ok $_T_N - $TEST_NAME: # SKIP $2"
		_T_SKIP=$((_T_SKIP + 1))
		echo "${_C_YELLOW}${line}${_C_OFF}" ;;
	*)
		line="not ok $_T_N - $TEST_NAME: $2"
		_T_FAIL=$((_T_FAIL + 1))
		echo "${_C_RED}${line}${_C_OFF}" ;;
	esac
	if [ -n "$MODALFS_TEST_OUT" ]; then
		mkdir -p "$MODALFS_TEST_OUT"
		echo "$line" >> "$MODALFS_TEST_OUT/results.tap"
	fi
}

pass() { _record ok "$*"; }
fail() { _record "not ok" "$*"; }
# skip REASON: a check that could not run here. It counts towards the plan
# but is not a pass, and a script whose checks all skipped fails.
skip() { _record skip "$*"; }

# skip_script REASON: the whole script tests something this kernel lacks
# (kmemleak off the debug kernel): one skip, and the script ends with 0.
# Not for checks that should have run here; skip those one by one.
skip_script() {
	plan 1
	skip "$*"
	_T_FINISHED=1
	cleanup_test
	echo "${_C_YELLOW}${_C_BOLD}=== $TEST_NAME: SKIPPED ($*)${_C_OFF}"
	exit 0
}

# plan N: the exact number of checks (pass, fail or skip) this script
# makes when it runs to the end. finish fails a script without a plan or
# whose count differs, so a check that silently vanished (a checker that
# died, a loop that ran short) turns the verdict red.
plan() {
	case $1 in
	''|*[!0-9]*) echo "plan: '$1' is not a number" >&2; _T_PLAN=bad ;;
	*) _T_PLAN=$1 ;;
	esac
}

# check_status DESC STATUS: a recorded exit status must be 0 (a checker
# whose traceback ends it early).
check_status() {
	if [ "$2" = 0 ]; then
		pass "$1"
		return 0
	fi
	fail "$1 (exit status ${2:-missing})"
	return 1
}

# check DESC CMD...: CMD must succeed; its output is shown on failure.
check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$desc"
	else
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    | /'
		fail "$desc (exit $rc: $*)"
	fi
	return $rc
}

# run_check DESC CMD...: like check, but CMD runs in this shell with its
# output shown, for helpers that change this shell's state (start_daemon).
run_check() {
	local desc=$1 rc
	shift
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$desc"
	else
		fail "$desc (exit $rc: $*)"
	fi
	return $rc
}

# check_fails DESC CMD...: CMD must fail.
check_fails() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		pass "$desc"
		return 0
	fi
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    | /'
	fail "$desc (unexpectedly succeeded: $*)"
	return 1
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
		return 0
	fi
	echo "    | expected: $2"
	echo "    | actual:   $3"
	fail "$1"
	return 1
}

# expect_match DESC REGEX TEXT  (grep -E on the text)
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		pass "$1"
		return 0
	fi
	echo "    | no line matches /$2/ in:"
	printf '%s\n' "$3" | sed 's/^/    | /'
	fail "$1"
	return 1
}

# A fatal precondition failed: record it and end the script.
bail() {
	fail "$*"
	finish
}

# finish: check the plan, print the verdict and exit non-zero if
# anything failed, the plan was missing or not met, or every check skipped.
finish() {
	_T_FINISHED=1
	cleanup_test
	if [ -z "$_T_PLAN" ]; then
		fail "plan: the script declares how many checks it makes (plan N)"
	elif [ "$_T_PLAN" = bad ] || [ "$_T_N" -ne "$_T_PLAN" ]; then
		fail "plan: $_T_N checks were made, $_T_PLAN planned"
	fi
	# Every check skipped: nothing was shown, so it is not a pass.
	[ "$_T_PASS" -eq 0 ] && [ "$_T_FAIL" -eq 0 ] &&
		fail "at least one check ran (all $_T_SKIP skipped)"
	local total=$((_T_PASS + _T_FAIL)) skips=
	[ "$_T_SKIP" -gt 0 ] && skips=", $_T_SKIP skipped"
	if [ "$_T_FAIL" -eq 0 ] && [ "$_T_PASS" -gt 0 ]; then
		echo "${_C_GREEN}${_C_BOLD}=== $TEST_NAME: PASS ($_T_PASS/$total checks passed$skips)${_C_OFF}"
		exit 0
	fi
	echo "${_C_RED}${_C_BOLD}=== $TEST_NAME: FAIL ($_T_FAIL of $total checks failed$skips)${_C_OFF}"
	exit 1
}

# ls_lacks DESC DIR ERE: DIR lists (and is not empty) and no entry name
# matches ERE. A plain `ls DIR | grep` comparison would also pass on a
# directory that is missing.
ls_lacks() {
	local out
	if ! out=$(ls -A "$2" 2>&1) || [ -z "$out" ]; then
		echo "    | ls -A $2: ${out:-empty}"
		fail "$1 (cannot list $2)"
		return 1
	fi
	if printf '%s\n' "$out" | grep -Eq -- "$3"; then
		printf '%s\n' "$out" | grep -E -- "$3" | sed 's/^/    | /'
		fail "$1"
		return 1
	fi
	pass "$1"
}

# --- environment ---------------------------------------------------------
require_root() {
	[ "$(id -u)" -eq 0 ] || { echo "$TEST_NAME: must run as root" >&2; bail "running as root"; }
}

require_file() {
	[ -e "$1" ] || bail "$1 exists (build it first: make)"
}

module_loaded() {
	[ -d /sys/module/modalfs ]
}

load_module() {
	if module_loaded; then
		return 0
	fi
	[ -e "$MODALFS_KO" ] || { echo "    | $MODALFS_KO missing (make module)"; return 1; }
	insmod "$MODALFS_KO"
}

unload_module() {
	module_loaded || return 0
	rmmod modalfs
}

# Daemon --------------------------------------------------------------------
# start_daemon [STATE_DIR [ARGS...]]: start modalfsd in the background and
# wait up to 30 s for it to say it registered with the kernel. The daemon
# is a background job of the calling shell: wait on specific pids, never
# a bare `wait`, which would wait for the daemon too.
start_daemon() {
	local dir=${1:-$TEST_DAEMON_DIR}
	[ $# -gt 0 ] && shift
	[ -x "$MODALFSD" ] || { echo "    | $MODALFSD missing (make userd)"; return 1; }
	mkdir -p "$dir"
	MODALFSD_LOG=$TEST_TMP/modalfsd.$(date +%s%N).log
	"$MODALFSD" --state-dir "$dir" "$@" 2>"$MODALFSD_LOG" &
	MODALFSD_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		if grep -q "registered with the kernel" "$MODALFSD_LOG" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$MODALFSD_PID" 2>/dev/null; then
			wait "$MODALFSD_PID"
			echo "    | modalfsd exited with status $? before registering:"
			sed 's/^/    | /' "$MODALFSD_LOG"
			MODALFSD_PID=
			return 1
		fi
		sleep 0.1
	done
	echo "    | modalfsd did not register within 30 s; its log:"
	sed 's/^/    | /' "$MODALFSD_LOG"
	return 1
}

# stop_daemon: SIGTERM and wait; fails unless the daemon exits 0.
stop_daemon() {
	[ -n "$MODALFSD_PID" ] || return 0
	local pid=$MODALFSD_PID rc i
	MODALFSD_PID=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "    | modalfsd ignored SIGTERM for 30 s; killing it"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "    | modalfsd exited with status $rc; its log:"
		sed 's/^/    | /' "$MODALFSD_LOG"
	fi
	return $rc
}

# check_stop_and_unload: the end of every test's teardown, as checks:
# the daemon exits 0 on SIGTERM, rmmod works, and nothing is left behind.
check_stop_and_unload() {
	run_check "modalfsd exits 0 on SIGTERM" stop_daemon
	check "rmmod modalfs" rmmod modalfs
	check_fails "module is gone" module_loaded
	check_fails "modalfs is gone from /proc/filesystems" grep -qw modalfs /proc/filesystems
}

show_daemon_log() {
	[ -n "$MODALFSD_LOG" ] && [ -s "$MODALFSD_LOG" ] && sed 's/^/    | modalfsd: /' "$MODALFSD_LOG"
}

# Mount helpers -------------------------------------------------------------
# try_mount SOURCE TARGET: prints OK or the errno name (ENOENT, ...).
try_mount() {
	"$MFS_TOOLS/mfs-mount" "$@"
}

is_mounted() {
	awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts
}

# The hostile daemon (tests/tools/hostile-daemon.py), for the scripts that
# make the kernel face a daemon that lies (60, 62). hostile_init sets MNT,
# FIFO, LOG, ERRNO and the cleanup; hostile_start loads the module and
# registers the daemon; wait_for REGEX [TENTHS] waits (5 s by default)
# until the daemon's log matches.
hostile_init() {
	MNT=$TEST_TMP/mnt
	FIFO=$TEST_TMP/hostile.fifo
	LOG=$TEST_TMP/hostile.log
	ERRNO=$MFS_TOOLS/mfs-errno
	HOSTILE_PID=
	require_root
	require_file "$ERRNO"
	mkdir -p "$MNT"
	TEST_CLEANUP=hostile_cleanup
}

hostile_cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	[ -n "$HOSTILE_PID" ] && kill "$HOSTILE_PID" 2>/dev/null
}

wait_for() {
	wait_until "${2:-50}" grep -Eq -- "$1" "$LOG"
}

hostile_start() {
	run_check "insmod modalfs.ko" load_module || finish
	"$PYTHON" "$MFS_TOOLS/hostile-daemon.py" --fifo "$FIFO" > "$LOG" 2>&1 &
	HOSTILE_PID=$!
	check "the hostile daemon registered" wait_for registered 100 || finish
}

# Kernel counters (debugfs modalfs/stats) --------------------------------
MODALFS_STATS=${MODALFS_STATS:-/sys/kernel/debug/modalfs/stats}
# stats_count KEY [FILE]: the first number on the line KEY of the counters
# (an op's requests sent, "total", "avoided", "async_queued", ...), 0 if
# there is no such line.
stats_count() {
	awk -v k="$1" '$1 == k { n = $2 } END { print n + 0 }' "${2:-$MODALFS_STATS}"
}
# stats_snap; ...; stats_since KEY: how much KEY grew since the snap.
stats_snap() {
	cp "$MODALFS_STATS" "$TEST_TMP/stats.snap"
}
stats_since() {
	echo $(($(stats_count "$1") - $(stats_count "$1" "$TEST_TMP/stats.snap")))
}

# cached_pages FILE: how many of FILE's pages are in the page cache.
cached_pages() {
	fincore -nb -o PAGES "$1" | tr -d ' '
}

# Kernel log ----------------------------------------------------------------
# dmesg_mark; ...; dmesg_since: the kernel log lines logged after the mark.
dmesg_mark() {
	_DMESG_MARK=$(dmesg | wc -l)
}

dmesg_since() {
	dmesg | tail -n +$((${_DMESG_MARK:-0} + 1))
}

KERNEL_BAD_RE='(cut here|WARNING:|BUG:|Oops|kernel BUG at|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked for more than|soft lockup|hard LOCKUP|Call Trace:|UBSAN:|KASAN:|list_(add|del) corruption|refcount_t: )'

# check_dmesg_clean: nothing bad logged since the script started.
check_dmesg_clean() {
	local bad
	bad=$(dmesg | tail -n +$((${_DMESG_START:-0} + 1)) | grep -E "$KERNEL_BAD_RE")
	if [ -z "$bad" ]; then
		pass "kernel log has no oops/WARN/BUG/lockdep/hung-task reports"
	else
		printf '%s\n' "$bad" | head -n 20 | sed 's/^/    | /'
		fail "kernel log has no oops/WARN/BUG/lockdep/hung-task reports"
	fi
}

# wait_until TENTHS CMD [ARGS...]: runs CMD every 0.1 s until it
# succeeds, at most TENTHS times; fails if it never did.
wait_until() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# finish_clean: the end of a test that ran modalfsd (4 checks): it exits
# 0 on SIGTERM, its store passes --check, the module unloads, and dmesg
# shows no kernel problem; then finish.
finish_clean() {
	run_check "modalfsd exits 0 on SIGTERM" stop_daemon
	check "modalfsd --check is clean" "$MODALFSD" --check --state-dir "$TEST_DAEMON_DIR"
	check "rmmod modalfs" rmmod modalfs
	check_dmesg_clean
	finish
}

# Data ----------------------------------------------------------------------
# manifest DIR: one line per entry: type, permissions, size (files), path,
# sha256 (files), sorted, so two trees compare with a plain diff.
manifest() {
	(cd "$1" && find . -mindepth 1 -printf '%y %m %s %p\n' | sort -k4 |
		while read -r type mode size path; do
			case $type in
			f) echo "f $mode $size $path $(sha256sum < "$path" | cut -d' ' -f1)" ;;
			d) echo "d $mode - $path" ;;
			*) echo "$type $mode - $path" ;;
			esac
		done)
}

drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

# --- cleanup ---------------------------------------------------------------
# Scripts may set TEST_CLEANUP to a function name run before the verdict.
TEST_CLEANUP=
cleanup_test() {
	[ -n "$TEST_CLEANUP" ] && "$TEST_CLEANUP"
	TEST_CLEANUP=
	if [ -n "$MODALFSD_PID" ]; then
		kill -TERM "$MODALFSD_PID" 2>/dev/null
		wait "$MODALFSD_PID" 2>/dev/null
		MODALFSD_PID=
	fi
	case $TEST_TMP in /tmp/modalfs-test.*) rm -rf "$TEST_TMP" ;; esac
}

# A script that exits without reaching finish (a stray exit, set -e) has
# not proved its plan: that is a failure too.
_T_FINISHED=
_lib_exit() {
	local rc=$?
	[ -n "$_T_FINISHED" ] && return
	fail "the script reaches finish (it exited with status $rc before)"
	finish
}
trap _lib_exit EXIT

_DMESG_START=$(dmesg 2>/dev/null | wc -l)
mkdir -p "$TEST_TMP"
