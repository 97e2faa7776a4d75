#!/bin/bash
# Boot the target kernel in QEMU (TCG) and run one command in it as root.
#
#   tests/vm/vm.sh [--state IMG | --state-nbd SOCKET] [--timeout SECS] [--log FILE] [--out DIR]
#                  [--mem SIZE] [--disk IMG]... [--kernel BZIMAGE [--no-modules]]
#                  [--pidfile FILE] [--expect-kill] [--systemd] -- COMMAND [ARGS...]
#
# The guest sees the host's / read-only over 9p under a tmpfs overlay, so it
# has the repository, its build outputs and all host binaries, and its
# writes vanish at power-off. COMMAND runs with cwd = the repository; a
# single argument is run with `sh -c`, several are executed as they are.
# With --state IMG an ext4 image (created when missing) is attached as
# /dev/vda and mounted at /var/lib/modalfs; it persists across runs.
# --state-nbd SOCKET: the state disk is served by an NBD server on that
# unix socket instead (tests/fault/powercut.sh runs nbdkit with
# tests/fault/cutdisk.py there); the image must already hold an ext4.
# Files the guest writes to $MODALFS_TEST_OUT are copied to --out DIR.
# --disk IMG (repeatable) attaches raw images as further virtio disks, after
# the state disk (/dev/vdb, ... with --state; /dev/vda, ... without).
# --kernel boots another kernel (the debug kernel); --no-modules then
# builds an initramfs without modules, for a kernel with the VM's drivers
# built in. --pidfile writes QEMU's pid (for power cuts: kill -9 it), and
# --expect-kill makes a killed QEMU a success (still failing on a kernel
# problem in the console) instead of a timeout.
# --systemd boots the overlay root with systemd as PID 1
# (init=/lib/systemd/systemd, into tests/vm/systemd/modalfs-vm.target:
# basic.target and nothing of the host's multi-user.target); COMMAND runs
# as the unit modalfs-vm-run.service, and the guest powers off through
# systemd's own shutdown, which unmounts what is still mounted.
# MODALFS_LONG, FAULT_* and the variables named in $VM_ENV are passed to
# the guest's environment.
#
# Exit status: COMMAND's, or non-zero if the console shows an oops, WARN,
# BUG, lockdep report, hung task or soft lockup, if the guest panicked or
# never reported a status, or on timeout (124).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
VMDIR=$BUILD/vm

STATE=
STATE_NBD=
TIMEOUT=900
LOG=
OUT=
MEM=${VM_MEM:-2G}
DISKS=()
KERNEL=
NO_MODULES=
PIDFILE=
EXPECT_KILL=
SYSTEMD=
SMP=${VM_SMP:-2}
LOGLEVEL=${VM_LOGLEVEL:-5}

usage() {
	sed -n '2,/^set -u/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--state) STATE=${2:?--state needs a file}; shift 2 ;;
	--state-nbd) STATE_NBD=${2:?--state-nbd needs a socket}; shift 2 ;;
	--timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
	--log) LOG=${2:?--log needs a file}; shift 2 ;;
	--out) OUT=${2:?--out needs a directory}; shift 2 ;;
	--mem) MEM=${2:?--mem needs a size}; shift 2 ;;
	--disk) DISKS+=("${2:?--disk needs a file}"); shift 2 ;;
	--kernel) KERNEL=${2:?--kernel needs a file}; shift 2 ;;
	--no-modules) NO_MODULES=1; shift ;;
	--pidfile) PIDFILE=${2:?--pidfile needs a file}; shift 2 ;;
	--expect-kill) EXPECT_KILL=1; shift ;;
	--systemd) SYSTEMD=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	*) echo "vm.sh: unknown option $1" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || { echo "vm.sh: no command given" >&2; usage; }

die() { echo "vm.sh: $*" >&2; exit 125; }

