#!/bin/bash
# Self-test of the VM harness (make check's selftest layer; 5 boots):
#   tests/vm/selftest.sh
# Proves that vm.sh passes exit statuses and argument quoting through,
# fails on a kernel crash and on timeout, and keeps the state disk.
HERE=$(cd "$(dirname "$0")" && pwd)
VM=$HERE/vm.sh
TMP=$(mktemp -d /tmp/vm-selftest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0

t() {	# DESC EXPECTED-STATUS VM-ARGS...
	local desc=$1 want=$2 rc
	shift 2
	"$VM" "$@" > "$TMP/out" 2>&1
	rc=$?
	if [ "$want" = nonzero ] && [ $rc -ne 0 ] || [ "$rc" = "$want" ]; then
		echo "ok - $desc (status $rc)"
	else
		echo "not ok - $desc (status $rc, wanted $want)"
		tail -n 20 "$TMP/out" | sed 's/^/    | /'
		fails=$((fails + 1))
	fi
}

# Boots are the cost here (10-20 s each under TCG), so properties share
# one where a single status proves them all: 3 comes back from the first
# state-disk boot only if "a b" arrived as one argument and both writes
# worked; the second shows that a succeeding command gives 0 and that
# writes outside the state disk vanish (on the host, and in the next boot).
t "a kernel crash fails the run" nonzero -- 'echo c > /proc/sysrq-trigger; sleep 5'
t "a kernel stack dump on the console fails the run" nonzero -- 'echo l > /proc/sysrq-trigger; sleep 1'
t "a hung command times out with 124" 124 --timeout 25 -- 'sleep 600'
t "state disk: write; the command's exit status comes back, its arguments quoted" 3 --state "$TMP/state.img" -- \
	sh -c 'echo persisted > /var/lib/modalfs/x && touch /etc/vm-selftest && test -e /etc/vm-selftest && test "$1" = "a b" && exit 3; exit 1' sh "a b"
[ -e /etc/vm-selftest ] && { echo "not ok - guest write leaked to the host"; fails=$((fails + 1)); }
t "state disk: read back in the next boot; writes outside it vanish" 0 --state "$TMP/state.img" -- \
	'grep -qx persisted /var/lib/modalfs/x && ! test -e /etc/vm-selftest'

[ $fails -eq 0 ] && echo "vm selftest: all passed" || echo "vm selftest: $fails failed"
[ $fails -eq 0 ]
