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
# The state disk has a volatile write cache (FAULT_POWERCUT_DISK=cutdisk,
# the default): it is served by nbdkit with tests/fault/cutdisk.py, where
# a write reaches the image only once a later flush completed. At the cut
# nbdkit dies with QEMU, and cutdisk.py settle decides what the cut left
# of the writes no flush covered: none of them on odd rounds ("drop"), a
# random subset, in any order, on even rounds ("subset": reordered
# writes). The guest writes dirty pages back within tens of milliseconds,
# so unsynced writes do reach that cache. FAULT_POWERCUT_DISK=file is the
# plain image (QEMU's cache=writeback: the host's page cache keeps every
# completed write). A writer that never syncs runs beside the workload
# (tests/fault/powercut-guest.sh), so the cut meets unsynced commits;
# FAULT_POWERCUT_NOISE=0 leaves it out.
#
# Rounds: --rounds, else FAULT_POWERCUT_ROUNDS, else 4 (30 with
# MODALFS_LONG=1). FAULT_SEED picks the random moments, data and subsets.
# FAULT_POWERCUT_PLANT=nosync runs the daemon with tests/fault/nosync.c
# preloaded (its LMDB store opened with MDB_NOSYNC): the rounds must fail.
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
	ROUNDS=${FAULT_POWERCUT_ROUNDS:-4}
fi
BOOT_TIMEOUT=${FAULT_POWERCUT_TIMEOUT:-300}
DISK=${FAULT_POWERCUT_DISK:-cutdisk}
PLANT=${FAULT_POWERCUT_PLANT:-}
FAULT_POWERCUT_NOISE=${FAULT_POWERCUT_NOISE:-1}
export FAULT_POWERCUT_NOISE

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
NBDPID=

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

# nbdkit_start K: serves $STATE through cutdisk.py on $OUT/nbdK.sock.
nbdkit_start() {
	local sock=$OUT/nbd$1.sock i
	rm -f "$sock"
	nbdkit -f -U "$sock" python "$HERE/cutdisk.py" file="$STATE" \
		journal="$OUT/journal$1" 2> "$OUT/nbdkit$1.log" &
	NBDPID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$sock" ] && return 0
		kill -0 "$NBDPID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/    | /' "$OUT/nbdkit$1.log"
	return 1
}

echo "powercut: $ROUNDS rounds, seed $FAULT_SEED, state disk: $DISK${PLANT:+, planted fault: $PLANT}, output in $OUT"
if [ "$DISK" = cutdisk ]; then
	if ! nbdkit python --dump-plugin > /dev/null 2>&1; then
		result "not ok" "nbdkit and its python plugin are installed (tests/deps.sh)"
		exit 1
	fi
	# vm.sh makes the image only for --state; here it is made first.
	truncate -s 2G "$STATE" && mkfs.ext4 -q -F -L modalfs-state "$STATE" || exit 2
fi
case $PLANT in
'') ;;
nosync)
	cc -O2 -shared -fPIC -o "$OUT/nosync.so" "$HERE/nosync.c" -ldl || exit 2
	export FAULT_POWERCUT_PRELOAD=$OUT/nosync.so ;;
*) echo "powercut.sh: unknown FAULT_POWERCUT_PLANT=$PLANT" >&2; exit 2 ;;
esac
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
	sdisk=(--state "$STATE")
	if [ "$DISK" = cutdisk ]; then
		if ! nbdkit_start "$k"; then
			result "not ok" "boot $k: nbdkit serves the state disk"
			break
		fi
		sdisk=(--state-nbd "$OUT/nbd$k.sock")
	fi
	"$VM" "${VM_OPTS[@]}" "${sdisk[@]}" "${disk[@]}" --pidfile "$pidf" --expect-kill \
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
				# The disk's cache dies with the machine.
				if kill -KILL "$(cat "$pidf")" $NBDPID 2>/dev/null; then
					cut="after $ms ms"
				fi
				break
			fi
			sleep 0.2
		done
	fi
	wait "$vpid"
	vrc=$?
	settled=
	if [ -n "$NBDPID" ]; then
		# After a clean end QEMU flushed on exit: nothing is pending.
		kill -KILL "$NBDPID" 2>/dev/null
		wait "$NBDPID" 2>/dev/null
		NBDPID=
		[ $((k % 2)) -eq 1 ] && mode=drop || mode=subset
		settled=$("$PY" "$HERE/cutdisk.py" settle "$STATE" "$OUT/journal$k" "$mode" "$FAULT_SEED-$k" 2>&1)
		echo "    | state disk after boot $k: $settled"
	fi
	take_guest_results "$gout/results.tap"
	if grep -q "the kernel reported a problem" "$con"; then
		grep '^vm.sh:' "$con" | head -n 8 | sed 's/^/    | /'
		result "not ok" "boot $k: the kernel reported no problem"
	fi
	if [ -z "$last" ]; then
		if [ -n "$cut" ] && [ "$vrc" -eq 0 ]; then
			acked=$("$PY" "$HERE/workload.py" count --sector-log --log "$OUT/log$k.img" 2>&1)
			result ok "round $k: power cut $cut into the workload ($acked ops acknowledged${settled:+; state disk: $settled})"
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