# The target kernel is the one whose headers are installed next to a
# /boot/vmlinuz; the host may be running anything else.
if [ -z "${KVER:-}" ]; then
	KVER=$(for b in /lib/modules/*/build; do v=$(basename "$(dirname "$b")")
		[ -e "/boot/vmlinuz-$v" ] && echo "$v"; done | sort -V | tail -n 1)
fi
[ -n "$KVER" ] || die "no kernel with headers found under /lib/modules (run make deps)"
[ -n "$KERNEL" ] || KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -r "$KERNEL" ] || die "cannot read $KERNEL"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run make deps)"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "busybox missing (run make deps)"

MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	9pnet 9pnet_virtio netfs fscache 9p overlay
	virtio_blk crc16 mbcache jbd2 crc32c_generic ext4"
INITRD=$VMDIR/initramfs-$KVER.cpio.gz
if [ -n "$NO_MODULES" ]; then
	MODULES=
	INITRD=$VMDIR/initramfs-builtin.cpio.gz
fi

mkdir -p "$VMDIR/runs" || die "cannot create $VMDIR"

# Find a module's file via modules.dep, uncompressing .ko.xz/.ko.zst so that
# busybox insmod can take it as is.
module_copy() {
	local name=$1 dst=$2 rel
	rel=$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" "$MODDIR/modules.dep" | head -n 1 | cut -d: -f1)
	[ -n "$rel" ] || die "module $name not found in $MODDIR/modules.dep"
	case "$rel" in
	*.ko) cp "$MODDIR/$rel" "$dst/$name.ko" ;;
	*.ko.xz) xz -dc "$MODDIR/$rel" > "$dst/$name.ko" ;;
	*.ko.zst) zstd -qdc "$MODDIR/$rel" > "$dst/$name.ko" ;;
	*.ko.gz) gzip -dc "$MODDIR/$rel" > "$dst/$name.ko" ;;
	esac || die "cannot copy module $name"
}

# The initramfs is cached and rebuilt when its inputs change. Several
# helpers may start VMs at once, hence the lock and the atomic rename.
build_initramfs() {
	local key tmp
	# Contents only: the same script reached by another path is no change.
	key=$( { echo "$KVER $MODULES"; cat "$HERE/initramfs-init" "$BUSYBOX"
		[ -z "$MODULES" ] || cat "$MODDIR/modules.dep"; } | sha256sum | cut -d' ' -f1)
	exec 9>"$VMDIR/.initramfs.lock"
	flock 9
	if [ -s "$INITRD" ] && [ "$(cat "$INITRD.key" 2>/dev/null)" = "$key" ]; then
		exec 9>&-
		return 0
	fi
	echo "vm.sh: building $INITRD" >&2
	tmp=$(mktemp -d "$VMDIR/initramfs.XXXXXX") || die "mktemp failed"
	mkdir -p "$tmp/root/bin" "$tmp/root/modules" "$tmp/root/proc" "$tmp/root/sys" \
		"$tmp/root/dev" "$tmp/root/tmp"
	cp "$BUSYBOX" "$tmp/root/bin/busybox"
	ln -s busybox "$tmp/root/bin/sh"
	cp "$HERE/initramfs-init" "$tmp/root/init"
	chmod 755 "$tmp/root/init"
	: > "$tmp/root/modules.list"
	for m in $MODULES; do
		module_copy "$m" "$tmp/root/modules"
		echo "$m" >> "$tmp/root/modules.list"
	done
	(cd "$tmp/root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) \
		> "$tmp/initrd" || die "cpio failed"
	mv -f "$tmp/initrd" "$INITRD"
	echo "$key" > "$INITRD.key"
	rm -rf "$tmp"
	exec 9>&-
}
build_initramfs

RUN=$(mktemp -d "$VMDIR/runs/run.XXXXXX") || die "mktemp failed"
QPID=
cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$HERE/guest-runner.sh" "$RUN/runner.sh"
if [ -n "$SYSTEMD" ]; then
	[ -x /lib/systemd/systemd ] || die "--systemd: /lib/systemd/systemd missing"
	mkdir -p "$RUN/systemd"
	cp "$HERE"/systemd/* "$RUN/systemd/"
fi
mkdir -p "$RUN/out"
# Paths the guest must see even when they are under its fresh /tmp or /run.
printf '%s\n' "$REPO" "$BUILD" > "$RUN/keep"
{
	printf 'MODALFS_REPO=%q\n' "$REPO"
	printf 'export BUILD=%q KVER=%q\n' "$BUILD" "$KVER"
	# The guest console is a tty even when our output is not.
	[ -t 1 ] || echo "export NO_COLOR=1"
	for v in MODALFS_LONG ${!FAULT_@} ${VM_ENV:-}; do
		[ -n "${!v+set}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf 'VM_ARGS=('
	printf '%q ' "$@"
	printf ')\n'
} > "$RUN/cmd.env"

DRIVE=()
if [ -n "$STATE" ]; then
	if [ ! -e "$STATE" ]; then
		mkdir -p "$(dirname "$STATE")"
		truncate -s 2G "$STATE" && mkfs.ext4 -q -F -L modalfs-state "$STATE" \
			|| die "cannot create state image $STATE"
	fi
	# QEMU's own image locking also refuses a second user; this gives a
	# clearer message.
	exec 8<"$STATE"
	flock -n 8 || die "state image $STATE is in use by another VM"
	DRIVE=(-drive "file=$STATE,format=raw,if=virtio,cache=writeback")
elif [ -n "$STATE_NBD" ]; then
	[ -S "$STATE_NBD" ] || die "no NBD server socket at $STATE_NBD"
	# The guest sees a disk with a volatile write cache and sends flushes;
	# QEMU passes them on as NBD flushes.
	DRIVE=(-drive "file=nbd+unix:///?socket=$STATE_NBD,format=raw,if=virtio,cache=writeback")
fi
for d in "${DISKS[@]}"; do
	[ -e "$d" ] || die "disk image $d missing"
	DRIVE+=(-drive "file=$d,format=raw,if=virtio,cache=writeback")
done

CMDLINE="console=ttyS0 loglevel=$LOGLEVEL panic=-1 oops=panic panic_on_warn=1"
CMDLINE+=" softlockup_panic=1 hung_task_panic=1 hung_task_timeout_secs=${VM_HUNG_SECS:-90}"
CMDLINE+=" mitigations=off nokaslr rdinit=/init"
# The initramfs mounts /dev/vda as the state disk only when it is one.
[ -n "$STATE$STATE_NBD" ] && CMDLINE+=" modalfs.state=vda"
# The initramfs hands over to init= (instead of the runner) when it is set.
[ -n "$SYSTEMD" ] && CMDLINE+=" init=/lib/systemd/systemd systemd.unit=modalfs-vm.target systemd.show_status=error"
CMDLINE+=" ${VM_APPEND:-}"

CONSOLE=$RUN/console.log
# Kernel messages carry a "[ seconds]" timestamp; match only those so that
# a test printing the word BUG does not fail the run.
BAD='\[ *[0-9]+\.[0-9]+\] .*(------------\[ cut here \]|WARNING: |BUG: |Oops|kernel BUG at|general protection fault|Kernel panic|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|lockdep|INFO: task .* blocked for more than|soft lockup|hard LOCKUP|Call Trace:|UBSAN:|KASAN:|list_(add|del) corruption|refcount_t: )'

boot() {
	rm -f "$CONSOLE"
	# The console goes to a file and is echoed from there, so the log is
	# complete even when QEMU is killed by the timeout.
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg -nodefaults -no-user-config -no-reboot \
		-machine pc -cpu max -smp "$SMP" -m "$MEM" \
		-display none -monitor none \
		-chardev file,id=con0,path="$CONSOLE" -serial chardev:con0 \
		-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$RUN",mount_tag=vmrun,security_model=none,multidevs=remap \
		"${DRIVE[@]}" </dev/null >"$RUN/qemu.out" 2>&1 &
	QPID=$!
	# timeout's child is QEMU: that pid is the one a power cut kills.
	if [ -n "$PIDFILE" ]; then
		for _ in $(seq 50); do
			p=$(pgrep -P "$QPID" -x qemu-system-x86 || pgrep -P "$QPID" qemu-system)
			[ -n "$p" ] && break
			sleep 0.1
		done
		echo "${p:-$QPID}" > "$PIDFILE"
	fi
	# Wait for the console file, then stream it line by line (a watcher
	# may wait for a marker) until QEMU is gone.
	while [ ! -e "$CONSOLE" ] && kill -0 "$QPID" 2>/dev/null; do sleep 0.1; done
	touch "$CONSOLE"
	tail -n +1 -f --pid="$QPID" "$CONSOLE" | stdbuf -oL tr -d '\r'
	wait "$QPID"
	qrc=$?
	QPID=
}

# A kernel that fails in its own early boot, before the guest ran any of
# our code (no command-start marker; a KASAN report from an interrupt
# during CPU identification was seen once on the debug kernel under TCG),
# says nothing about the code under test: boot again, at most twice, and
# say so. Anything after the marker fails the run as usual.
for attempt in 1 2 3; do
	boot
	if [ "$attempt" -lt 3 ] && [ -z "$EXPECT_KILL" ] && [ ! -s "$RUN/status" ] &&
	   ! grep -q '^=== vm: command start ===' "$CONSOLE" &&
	   early=$(tr -d '\r' < "$CONSOLE" | grep -E -m 1 "$BAD"); then
		echo "vm.sh: the kernel failed during early boot, before the guest ran anything; booting again (attempt $((attempt + 1)) of 3):" >&2
		echo "vm.sh:   $early" >&2
		cp "$CONSOLE" "$RUN/console.early-boot-$attempt.log"
		continue
	fi
	break
done

[ -n "$LOG" ] && { mkdir -p "$(dirname "$LOG")"; tr -d '\r' < "$CONSOLE" > "$LOG"; }
[ -n "$OUT" ] && { mkdir -p "$OUT" && cp -a "$RUN/out/." "$OUT/"; }

rc=0
killed=
if [ -n "$EXPECT_KILL" ] && [ "$qrc" -eq 137 ] && [ ! -s "$RUN/status" ]; then
	echo "vm.sh: QEMU was killed (power cut)" >&2
	killed=1
elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vm.sh: TIMEOUT after ${TIMEOUT}s" >&2
	rc=124
elif [ "$qrc" -ne 0 ]; then
	echo "vm.sh: qemu exited with status $qrc:" >&2
	cat "$RUN/qemu.out" >&2
	rc=125
fi

if bad=$(tr -d '\r' < "$CONSOLE" | grep -E -m 5 "$BAD"); then
	echo "vm.sh: FAILED: the kernel reported a problem:" >&2
	echo "$bad" | sed 's/^/vm.sh:   /' >&2
	[ "$rc" -eq 0 ] && rc=1
fi

if [ -s "$RUN/status" ]; then
	st=$(cat "$RUN/status")
	if [ "$rc" -eq 0 ]; then
		rc=$st
	elif [ "$rc" -eq 124 ] && [ "$st" -ne 0 ]; then
		rc=$st
	fi
	if [ ! -e "$RUN/cleanup" ] && [ "$rc" -eq 0 ]; then
		echo "vm.sh: FAILED: the guest did not finish its clean-up (unmount/poweroff)" >&2
		rc=1
	fi
elif [ "$rc" -eq 0 ] && [ -z "$killed" ]; then
	echo "vm.sh: FAILED: the guest never reported an exit status (panic or crash?)" >&2
	rc=125
fi
exit "$rc"
