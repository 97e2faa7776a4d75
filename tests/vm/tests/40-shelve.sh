#!/bin/bash
# Product brief scenario 1, the shared shelve cache: N processes, each in
# its own mount of one volume, run expensive_computation() over
# overlapping keys with shelve guarded by flufl.lock (which relies on
# exact st_nlink). Every key must be computed exactly once and the shelve
# must be readable afterwards through any mount.
. "$(dirname "$0")/../../lib.sh"
plan 29

VOL=vmtest-shelve
NPROC=4
KEYS=(alpha beta gamma delta epsilon zeta)

require_root

cleanup() {
	local i
	for ((i = 1; i <= NPROC; i++)); do
		is_mounted "$TEST_TMP/m$i" && umount "$TEST_TMP/m$i"
	done
	stop_daemon
}
TEST_CLEANUP=cleanup

step "load the module, start the daemon, create $VOL"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish

step "mount $VOL $NPROC times"
for ((i = 1; i <= NPROC; i++)); do
	mkdir -p "$TEST_TMP/m$i"
	check "mount -t modalfs $VOL:/ m$i" mount -t modalfs "$VOL:/" "$TEST_TMP/m$i" || finish
done

step "a hard link made through one mount counts in every mount"
echo x > "$TEST_TMP/m1/nlink-probe"
# link(2) never crosses vfsmounts (EXDEV), even of one superblock.
check "ln within m2" ln "$TEST_TMP/m2/nlink-probe" "$TEST_TMP/m2/nlink-probe2"
expect_eq "st_nlink through m3 after link" 2 "$(stat -c %h "$TEST_TMP/m3/nlink-probe")"
rm "$TEST_TMP/m4/nlink-probe2"
expect_eq "st_nlink through m1 after unlink" 1 "$(stat -c %h "$TEST_TMP/m1/nlink-probe")"
rm "$TEST_TMP/m1/nlink-probe"

step "$NPROC workers, one per mount, over ${#KEYS[@]} overlapping keys"
pids=()
for ((i = 1; i <= NPROC; i++)); do
	# Each worker walks the keys from a different starting point, so
	# they collide on every key.
	order=("${KEYS[@]:i-1}" "${KEYS[@]:0:i-1}")
	CACHE_DIR=$TEST_TMP/m$i COMPUTE_SECONDS=0.3 \
		"$PYTHON" "$MODALFS_REPO/tests/demo/shelve_cache.py" "${order[@]}" \
		> "$TEST_TMP/worker$i.out" 2>&1 &
	pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
expect_eq "every worker exits 0" 0 "$rc"
cat "$TEST_TMP"/worker*.out | sed 's/^/    | /'
for k in "${KEYS[@]}"; do
	expect_eq "key $k computed exactly once" 1 \
		"$(cat "$TEST_TMP"/worker*.out | grep -c "^cache miss for $k,")"
done
expect_eq "every other lookup was a hit" $((NPROC * ${#KEYS[@]} - ${#KEYS[@]})) \
	"$(cat "$TEST_TMP"/worker*.out | grep -c '^cache hit for ')"

step "the shelve reads back through another mount"
got=$("$PYTHON" - "$TEST_TMP/m2/shelve" <<'PY'
import shelve, sys
with shelve.open(sys.argv[1], flag="r") as c:
    print(" ".join(f"{k}={c[k]}" for k in sorted(c.keys())))
PY
)
want=$(for k in "${KEYS[@]}"; do
	"$PYTHON" -c 'import sys; k=sys.argv[1]; print(f"{k}={k.upper()}-{sum(map(ord, k))}")' "$k"
done | sort | tr '\n' ' ')
expect_eq "shelve holds every key with its value" "${want% }" "$got"
ls_lacks "no lock file left behind" "$TEST_TMP/m1" 'shelve\.lock'

step "unmount, stop the daemon, unload the module"
for ((i = 1; i <= NPROC; i++)); do
	check "umount m$i" umount "$TEST_TMP/m$i"
done
check_stop_and_unload

check_dmesg_clean
finish
