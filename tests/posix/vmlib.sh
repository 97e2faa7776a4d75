# shellcheck shell=bash
# Helpers shared by the posix-tests VM scripts (tests/vm/tests/8?-*.sh).
# Source after tests/lib.sh.

MFS_POSIX=${MFS_POSIX:-$MODALFS_REPO/tests/posix/mfs-posix}
MFS_FSX=${MFS_FSX:-$MODALFS_REPO/tests/fsx/mfs-fsx}
MFS_STRESS=${MFS_STRESS:-$MODALFS_REPO/tests/stress/mfs-stress}
MODALFS_LONG=${MODALFS_LONG:-}

# The programs are built on the host by tests/run-checks.sh; build them
# here when missing (the guest's / is a writable overlay).
posix_build() {
	local d
	for d in posix fsx stress; do
		make -s --no-print-directory -C "$MODALFS_REPO/tests/$d" >/dev/null || return 1
	done
	[ -x "$MFS_POSIX" ] && [ -x "$MFS_FSX" ] && [ -x "$MFS_STRESS" ]
}

# mfs_up VOL MNT...: insmod, start the daemon, create VOL, mount it at
# every MNT. Fails (and records why) at the first step that does not work.
mfs_up() {
	local vol=$1 m
	shift
	run_check "insmod modalfs.ko" load_module || return 1
	run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || return 1
	check "modalfsctl persisted $vol" "$MODALFSCTL" persisted "$vol" || return 1
	for m in "$@"; do
		mkdir -p "$m"
		check "mount -t modalfs $vol:/ $m" mount -t modalfs "$vol:/" "$m" || return 1
	done
}

# Copies a log where tests/run-checks.sh keeps the VM's output files.
keep_log() {
	[ -n "$MODALFS_TEST_OUT" ] && mkdir -p "$MODALFS_TEST_OUT" && cp "$1" "$MODALFS_TEST_OUT/" 2>/dev/null
	return 0
}

# posix_run LABEL DIR [ARGS...]: runs mfs-posix on DIR and records one
# check per group ("mfs-posix[LABEL] rename: 85 checks"), showing every
# failing and skipped check line; a group whose every check skipped is
# recorded as a skip, not a pass. Checks listed in tests/posix/xfail-LABEL.txt (their
# description, one a line) are expected to fail there: they are shown as
# XFAIL and do not fail the group; one that passes is reported as XPASS.
posix_run() {
	local label=$1 dir=$2 log rc xf
	shift 2
	# written straight to the run's output share, so it can be watched live
	if [ -n "$MODALFS_TEST_OUT" ] && mkdir -p "$MODALFS_TEST_OUT"; then
		log=$MODALFS_TEST_OUT/mfs-posix-$label.log
	else
		log=$TEST_TMP/mfs-posix-$label.log
	fi
	xf=$MODALFS_REPO/tests/posix/xfail-$label.txt
	[ -f "$xf" ] || xf=/dev/null
	"$MFS_POSIX" "$dir" "$@" > "$log" 2>&1
	rc=$?
	if ! grep -q '^1\.\.[0-9]' "$log"; then
		tail -n 30 "$log" | sed 's/^/    | /'
		fail "mfs-posix[$label] ran to the end (exit $rc)"
		return 1
	fi
	awk -v xf="$xf" -v label="$label" '
		BEGIN { while ((getline l < xf) > 0) if (l != "" && l !~ /^#/) xfail[l] = 1 }
		function desc(s) {	# the description of an ok/not ok line
			sub(/^(not )?ok [0-9]+ - /, "", s); sub(/ \((got|condition) .*\)$/, "", s)
			return s
		}
		function flush() {
			if (g == "") return
			printf "%s %d %d %d %d\n", g, n[g], f[g], x[g], s[g] > "/dev/stderr"
		}
		/^# group / { flush(); g = $3; order[++ng] = g; next }
		/^ok [0-9]+ # SKIP/ { n[g]++; s[g]++; printf "    | SKIP %s\n", $0; next }
		/^ok [0-9]+ - / {
			n[g]++
			d = desc($0)
			if (d in xfail) printf "    | XPASS (now passing, remove from xfail-%s.txt): %s\n", label, d
			next
		}
		/^not ok [0-9]+ - / {
			n[g]++
			d = desc($0)
			if (d in xfail) { x[g]++; printf "    | XFAIL %s\n", $0 }
			else { f[g]++; printf "    | %s\n", $0 }
			next
		}
		END { flush() }
	' "$log" 2> "$TEST_TMP/groups.$label"
	local g n f x s note
	while read -r g n f x s; do
		note="$n checks"
		[ "$s" -gt 0 ] && note="$note, $s skipped"
		[ "$x" -gt 0 ] && note="$note, $x expected failures"
		if [ "$f" -gt 0 ] || [ "$n" -eq 0 ]; then
			fail "mfs-posix[$label] $g: $f of $note failed"
		elif [ "$s" -eq "$n" ]; then
			# Nothing in it ran: a skip, never a pass.
			skip "mfs-posix[$label] $g: all $n checks skipped"
		else
			pass "mfs-posix[$label] $g: $note"
		fi
	done < "$TEST_TMP/groups.$label"
	grep '^# [0-9]* checks' "$log" | sed 's/^/    | /'
	echo "    | seconds per group: $(awk '/^# time / { printf "%s %s, ", $3, $4 }' "$log")"
}

# The modalfsd --check step: stop the daemon first (it holds the store).
daemon_check_store() {
	local out rc
	if ! "$MODALFSD" --help 2>&1 | grep -q -- '--check'; then
		echo "    | NOTE: modalfsd has no --check yet; store check skipped"
		return 0
	fi
	out=$("$MODALFSD" --check --state-dir "$TEST_DAEMON_DIR" 2>&1)
	rc=$?
	printf '%s\n' "$out" | tail -n 20 | sed 's/^/    | /'
	expect_eq "modalfsd --check: store invariants hold (exit 0)" 0 "$rc"
}
