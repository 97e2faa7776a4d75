#!/bin/bash
# Prove the scenario drivers on a local filesystem (tmpfs by default), so
# a failure of 75-podcast / 76-datasette means the filesystem, not the
# test: the good runs must pass, and each deliberately broken run (a
# flipped byte, metadata rewritten in place, a transaction applied half,
# a lost row) must be caught.  Needs no root:
#   tests/scenarios/selftest.sh [DIR]        (default: a dir in /dev/shm)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
BASE=${1:-/dev/shm}
W=$(mktemp -d "$BASE/scenarios-selftest.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
fails=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fails=$((fails + 1)); }
expect() {	# expect 0|1 DESCRIPTION COMMAND...: the command's status
	local want=$1 what=$2 rc
	shift 2
	"$@" > "$W/out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && rc=1
	if [ $rc = "$want" ]; then ok "$what"; else sed 's/^/    | /' "$W/out" | tail -n 5; bad "$what"; fi
}

# podcast ------------------------------------------------------------------
SIZE=$((6 * 1048576 + 4321))
pipeline() {	# pipeline DIR [--unsafe-meta]: 2 producers x 2, 2 transcribers
	local d=$1 p rc=0 pids=()
	shift
	mkdir -p "$d"
	for p in 0 1; do "$PY" "$HERE/podcast.py" produce "$d" $p 2 "$SIZE" "$@" > "$d.p$p" 2>&1 & pids+=($!); done
	for p in 0 1; do "$PY" "$HERE/podcast.py" transcribe "$d" 4 120 > "$d.t$p" 2>&1 & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
expect 0 "podcast: a clean pipeline passes" pipeline "$W/pod"
expect 0 "podcast: verify passes byte by byte" "$PY" "$HERE/podcast.py" verify "$W/pod" 2 2 "$SIZE"
expect 0 "podcast: verify --crc-only passes" "$PY" "$HERE/podcast.py" verify "$W/pod" 2 2 "$SIZE" --crc-only
printf 'X' | dd of="$W/pod/audio/ep-1-1.raw" bs=1 seek=5000000 conv=notrunc status=none
expect 1 "podcast: verify catches a flipped byte" "$PY" "$HERE/podcast.py" verify "$W/pod" 2 2 "$SIZE"
expect 1 "podcast: verify --crc-only catches a flipped byte" "$PY" "$HERE/podcast.py" verify "$W/pod" 2 2 "$SIZE" --crc-only
truncate -s $((SIZE - 1)) "$W/pod/audio/ep-0-0.raw"
expect 1 "podcast: verify catches a short file" "$PY" "$HERE/podcast.py" verify "$W/pod" 2 2 "$SIZE"
SIZE=$((40 * 1048576))
expect 1 "podcast: transcribers catch metadata rewritten in place (torn reads)" pipeline "$W/pod2" --unsafe-meta
grep -q '^TORN ' "$W"/pod2.t* || bad "... and say TORN"

# datasette ----------------------------------------------------------------
sqlrun() {	# sqlrun DIR MODE NTXN [--unsafe]: 1 writer, 2 readers
	local d=$1 mode=$2 n=$3 p rc=0 pids=()
	shift 3
	mkdir -p "$d"
	"$PY" "$HERE/datasette.py" write "$d/db.sqlite" "$mode" "$n" "$d.log" "$d.done" "$@" > "$d.w" 2>&1 & pids+=($!)
	for p in 1 2; do "$PY" "$HERE/datasette.py" read "$d/db.sqlite" "$d.done" 120 > "$d.r$p" 2>&1 & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	return $rc
}
for mode in delete wal; do
	expect 0 "datasette $mode: writer + readers pass" sqlrun "$W/ds-$mode" $mode 400
	expect 0 "datasette $mode: check passes" "$PY" "$HERE/datasette.py" check "$W/ds-$mode/db.sqlite" "$W/ds-$mode.log" 400
	"$PY" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM t WHERE c = 17"); c.commit()' "$W/ds-$mode/db.sqlite"
	expect 1 "datasette $mode: check catches a lost row" "$PY" "$HERE/datasette.py" check "$W/ds-$mode/db.sqlite" "$W/ds-$mode.log" 400
	echo "401 2000" >> "$W/ds-$mode.log"
	expect 1 "datasette $mode: check catches a lost commit" "$PY" "$HERE/datasette.py" check "$W/ds-$mode/db.sqlite" "$W/ds-$mode.log"
	if [ $mode = wal ]; then
		c=$W/ds-walc
		mkdir -p "$c"
		"$PY" "$HERE/datasette.py" write "$c/db.sqlite" wal 30 "$c.log" "$c.done" > /dev/null
		expect 0 "datasette wal: a writer exits leaving its commits in the -wal" "$PY" "$HERE/datasette.py" \
			write "$c/db.sqlite" wal 10 "$c.log" "$c.done" --no-checkpoint
		test -s "$c/db.sqlite-wal" || bad "... and the -wal file has them"
		expect 0 "datasette wal: check recovers them from the -wal" "$PY" "$HERE/datasette.py" \
			check "$c/db.sqlite" "$c.log" 40
		"$PY" "$HERE/datasette.py" write "$c/db.sqlite" wal 5 "$c.log" "$c.done" --no-checkpoint > /dev/null
		rm "$c/db.sqlite-wal"
		expect 1 "datasette wal: check catches the loss of the -wal" "$PY" "$HERE/datasette.py" \
			check "$c/db.sqlite" "$c.log" 45
	fi
	expect 1 "datasette $mode: readers catch half-applied transactions" sqlrun "$W/dsu-$mode" $mode 3000 --unsafe
	grep -q '^BROKEN ' "$W/dsu-$mode".r* || bad "... and say BROKEN"
done
echo "selftest: $fails failed"
[ $fails -eq 0 ]
