#!/bin/bash
# make bench: boot one test VM (tests/vm/vm.sh) and compare modalfs with
# tmpfs, NFS loopback and FUSE passthrough_ll on the same workloads
# (tests/bench/guest.sh), then print the table and write
#   build/bench/results.json, build/bench/results.tsv, build/bench/results.md
#   build/bench/bench.png    the chart (python3-matplotlib)
#   build/bench/raw/         the guest's results.tsv and fio's JSON per job
#   build/bench/console.log  the VM's console
# A benchmark, not a test: nothing here judges a number. The exit status
# is non-zero only when modalfs could not be benchmarked (or the VM
# failed); a reference that cannot be set up is an "n/a: reason" row.
#
# It measures the module, daemon and CLI as they are built (`make bench`
# builds them first; run directly, it only checks they exist). Knobs
# (environment; Documentation/operations.md, "Benchmarks"): BENCH_ROUNDS
# (3), BENCH_TAR_ENTRIES (9051, the size of issue 10's /usr/include; 0 =
# all of this host's /usr/include), BENCH_MB (128), BENCH_FILES (2000),
# BENCH_PAR_FILES (1000), BENCH_SQL_TXNS (300), BENCH_RAND_SECS (20),
# BENCH_FS ("tmpfs nfs fuse fuse-wb modalfs"; "modalfs-b" adds a row for
# the daemon binary BENCH_MODALFSD_B, an A/B in one run), BENCH_MEM (VM
# memory, 3G),
# BENCH_TIMEOUT (VM timeout, 7200 s). BENCH_QUICK=1 is a smoke test of the
# script itself: every default above becomes small and one round runs (a
# few minutes); its numbers compare nothing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$REPO/build}
B=$BUILD/bench
PT_SRC=${PT_SRC:-/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c}
PT=$B/passthrough_ll

die() { echo "bench.sh: $*" >&2; exit 1; }

if [ "${BENCH_QUICK:-0}" != 0 ]; then
	: "${BENCH_ROUNDS:=1}" "${BENCH_TAR_ENTRIES:=500}" "${BENCH_MB:=16}" "${BENCH_FILES:=200}"
	: "${BENCH_PAR_FILES:=100}" "${BENCH_SQL_TXNS:=30}" "${BENCH_RAND_SECS:=3}" "${BENCH_TIMEOUT:=1800}"
	export BENCH_ROUNDS BENCH_MB BENCH_FILES BENCH_PAR_FILES BENCH_SQL_TXNS BENCH_RAND_SECS
	echo "bench.sh: BENCH_QUICK: $BENCH_ROUNDS round, $BENCH_TAR_ENTRIES tar entries, $BENCH_MB MiB," \
		"$BENCH_FILES files, 4 x $BENCH_PAR_FILES parallel creates, $BENCH_SQL_TXNS SQLite txns, ${BENCH_RAND_SECS} s random I/O"
fi

for f in kmod/modalfs.ko userd/modalfsd tools/modalfsctl; do
	[ -e "$REPO/$f" ] || die "$f missing: run make first"
done
command -v fio > /dev/null || die "fio missing (apt-get install fio)"
mkdir -p "$B" || die "cannot create $B"

# The guest runs the host's binaries, so the FUSE server is built here.
# -Wall only: the upstream example is not -Wextra clean.
if [ ! -x "$PT" ] || [ "$PT_SRC" -nt "$PT" ]; then
	if [ -r "$PT_SRC" ] && pkg-config --exists fuse3; then
		# shellcheck disable=SC2046	# pkg-config's flags are words
		cc -Wall -O2 -o "$PT" "$PT_SRC" $(pkg-config --cflags --libs fuse3) \
			|| echo "bench.sh: building passthrough_ll failed; the fuse row will be n/a" >&2
	else
		echo "bench.sh: $PT_SRC or fuse3's pkg-config missing (libfuse3-dev); the fuse row will be n/a" >&2
	fi
fi

# The untar workload's tarball: /usr/include (or its first
# BENCH_TAR_ENTRIES entries in name order), with fixed owner and mtime,
# so that every row and every run unpacks the same bytes.
N=${BENCH_TAR_ENTRIES:-9051}
export BENCH_TARBALL=$B/include-$N.tar
(cd /usr && find include | LC_ALL=C sort | { if [ "$N" -gt 0 ]; then head -n "$N"; else cat; fi; }) > "$B/tar.list.new"
if [ ! -s "$BENCH_TARBALL" ] || ! cmp -s "$B/tar.list.new" "$B/tar.list.$N"; then
	tar -C /usr --no-recursion -T "$B/tar.list.new" --owner=0 --group=0 --numeric-owner \
		--mtime='2026-01-01 00:00:00Z' -cf "$BENCH_TARBALL" || die "cannot build $BENCH_TARBALL"
	mv "$B/tar.list.new" "$B/tar.list.$N"
fi
rm -f "$B/tar.list.new"

rm -rf "$B/raw"
export VM_ENV="${VM_ENV:-} BENCH_MB BENCH_FILES BENCH_RAND_SECS BENCH_FS BENCH_PASSTHROUGH
	BENCH_ROUNDS BENCH_PAR_FILES BENCH_SQL_TXNS BENCH_TARBALL BENCH_MODALFSD_B"
date=$(date -u '+%Y-%m-%d %H:%M UTC')
load=$(cut -d' ' -f1-3 /proc/loadavg)
# Other VMs on this host change every number: the load goes into the table.
echo "bench.sh: host before: $(uptime)"
start=$SECONDS
"$REPO/tests/vm/vm.sh" --timeout "${BENCH_TIMEOUT:-7200}" --mem "${BENCH_MEM:-3G}" --log "$B/console.log" \
	--out "$B/raw" -- tests/bench/guest.sh
rc=$?
secs=$((SECONDS - start))
echo "bench.sh: host after ${secs} s: $(uptime)"

if [ ! -s "$B/raw/results.tsv" ]; then
	echo "bench.sh: the VM produced no results (status $rc); console in $B/console.log" >&2
	[ "$rc" -ne 0 ] || rc=1
	exit "$rc"
fi
/usr/bin/python3 "$HERE/report.py" "$B/raw/results.tsv" "$B/results.json" "$B/results.tsv" "$B/bench.png" \
	"date=$date" "host_load=$load" "host_load_end=$(cut -d' ' -f1-3 /proc/loadavg)" \
	"host_cpus=$(nproc)" "vm_secs=$secs" "vm_status=$rc" "quick=${BENCH_QUICK:-0}" \
	"commit=$(git -C "$REPO" describe --always --dirty 2> /dev/null || echo unknown)" || rc=1
echo "bench.sh: $B/results.json, $B/results.tsv, $B/results.md, $B/bench.png; VM run ${secs} s, status $rc"
exit "$rc"
