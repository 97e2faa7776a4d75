#!/bin/bash
# shellcheck disable=SC2317	# the *_up/*_down functions are called as "${fs}_up"
# Guest side of `make bench` (tests/bench/bench.sh boots the VM and runs
# this in it; it also runs as root on a real host with the module built).
# Runs the same workloads on five file systems, one after the other, in
# BENCH_ROUNDS rounds; each round starts one place further along the list:
#
#   tmpfs    the page-cache ceiling: no round trip anywhere
#   nfs      in-kernel nfsd exporting a tmpfs, mounted over 127.0.0.1
#   fuse     libfuse's passthrough_ll example over a tmpfs directory
#   fuse-wb  the same with -o writeback (the kernel's writeback cache)
#   modalfs  modalfs.ko + modalfsd, its state directory on tmpfs
#
# Every back end keeps its data in RAM, so the rows compare the paths the
# requests take, not disks. Results go to $MODALFS_TEST_OUT/results.tsv
# (bench.sh turns it into the table and results.json), fio's own JSON
# next to it. A reference that cannot be set up gets an "n/a: reason" row;
# modalfs failing in any way makes the exit status non-zero.
set -u
# The daemon's store on tmpfs like the references' data; the default
# (/var/tmp on the VM's overlay) would add overlayfs to its path.
export TEST_STATE_ROOT=${TEST_STATE_ROOT:-/tmp/bench/modalfs-state}
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=../posix/vmlib.sh
. "$MODALFS_REPO/tests/posix/vmlib.sh"
# shellcheck disable=SC2034	# lib.sh prefixes its lines with it
TEST_NAME=bench

MB=${BENCH_MB:-128}
NFILES=${BENCH_FILES:-2000}
PAR_FILES=${BENCH_PAR_FILES:-1000}
SQL_TXNS=${BENCH_SQL_TXNS:-300}
RAND_SECS=${BENCH_RAND_SECS:-20}
ROUNDS=${BENCH_ROUNDS:-3}
TARBALL=${BENCH_TARBALL:-}
FS_LIST=${BENCH_FS:-tmpfs nfs fuse fuse-wb modalfs}
STATS=/sys/kernel/debug/modalfs/stats
PT=${BENCH_PASSTHROUGH:-${BUILD:-$MODALFS_REPO/build}/bench/passthrough_ll}
W=/tmp/bench
OUT=${MODALFS_TEST_OUT:-$W/out}
RES=$OUT/results.tsv
FIO=${FIO:-fio}
WHY=

require_root
mkdir -p "$W" "$OUT"
command -v "$FIO" > /dev/null || bail "fio is installed (apt-get install fio)"
# modalfs/stats is in debugfs, which the VM's init does not mount.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

{
	printf '# kernel=%s\n# vcpus=%s\n# mem_kib=%s\n' "$(cat /proc/sys/kernel/osrelease)" "$(nproc)" \
		"$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
	printf '# seq_mib=%s\n# meta_files=%s\n# par_files=%s\n# sql_txns=%s\n# rand_max_secs=%s\n# rounds=%s\n' \
		"$MB" "$NFILES" "$PAR_FILES" "$SQL_TXNS" "$RAND_SECS" "$ROUNDS"
	printf '# tar_entries=%s\n' "$(tar -tf "$TARBALL" 2> /dev/null | wc -l)"
	printf 'round\tfs\tmetric\tvalue\tnote\n'
} > "$RES"

# row FS METRIC VALUE [NOTE]: one measurement of round $ROUND
row() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" "${4:-}" >> "$RES"
	echo "bench: result: round $ROUND $1 $2 = $3${4:+ ($4)}"
}

