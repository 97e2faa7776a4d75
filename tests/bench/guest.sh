#!/bin/bash
# shellcheck disable=SC2317	# the *_up/*_down functions are called as "${fs}_up"
# Guest side of `make bench` (tests/bench/bench.sh boots the VM and runs
# this in it; it also runs as root on a real host with the module built).
# Runs the same workloads on four file systems, one after the other:
#
#   tmpfs    the page-cache ceiling: no round trip anywhere
#   nfs      in-kernel nfsd exporting a tmpfs, mounted over 127.0.0.1
#   fuse     libfuse's passthrough_ll example over a tmpfs directory
#   modalfs  modalfs.ko + modalfsd, its LMDB store on tmpfs
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

MB=${BENCH_MB:-64}
NFILES=${BENCH_FILES:-2000}
RAND_SECS=${BENCH_RAND_SECS:-20}
FS_LIST=${BENCH_FS:-tmpfs nfs fuse modalfs}
PT=${BENCH_PASSTHROUGH:-${BUILD:-$MODALFS_REPO/build}/bench/passthrough_ll}
W=/tmp/bench
OUT=${MODALFS_TEST_OUT:-$W/out}
RES=$OUT/results.tsv
FIO=${FIO:-fio}
WHY=

require_root
mkdir -p "$W" "$OUT"
command -v "$FIO" > /dev/null || bail "fio is installed (apt-get install fio)"

{
	printf '# kernel=%s\n# vcpus=%s\n# mem_kib=%s\n' "$(cat /proc/sys/kernel/osrelease)" "$(nproc)" \
		"$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
	printf '# seq_mib=%s\n# meta_files=%s\n# randread_max_secs=%s\n' "$MB" "$NFILES" "$RAND_SECS"
	printf 'fs\tseq_write_MiBps\tseq_read_MiBps\trand_read_4k_iops\tmeta_ops\tcreate_ops\tstat_ops\tunlink_ops\tsecs\tnote\n'
} > "$RES"

# row FS SEQW SEQR RAND META CREATE STAT UNLINK SECS NOTE
row() {
	local IFS=$'\t'
	echo "$*" >> "$RES"
	echo "bench: result: $*"
}

# fio_job FS NAME DIR RW BS [FIO ARGS...]: prints MiB/s (sequential jobs)
# or IOPS (random ones); on failure prints why and returns 1 (it runs in
# a command substitution, so a variable could not carry the reason out).
fio_job() {
	local fs=$1 name=$2 dir=$3 rw=$4 bs=$5 json err v
	shift 5
	json=$OUT/fio-$fs-$name.json
	err=$OUT/fio-$fs-$name.err
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
    print("%.0f" % d["iops"])
else:
    print("%.1f" % (d["bw_bytes"] / 1048576))
' "$json" "$rw" 2>&1); then
		echo "fio $name: $v"
		return 1
	fi
	echo "$v"
}

# workloads FS DIR: the four workloads on DIR, one result row. A failed
# workload leaves "n/a" in its cell and its reason in the note.
workloads() {
	local fs=$1 dir=$2 sw sr rr meta c s u note='' ok=0
	step "$fs: sequential write, ${MB} MiB in 1 MiB writes, fsync at the end"
	sw=$(fio_job "$fs" seqwrite "$dir" write 1M --end_fsync=1) || { note+="$sw; "; sw=n/a; ok=1; }
	echo "    | $sw MiB/s"
	if [ "$sw" != n/a ]; then
		step "$fs: sequential read after dropping caches"
		drop_caches
		sr=$(fio_job "$fs" seqread "$dir" read 1M) || { note+="$sr; "; sr=n/a; ok=1; }
		echo "    | $sr MiB/s"
		step "$fs: 4 KiB random reads after dropping caches (at most ${RAND_SECS} s)"
		drop_caches
		# fio's default fadvise hint (POSIX_FADV_RANDOM) turns readahead off.
		rr=$(fio_job "$fs" randread "$dir" randread 4k --runtime="$RAND_SECS") \
			|| { note+="$rr; "; rr=n/a; ok=1; }
		echo "    | $rr IOPS"
	else
		sr=n/a rr=n/a
	fi
	rm -f "$dir/bench.dat"
	step "$fs: metadata: create, stat, unlink $NFILES files"
	if meta=$("$PYTHON" "$MODALFS_REPO/tests/bench/meta.py" "$dir" "$NFILES" 2>&1); then
		read -r c s u meta <<< "$meta"
		echo "    | create $c/s, stat $s/s, unlink $u/s: $meta ops/s"
	else
		printf '%s\n' "$meta" | tail -n 20 | sed 's/^/    | /'
		note+="meta.py failed: $(printf '%s\n' "$meta" | tail -n 1); "
		c=n/a s=n/a u=n/a meta=n/a ok=1
	fi
	ROW=("$sw" "$sr" "$rr" "$meta" "$c" "$s" "$u")
	NOTE=${note%; }
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
	(ulimit -n 65536 && exec "$PT" -f -o source="$W/fuse-src" "$W/fuse") > "$W/fuse.log" 2>&1 &
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
	if mountpoint -q "$W/fuse-src"; then umount "$W/fuse-src" || rc=1; fi
	return "$rc"
}

# --- modalfs ---------------------------------------------------------------
modalfs_up() {
	mfs_up benchvol "$W/modalfs" || { WHY="mfs_up failed (see the lines above)"; return 1; }
	MNT=$W/modalfs
}
modalfs_down() {
	local f0=$_T_FAIL
	is_mounted "$W/modalfs" && check "umount $W/modalfs" umount "$W/modalfs"
	check_stop_and_unload
	[ "$_T_FAIL" -eq "$f0" ]
}

# bench_fs FS: set up, run the workloads, tear down; one row either way.
bench_fs() {
	local fs=$1 t0=$SECONDS rc=0 note
	WHY='' MNT='' ROW=() NOTE=''
	step "$fs: set up"
	if ! "${fs}_up"; then
		echo "    | $fs: not available: $WHY"
		"${fs}_down" > /dev/null 2>&1
		row "$fs" n/a n/a n/a n/a n/a n/a n/a $((SECONDS - t0)) "n/a: $WHY"
		return 1
	fi
	workloads "$fs" "$MNT" || rc=1
	note=$NOTE
	[ "$fs" = nfs ] && note="vers=$NFS_VERS${note:+; $note}"
	step "$fs: tear down"
	"${fs}_down" || { rc=1; note+="${note:+; }tear-down failed"; }
	row "$fs" "${ROW[@]}" $((SECONDS - t0)) "$note"
	return "$rc"
}

status=0
for fs in $FS_LIST; do
	case $fs in
	tmpfs|nfs|fuse|modalfs) ;;
	*) echo "bench: unknown file system $fs in BENCH_FS"; status=2; continue ;;
	esac
	bench_fs "$fs"
	rc=$?
	if [ "$fs" = modalfs ] && [ $rc -ne 0 ]; then
		echo "bench: modalfs failed"
		status=1
	fi
done
cleanup_test
exit $status
