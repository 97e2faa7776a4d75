#!/bin/bash
# Issue 5, durability 2: power cuts. Runs on the host:
#
#   tests/fault/powercut.sh [--rounds N] [--out DIR]
#
# Each round is one VM boot on the same state image: the guest
# (tests/fault/powercut-guest.sh) checks the store, verifies every
# operation acknowledged before the earlier power cuts, then runs the
# fsync-heavy workload with its acknowledged-op log on a second virtio disk
# (raw, written with O_SYNC: a completed write is in the host file, which
# survives QEMU). A random 0.3-3 s after the workload starts, this script
# kills QEMU with SIGKILL -- the power cut. A last boot only verifies and
# shuts down cleanly.
#
# Rounds: --rounds, else FAULT_POWERCUT_ROUNDS, else 10 (30 with
# MODALFS_LONG=1). FAULT_SEED picks the random moments and data.
# MODALFS_VM_ARGS: extra vm.sh options (the debug kernel's).
# Prints one TAP line per check ("ok ..."/"not ok ...") and writes them to
# DIR/results.tap (default $BUILD/fault/powercut); consoles go there too.
# The last line is "powercut: N passed, N failed"; exit 0 iff none failed.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
export BUILD
VM=$REPO/tests/vm/vm.sh
read -r -a VM_OPTS <<< "${MODALFS_VM_ARGS:-}"
PY=/usr/bin/python3
OUT=$BUILD/fault/powercut
if [ -n "${MODALFS_LONG:-}" ]; then
	ROUNDS=${FAULT_POWERCUT_ROUNDS:-30}
else
	ROUNDS=${FAULT_POWERCUT_ROUNDS:-10}
fi
BOOT_TIMEOUT=${FAULT_POWERCUT_TIMEOUT:-300}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "powercut.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

FAULT_SEED=${FAULT_SEED:-$RANDOM}
export FAULT_SEED
RANDOM=$FAULT_SEED

# The logs and images must be visible in the guest at the same path: under
# the build directory, which the guest sees read-only over 9p.
rm -rf "$OUT"
mkdir -p "$OUT" || exit 2
STATE=$OUT/state.img
TAP=$OUT/results.tap
: > "$TAP"
N=0 P=0 F=0

result() {	# ok|"not ok" DESC
	N=$((N + 1))
	[ "$1" = ok ] && P=$((P + 1)) || F=$((F + 1))
	echo "$1 $N - powercut: $2" | tee -a "$TAP"
}

# Guest results of one boot, renumbered into ours.
take_guest_results() {
	local f=$1 line st desc
	[ -f "$f" ] || return 0
	while IFS= read -r line; do
		case $line in
		"ok "*) st=ok ;;
		"not ok "*) st="not ok" ;;
		*) continue ;;
		esac
		desc=${line#*- powercut: }
		result "$st" "$desc"
	done < "$f"
}

echo "powercut: $ROUNDS rounds, seed $FAULT_SEED, output in $OUT"
t0=$(date +%s)
for ((k = 1; k <= ROUNDS + 1; k++)); do
	last=
	[ $k -gt "$ROUNDS" ] && last=last
	con=$OUT/console$k.txt
	pidf=$OUT/qemu$k.pid
	gout=$OUT/boot$k
	rm -f "$pidf"
	disk=()
	if [ -z "$last" ]; then
		truncate -s 8M "$OUT/log$k.img"
		disk=(--disk "$OUT/log$k.img")
	fi
	tb=$(date +%s)
	"$VM" "${VM_OPTS[@]}" --state "$STATE" "${disk[@]}" --pidfile "$pidf" --expect-kill \
		--timeout "$BOOT_TIMEOUT" --log "$con.full" --out "$gout" \
		-- bash tests/fault/powercut-guest.sh "$k" "$OUT" $last > "$con" 2>&1 &
	vpid=$!
	cut=
	if [ -z "$last" ]; then
		# Wait for the workload to start, then cut the power at a random
		# moment of it.
		while kill -0 "$vpid" 2>/dev/null; do
			if grep -q POWERCUT-WORKLOAD-RUNNING "$con" 2>/dev/null; then
				ms=$((300 + RANDOM % 2700))
				sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
				if kill -KILL "$(cat "$pidf")" 2>/dev/null; then
					cut="after $ms ms"
				fi
				break
			fi
			sleep 0.2
		done
	fi
	wait "$vpid"
	vrc=$?
	take_guest_results "$gout/results.tap"
	if grep -q "the kernel reported a problem" "$con"; then
		grep '^vm.sh:' "$con" | head -n 8 | sed 's/^/    | /'
		result "not ok" "boot $k: the kernel reported no problem"
	fi
	if [ -z "$last" ]; then
		if [ -n "$cut" ] && [ "$vrc" -eq 0 ]; then
			acked=$("$PY" "$HERE/workload.py" count --sector-log --log "$OUT/log$k.img" 2>&1)
			result ok "round $k: power cut $cut into the workload ($acked ops acknowledged)"
		else
			tail -n 15 "$con" | sed 's/^/    | /'
			result "not ok" "round $k: power cut during the workload (vm.sh status $vrc, ${cut:-never cut: the workload did not start or the VM ended first})"
		fi
	else
		[ "$vrc" -eq 0 ] && st=ok || st="not ok"
		[ "$vrc" -eq 0 ] || tail -n 15 "$con" | sed 's/^/    | /'
		result "$st" "boot $k: the last boot verifies and shuts down cleanly (vm.sh status $vrc)"
	fi
	echo "    | boot $k took $(( $(date +%s) - tb )) s"
done
echo "powercut: $ROUNDS rounds in $(( $(date +%s) - t0 )) s"
echo "powercut: $P passed, $F failed"
[ "$F" -eq 0 ]
