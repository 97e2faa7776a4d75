#!/bin/bash
# Product brief scenario 5, the podcast pipeline: producer processes write
# raw audio (deterministic bytes from a seed) and publish JSON metadata by
# tmp + rename, while transcriber processes poll the metadata, claim
# episodes with O_EXCL, checksum the audio and publish transcripts; every
# process in its own mount of one volume. No reader may ever parse a torn
# metadata file (rename is atomic), and after unmount + drop_caches every
# byte and every transcript must be right. Driver: tests/scenarios/podcast.py
# (tests/scenarios/selftest.sh proves its checks on tmpfs).
# Normal: 2 producers x 2 episodes x 32 MiB (66 s under TCG at host load 7,
# 158 s at load 13); MODALFS_LONG=1: 3 x 4 x 48 MiB (~6.5 min).
. "$(dirname "$0")/../../lib.sh"
plan 25

VOL=vmtest-podcast
DRIVER=$MODALFS_REPO/tests/scenarios/podcast.py
if [ -n "${MODALFS_LONG:-}" ]; then
	PRODUCERS=3 NFILES=4 MB=48 TIMEOUT=1800
else
	PRODUCERS=2 NFILES=2 MB=32 TIMEOUT=300
fi
PRODUCERS=${PODCAST_PRODUCERS:-$PRODUCERS}
NFILES=${PODCAST_FILES:-$NFILES}
MB=${PODCAST_MB:-$MB}
TRANSCRIBERS=2
# Not a multiple of the page size, so the tail page is checked too.
SIZE=$((MB * 1048576 + 4321))
TOTAL=$((PRODUCERS * NFILES))
NMOUNT=$((PRODUCERS + TRANSCRIBERS))

require_root
tstep() { step "$* (at ${SECONDS}s)"; }

cleanup() {
	local i
	for ((i = 1; i <= NMOUNT; i++)); do
		is_mounted "$TEST_TMP/m$i" && umount "$TEST_TMP/m$i"
	done
	stop_daemon
}
TEST_CLEANUP=cleanup

tstep "load the module, start the daemon, create $VOL, mount it $NMOUNT times"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
"$MODALFSCTL" delete "$VOL" >/dev/null 2>&1	# left over from an earlier run
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
for ((i = 1; i <= NMOUNT; i++)); do
	mkdir -p "$TEST_TMP/m$i"
	check "mount -t modalfs $VOL:/ m$i" mount -t modalfs "$VOL:/" "$TEST_TMP/m$i" || finish
done
# The producers create these too; made first so the transcribers'
# listings never race the mkdir.
mkdir -p "$TEST_TMP"/m1/pod/{audio,meta,claims,transcripts}

tstep "$PRODUCERS producers ($NFILES x $MB MiB each) and $TRANSCRIBERS transcribers in parallel"
pids=()
for ((i = 1; i <= PRODUCERS; i++)); do
	"$PYTHON" "$DRIVER" produce "$TEST_TMP/m$i/pod" $((i - 1)) "$NFILES" "$SIZE" \
		> "$TEST_TMP/producer$i.out" 2>&1 &
	pids+=($!)
done
for ((j = 1; j <= TRANSCRIBERS; j++)); do
	"$PYTHON" "$DRIVER" transcribe "$TEST_TMP/m$((PRODUCERS + j))/pod" "$TOTAL" "$TIMEOUT" \
		> "$TEST_TMP/transcriber$j.out" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
t_pipe=$SECONDS
expect_eq "every producer and transcriber exits 0" 0 "$rc"
grep -h -E '^(summary|TORN|ERROR|Traceback|  File|[A-Za-z]*Error)' "$TEST_TMP"/transcriber*.out \
	"$TEST_TMP"/producer*.out | head -n 40 | sed 's/^/    | /'
expect_eq "episodes produced" "$TOTAL" "$(cat "$TEST_TMP"/producer*.out | grep -c '^produced ')"
expect_eq "episodes transcribed (each exactly once)" "$TOTAL" \
	"$(cat "$TEST_TMP"/transcriber*.out | grep -c '^transcribed ')"
expect_eq "torn metadata reads" 0 "$(cat "$TEST_TMP"/transcriber*.out | grep -c '^TORN ')"
parses=$(sed -n 's/^summary parses=\([0-9]*\).*/\1/p' "$TEST_TMP"/transcriber*.out |
	awk '{ s += $1 } END { print s + 0 }')
echo "    | $parses metadata files parsed while the producers rewrote them"
check "the transcribers parsed metadata while it was being replaced (> $TOTAL)" test "$parses" -gt "$TOTAL"

# The transcribers already checked every episode's size and CRC-32 (which
# the producers took of the generator's bytes) warm, through mounts other
# than the producers'; what is left is the daemon's copy.
tstep "unmount, drop_caches, mount again, verify byte by byte"
for ((i = 1; i <= NMOUNT; i++)); do
	check "umount m$i" umount "$TEST_TMP/m$i"
done
t_umount=$SECONDS	# the last umount writes back what the producers left dirty
drop_caches
check "mount again" mount -t modalfs "$VOL:/" "$TEST_TMP/m1" || finish
t_mount=$SECONDS
if "$PYTHON" "$DRIVER" verify "$TEST_TMP/m1/pod" "$PRODUCERS" "$NFILES" "$SIZE" > "$TEST_TMP/verify.out" 2>&1; then
	pass "every byte, metadata and transcript right from the daemon (cold)"
else
	sed 's/^/    | /' "$TEST_TMP/verify.out" | head -n 20
	fail "every byte, metadata and transcript right from the daemon (cold)"
fi
echo "    | $((TOTAL * MB)) MiB of audio: pipeline done at ${t_pipe}s, unmounted at ${t_umount}s," \
	"verified at ${SECONDS}s"
check "umount m1" umount "$TEST_TMP/m1"
check "modalfsctl delete $VOL" "$MODALFSCTL" delete "$VOL"

check_stop_and_unload
check_dmesg_clean
finish