# fio_job FS NAME DIR RW BS [FIO ARGS...]: prints "VALUE IO_BYTES": MiB/s
# (sequential jobs) or IOPS (random ones), and the bytes fio moved; on
# failure prints why and returns 1 (it runs in a command substitution).
fio_job() {
	local fs=$1 name=$2 dir=$3 rw=$4 bs=$5 json err v
	shift 5
	json=$OUT/fio-$fs-$name-r$ROUND.json
	err=$OUT/fio-$fs-$name-r$ROUND.err
	# clock_gettime: fio's default TSC clock is not trustworthy under TCG.
	if ! "$FIO" --name="$name" --filename="$dir/bench.dat" --rw="$rw" --bs="$bs" \
		--size="${MB}M" --ioengine=psync --direct=0 --clocksource=clock_gettime \
		--output-format=json --output="$json" "$@" > "$err" 2>&1; then
		echo "fio $name failed: $(grep -v '^$' "$err" | tail -n 1)"
		return 1
	fi
	if ! v=$("$PYTHON" -c '
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
if j["error"]:
    sys.exit("error %d" % j["error"])
d = j["write" if "write" in sys.argv[2] else "read"]
if sys.argv[2].startswith("rand"):
    print("%.0f %d" % (d["iops"], d["io_bytes"]))
else:
    print("%.1f %d" % (d["bw_bytes"] / 1048576, d["io_bytes"]))
' "$json" "$rw" 2>&1); then
		echo "fio $name: $v"
		return 1
	fi
	echo "$v"
}

# modalfs's counters around a workload (other rows: nothing). The daemon's
# wchar (bytes it passed to write/pwrite, /proc/PID/io) stands for the
# bytes written to its state directory: the store is on tmpfs, which
# accounts no write_bytes, and LMDB and the block files both use pwrite.
snap() {	# snap FS NAME
	[ "$1" = modalfs ] || return 0
	sync
	cp "$STATS" "$W/stats.$2" 2> /dev/null || : > "$W/stats.$2"
	awk '$1 == "wchar:" { print $2 }' "/proc/$MODALFSD_PID/io" > "$W/wchar.$2" 2> /dev/null
}
# reqs FS WORKLOAD UNITS: requests per unit between snap FS a and snap FS b
reqs() {
	[ "$1" = modalfs ] || return 0
	snap "$1" b
	local per ops
	if ! grep -q '^total ' "$W/stats.a" || ! grep -q '^total ' "$W/stats.b"; then
		row "$1" "req_$2" n/a "no $STATS"
		return 0
	fi
	per=$(awk -v n="$3" 'FNR == NR { a[$1] = $2; next } $1 == "total" { printf "%.2f", ($2 - a["total"]) / n }' \
		"$W/stats.a" "$W/stats.b")
	ops=$(awk 'FNR == NR { a[$1] = $2; next } $1 != "op" && $1 != "total" && $2 - a[$1] > 0 { printf "%s=%d ", $1, $2 - a[$1] }' \
		"$W/stats.a" "$W/stats.b")
	row "$1" "req_$2" "${per:-n/a}" "${ops% }"
}
# wbytes FS WORKLOAD APP_BYTES: daemon wchar per byte the application wrote
wbytes() {
	[ "$1" = modalfs ] || return 0
	local a b
	a=$(cat "$W/wchar.a" 2> /dev/null) b=$(cat "$W/wchar.b" 2> /dev/null)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$3" -gt 0 ]; then
		row "$1" "wamp_$2" "$(awk -v d=$((b - a)) -v n="$3" 'BEGIN { printf "%.2f", d / n }')" \
			"daemon wchar $((b - a)) for $3 application bytes"
	else
		row "$1" "wamp_$2" n/a "no /proc/PID/io of the daemon"
	fi
}
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# timed FS METRIC UNITS CMD...: run CMD, then syncfs of the mount, as one
# timed step; a row with the seconds and modalfs's requests per unit.
timed() {
	local fs=$1 m=$2 n=$3 t0 t1
	shift 3
	snap "$fs" a
	t0=$(now)
	if "$@" > "$W/err" 2>&1 && sync -f "$MNT"; then
		t1=$(now)
		row "$fs" "$m" "$(secs "$t0" "$t1")"
		reqs "$fs" "${m%_s}" "$n"
		echo "    | $m: $(secs "$t0" "$t1") s"
	else
		row "$fs" "$m" n/a "$* failed: $(tail -n 1 "$W/err")"
		return 1
	fi
}

# pyrate FS METRIC UNITS SCRIPT ARGS...: a python workload printing a rate
pyrate() {
	local fs=$1 m=$2 n=$3 script=$4 v
	shift 4
	snap "$fs" a
	if v=$("$PYTHON" "$MODALFS_REPO/tests/bench/$script" "$@" 2>&1); then
		row "$fs" "$m" "$v"
		reqs "$fs" "$m" "$n"
		echo "    | $m: $v"
	else
		row "$fs" "$m" n/a "$script failed: $(printf '%s\n' "$v" | tail -n 1)"
		return 1
	fi
}

# fiorow FS METRIC UNIT_BYTES NAME RW BS ARGS...: a fio job as a row
fiorow() {
	local fs=$1 m=$2 ub=$3 name=$4 v
	shift 4
	snap "$fs" a
	if v=$(fio_job "$fs" "$name" "$MNT" "$@"); then
		read -r v FIO_BYTES <<< "$v"
		row "$fs" "$m" "$v"
		reqs "$fs" "$m" "$(( FIO_BYTES / ub > 0 ? FIO_BYTES / ub : 1 ))"
		echo "    | $m: $v"
	else
		row "$fs" "$m" n/a "$v"
		FIO_BYTES=0
		return 1
	fi
}

# workloads FS DIR: every workload on DIR, one row per measurement. A
# failed workload gets "n/a" and its reason; the others still run.
workloads() {
	local fs=$1 dir=$2 ok=0 n
	MNT=$dir
	if [ -r "$TARBALL" ]; then
		n=$(tar -tf "$TARBALL" | wc -l)
		step "$fs: untar $n entries, find on a cold tree, rm -rf"
		mkdir -p "$dir/tree"
		timed "$fs" untar_s "$n" tar -C "$dir/tree" -xf "$TARBALL" || ok=1
		drop_caches
		timed "$fs" find_s "$n" find "$dir/tree" -printf '%s %p\n' || ok=1
		timed "$fs" rm_s "$n" rm -rf "$dir/tree" || ok=1
	else
		row "$fs" untar_s n/a "no tarball (BENCH_TARBALL)"
	fi
	step "$fs: 4 processes create $PAR_FILES files each"
	pyrate "$fs" parcreate_ops $((4 * PAR_FILES)) meta.py parcreate "$dir" "$PAR_FILES" 4 || ok=1
	step "$fs: create, cold stat, unlink of $NFILES files"
	pyrate "$fs" create_ops "$NFILES" meta.py create "$dir" "$NFILES" || ok=1
	drop_caches
	pyrate "$fs" stat_ops "$NFILES" meta.py stat "$dir" "$NFILES" || ok=1
	pyrate "$fs" unlink_ops "$NFILES" meta.py unlink "$dir" "$NFILES" || ok=1
	step "$fs: SQLite, $SQL_TXNS single-row transactions, synchronous=FULL"
	pyrate "$fs" sqlite_delete_tps "$SQL_TXNS" sqlite.py "$dir" delete "$SQL_TXNS" || ok=1
	pyrate "$fs" sqlite_wal_tps "$SQL_TXNS" sqlite.py "$dir" wal "$SQL_TXNS" || ok=1
	step "$fs: ${MB} MiB sequential write + fsync, cold and warm read, 4 KiB reads and fsynced writes"
	# fio's first run after the stat workload's drop_caches reads fio
	# and its libraries back from the guest's 9p root while it times
	# writes, which made that run slow for NFS as well as modalfs
	# (Documentation/storage.md): an untimed job on tmpfs first.
	"$FIO" --name=warm --filename="$W/fio-warm.dat" --rw=write --bs=1M --size=1M \
		--ioengine=psync --output-format=json > /dev/null 2>&1
	rm -f "$W/fio-warm.dat"
	if fiorow "$fs" seqwrite_MiBps 1048576 seqwrite write 1M --end_fsync=1; then
		wbytes "$fs" seqwrite "$FIO_BYTES"
		drop_caches
		fiorow "$fs" coldread_MiBps 1048576 seqread read 1M || ok=1
		fiorow "$fs" warmread_MiBps 1048576 warmread read 1M --invalidate=0 || ok=1
		drop_caches
		# fio's default fadvise hint (POSIX_FADV_RANDOM) turns readahead off.
		fiorow "$fs" randread_iops 4096 randread randread 4k --runtime="$RAND_SECS" || ok=1
		if fiorow "$fs" randwrite_fsync_iops 4096 randwrite randwrite 4k --fsync=1 --runtime="$RAND_SECS"; then
			wbytes "$fs" randwrite "$FIO_BYTES"
		else
			ok=1
		fi
	else
		ok=1
	fi
	rm -f "$dir/bench.dat"
	return $ok
}

# --- tmpfs -----------------------------------------------------------------
tmpfs_up() {
	mkdir -p "$W/tmpfs"
	mount -t tmpfs tmpfs "$W/tmpfs" || { WHY="cannot mount tmpfs"; return 1; }
	MNT=$W/tmpfs
}
tmpfs_down() {
	umount "$W/tmpfs"
}

# --- NFS loopback ----------------------------------------------------------
NFS_MOUNTD_PID='' NFS_RPCBIND_PID='' NFS_VERS=''
nfs_up() {
	local m v
	for m in nfsd nfsv4; do
		modprobe "$m" 2> "$W/err" || { WHY="modprobe $m: $(head -n 1 "$W/err")"; return 1; }
	done
	if ! mountpoint -q /proc/fs/nfsd; then
		mount -t nfsd nfsd /proc/fs/nfsd || { WHY="cannot mount the nfsd control file system"; return 1; }
	fi
	# nfs-utils keeps its export table and client records in /var/lib/nfs:
	# in the VM that is the overlay over the host's read-only /, with a
	# tmpfs upper layer, so writable and gone at power-off.
	touch /var/lib/nfs/etab 2> "$W/err" || { WHY="/var/lib/nfs not writable: $(head -n 1 "$W/err")"; return 1; }
	mkdir -p "$W/nfs-export" "$W/nfs" /run/rpcbind
	mount -t tmpfs tmpfs "$W/nfs-export" || { WHY="cannot mount the export's tmpfs"; return 1; }
	# Foreground daemons, so their pids are ours to stop.
	rpcbind -f > "$W/rpcbind.log" 2>&1 &
	NFS_RPCBIND_PID=$!
	sleep 1
	kill -0 "$NFS_RPCBIND_PID" 2> /dev/null || { WHY="rpcbind exited: $(tail -n 1 "$W/rpcbind.log")"; NFS_RPCBIND_PID=; return 1; }
	rpc.mountd -F > "$W/mountd.log" 2>&1 &
	NFS_MOUNTD_PID=$!
	# fsid=0 makes the export the NFSv4 pseudo root: otherwise mountd
	# builds one from / down, and the VM's / is an overlay, which nfsd
	# cannot export (the v4 mount fails with ENOENT). It also gives the
	# tmpfs the file-system id it lacks (no UUID).
	exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=0 "127.0.0.1:$W/nfs-export" \
		2> "$W/err" || { WHY="exportfs: $(head -n 1 "$W/err")"; return 1; }
	# 10 s is the shortest grace period nfsd takes, and v4_end_grace ends
	# it at once: nothing is left to reclaim on a fresh server, and until
	# it ends every NFSv4 OPEN that creates would be refused and retried.
	rpc.nfsd -G 10 -L 10 4 2> "$W/err" || { WHY="rpc.nfsd: $(head -n 1 "$W/err")"; return 1; }
	echo Y > /proc/fs/nfsd/v4_end_grace 2> /dev/null
	kill -0 "$NFS_MOUNTD_PID" 2> /dev/null || { WHY="rpc.mountd exited: $(tail -n 1 "$W/mountd.log")"; NFS_MOUNTD_PID=; return 1; }
	for v in 4.2 3; do
		local o=vers=$v,retry=0 path=/
		# v3 has no pseudo root: it mounts the real path
		[ "$v" = 3 ] && { o+=,nolock; path=$W/nfs-export; }	# nolock: no rpc.statd here
		if timeout 120 mount -t nfs -o "$o" "127.0.0.1:$path" "$W/nfs" 2> "$W/err"; then
			NFS_VERS=$v
			MNT=$W/nfs
			echo "    | mounted with -o $o"
			return 0
		fi
		echo "    | mount -o $o failed: $(head -n 1 "$W/err")"
	done
	WHY="mount -t nfs (vers=4.2 and 3): $(head -n 1 "$W/err")"
	return 1
}
nfs_down() {
	local rc=0
	if mountpoint -q "$W/nfs"; then umount "$W/nfs" || rc=1; fi
	[ -e /proc/fs/nfsd/threads ] && { rpc.nfsd 0; exportfs -ua; }
	for p in $NFS_MOUNTD_PID $NFS_RPCBIND_PID; do
		kill "$p" 2> /dev/null && wait "$p" 2> /dev/null
	done
	NFS_MOUNTD_PID='' NFS_RPCBIND_PID=''
	if mountpoint -q "$W/nfs-export"; then umount "$W/nfs-export" || rc=1; fi
	return "$rc"
}

# --- FUSE passthrough_ll ---------------------------------------------------
FUSE_PID=
FUSE_OPTS=
fuse_wb_up() {
	FUSE_OPTS=,writeback
	fuse_up
}
fuse_wb_down() {
	fuse_down
}
fuse_up() {
	local i
	[ -x "$PT" ] || { WHY="$PT missing (tests/bench/bench.sh builds it)"; return 1; }
	modprobe fuse 2> "$W/err" || { WHY="modprobe fuse: $(head -n 1 "$W/err")"; return 1; }
	[ -c /dev/fuse ] || { WHY="no /dev/fuse after loading fuse"; return 1; }
	mkdir -p "$W/fuse-src" "$W/fuse"
	mount -t tmpfs tmpfs "$W/fuse-src" || { WHY="cannot mount the source tmpfs"; return 1; }
	# Defaults of the example: cache=auto, 1 s attribute/entry timeouts,
	# no writeback cache, multithreaded. It holds an O_PATH descriptor per
	# inode the kernel knows: at the default limit of 1024 the metadata
	# run's FLUSHes fail (its dup() gets EMFILE, close() reports EBADF).
	(ulimit -n 65536 && exec "$PT" -f -o source="$W/fuse-src$FUSE_OPTS" "$W/fuse") > "$W/fuse.log" 2>&1 &
	FUSE_PID=$!
	for ((i = 0; i < 100; i++)); do
		if awk -v m="$W/fuse" '$2 == m && $3 ~ /^fuse/ { f = 1 } END { exit !f }' /proc/mounts; then
			MNT=$W/fuse
			return 0
		fi
		kill -0 "$FUSE_PID" 2> /dev/null || break
		sleep 0.1
	done
	WHY="passthrough_ll did not mount: $(tail -n 1 "$W/fuse.log")"
	return 1
}
fuse_down() {
	local rc=0
	if is_mounted "$W/fuse"; then umount "$W/fuse" || rc=1; fi
	# Unmounting ends its session loop; it exits by itself.
	if [ -n "$FUSE_PID" ]; then
		kill "$FUSE_PID" 2> /dev/null
		wait "$FUSE_PID" 2> /dev/null
		FUSE_PID=
	fi
	FUSE_OPTS=
	if mountpoint -q "$W/fuse-src"; then umount "$W/fuse-src" || rc=1; fi
	return "$rc"
}

# --- modalfs ---------------------------------------------------------------
modalfs_up() {
	# A fresh store every round, as every other row gets a fresh tmpfs.
	rm -rf "$TEST_DAEMON_DIR"
	mfs_up benchvol "$W/modalfs" || { WHY="mfs_up failed (see the lines above)"; return 1; }
	MNT=$W/modalfs
}
modalfs_down() {
	local f0=$_T_FAIL
	is_mounted "$W/modalfs" && check "umount $W/modalfs" umount "$W/modalfs"
	check_stop_and_unload
	[ "$_T_FAIL" -eq "$f0" ]
}

# modalfs-b: the same with another daemon binary (BENCH_MODALFSD_B, a path
# the guest sees, e.g. under build/), so that two daemons are compared in
# one VM run, interleaved like every other row. Never among the defaults.
modalfs_b_up() {
	[ -x "${BENCH_MODALFSD_B:-}" ] || { WHY="BENCH_MODALFSD_B is not an executable"; return 1; }
	MODALFSD_A=$MODALFSD
	MODALFSD=$BENCH_MODALFSD_B
	rm -rf "$TEST_DAEMON_DIR"
	mfs_up benchvol "$W/modalfs-b" || { WHY="mfs_up failed (see the lines above)"; return 1; }
	MNT=$W/modalfs-b
}
modalfs_b_down() {
	local f0=$_T_FAIL
	is_mounted "$W/modalfs-b" && check "umount $W/modalfs-b" umount "$W/modalfs-b"
	check_stop_and_unload
	MODALFSD=${MODALFSD_A:-$MODALFSD}
	[ "$_T_FAIL" -eq "$f0" ]
}

# bench_fs FS: set up, run the workloads, tear down.
bench_fs() {
	local fs=$1 f=${1//-/_} t0=$SECONDS rc=0
	WHY='' MNT=''
	step "round $ROUND: $fs: set up"
	if ! "${f}_up"; then
		echo "    | $fs: not available: $WHY"
		"${f}_down" > /dev/null 2>&1
		row "$fs" setup n/a "n/a: $WHY"
		return 1
	fi
	[ "$fs" = nfs ] && row "$fs" setup ok "vers=$NFS_VERS"
	[ "$fs" = fuse-wb ] && row "$fs" setup ok "passthrough_ll -o writeback"
	workloads "$fs" "$MNT" || rc=1
	step "$fs: tear down"
	"${f}_down" || { rc=1; row "$fs" teardown n/a "tear-down failed"; }
	row "$fs" secs $((SECONDS - t0))
	return "$rc"
}

# The tarball comes from the host over 9p: read it from tmpfs instead.
if [ -n "$TARBALL" ] && [ -r "$TARBALL" ]; then
	cp "$TARBALL" "$W/tree.tar" && TARBALL=$W/tree.tar
fi
status=0
read -r -a FSV <<< "$FS_LIST"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	# Round r starts r-1 places further along the list, so every file
	# system runs early and late, and host noise spreads over every row.
	for ((i = 0; i < ${#FSV[@]}; i++)); do
		fs=${FSV[(i + ROUND - 1) % ${#FSV[@]}]}
		case $fs in
		tmpfs|nfs|fuse|fuse-wb|modalfs|modalfs-b) ;;
		*) echo "bench: unknown file system $fs in BENCH_FS"; status=2; continue ;;
		esac
		bench_fs "$fs"
		rc=$?
		if [ "$fs" = modalfs ] && [ $rc -ne 0 ]; then
			echo "bench: modalfs failed"
			status=1
		fi
	done
done
echo "# load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES"
# A benchmark, not a test: lib.sh's checks (mfs_up's) only show what went
# wrong; there is no plan, and the status is the one set above.
_T_FINISHED=1
cleanup_test
exit $status
