#!/bin/bash
# readdir while entries are renamed and directories moved: a directory of
# 800 stable files and 200 churning names; one process renames the
# churning files within it, to a second directory and back, and moves
# subdirectories (with contents) in and out, while two others list it
# again and again (getdents through os.scandir), for 4 s (30 s with
# MODALFS_LONG=1). In every listing pass:
# no name twice, every stable file present, nothing that never existed,
# no error. Once the churn stops, the listing is exactly the model's, and
# the same after a remount. Runs on tmpfs first, which proves the checker.
. "$(dirname "$0")/../../lib.sh"
plan 24

VOL=vmtest-rdchurn
MNT=$TEST_TMP/mnt
BIN=$TEST_TMP/churn.py
if [ -n "${MODALFS_LONG:-}" ]; then SECS=30; else SECS=4; fi
SECS=${READDIR_CHURN_SECONDS:-$SECS}
require_root
mkdir -p "$MNT"
cleanup() {
	is_mounted "$MNT" && umount "$MNT"
	stop_daemon
}
TEST_CLEANUP=cleanup

cat > "$BIN" <<'PY_EOF'
# churn.py setup DIR | churn DIR SECS | list DIR SECS | final DIR
import json, os, random, sys, time
NS, NC, ND = 800, 200, 20
cmd, d = sys.argv[1], sys.argv[2]
A, Bd = os.path.join(d, "a"), os.path.join(d, "b")
valid = ({"stable%04d" % i for i in range(NS)} |
         {"c%03d.%d" % (i, g) for i in range(NC) for g in range(2)} |
         {"sub%02d" % i for i in range(ND)})

if cmd == "setup":
    os.makedirs(A)
    os.makedirs(Bd)
    for i in range(NS):
        open(os.path.join(A, "stable%04d" % i), "w").close()
    for i in range(NC):
        open(os.path.join(A, "c%03d.0" % i), "w").close()
    for i in range(ND):
        os.makedirs(os.path.join(A, "sub%02d" % i, "inner"))
    sys.exit(0)

if cmd == "churn":
    secs = float(sys.argv[3])
    rnd = random.Random(7)
    where = {i: (A, 0) for i in range(NC)}		# churning file i: dir, gen
    subs = {i: A for i in range(ND)}
    n = 0
    end = time.time() + secs
    while time.time() < end:
        if rnd.random() < 0.8:
            i = rnd.randrange(NC)
            dd, g = where[i]
            nd = rnd.choice((A, Bd))
            ng = 1 - g
            os.rename(os.path.join(dd, "c%03d.%d" % (i, g)), os.path.join(nd, "c%03d.%d" % (i, ng)))
            where[i] = (nd, ng)
        else:
            i = rnd.randrange(ND)
            nd = Bd if subs[i] == A else A
            os.rename(os.path.join(subs[i], "sub%02d" % i), os.path.join(nd, "sub%02d" % i))
            subs[i] = nd
        n += 1
    model = sorted(["stable%04d" % i for i in range(NS)] +
                   ["c%03d.%d" % (i, where[i][1]) for i in range(NC) if where[i][0] == A] +
                   ["sub%02d" % i for i in range(ND) if subs[i] == A])
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(model, f)
    print("churn: %d renames" % n)
    sys.exit(0)

if cmd == "list":
    secs = float(sys.argv[3])
    stable = {"stable%04d" % i for i in range(NS)}
    passes = dup = missing = bogus = 0
    end = time.time() + secs
    while time.time() < end:
        names = [e.name for e in os.scandir(A)]
        s = set(names)
        passes += 1
        dup += len(names) - len(s)
        missing += len(stable - s)
        bogus += len(s - valid)
    print("list: %d passes, %d duplicates, %d stable names missing, %d never-existing names"
          % (passes, dup, missing, bogus))
    sys.exit(1 if dup or missing or bogus or passes < 3 else 0)

if cmd == "final":
    with open(os.path.join(d, "model.json")) as f:
        model = json.load(f)
    got = sorted(os.listdir(A))
    print("final: %d names, model %d; only listed %s; only in the model %s"
          % (len(got), len(model), sorted(set(got) - set(model))[:5], sorted(set(model) - set(got))[:5]))
    sys.exit(0 if got == model else 1)
PY_EOF

# churn_run DIR LABEL: setup, then the churn and two listers at once.
churn_run() {
	local d=$1 l=$2 c l1 l2 rc
	check "$l: set up 800 stable files, 200 churning, 20 subdirectories" "$PYTHON" "$BIN" setup "$d" || return 1
	"$PYTHON" "$BIN" churn "$d" "$SECS" > "$TEST_TMP/churn.out" 2>&1 & c=$!
	"$PYTHON" "$BIN" list "$d" "$SECS" > "$TEST_TMP/list1.out" 2>&1 & l1=$!
	"$PYTHON" "$BIN" list "$d" "$SECS" > "$TEST_TMP/list2.out" 2>&1 & l2=$!
	wait $c; rc=$?
	sed 's/^/    | /' "$TEST_TMP/churn.out"
	expect_eq "$l: the renames ran without an error" 0 "$rc"
	wait $l1; rc=$?
	sed 's/^/    | /' "$TEST_TMP/list1.out"
	expect_eq "$l: lister 1: every pass exact (no duplicate, no stable name missing)" 0 "$rc"
	wait $l2; rc=$?
	sed 's/^/    | /' "$TEST_TMP/list2.out"
	expect_eq "$l: lister 2: every pass exact" 0 "$rc"
	check "$l: once the churn stopped the listing is the model's" "$PYTHON" "$BIN" final "$d"
}

step "on tmpfs (proves the checker)"
mkdir -p "$TEST_TMP/ref"
churn_run "$TEST_TMP/ref" tmpfs
rm -rf "$TEST_TMP/ref"

step "on modalfs"
run_check "insmod modalfs.ko" load_module || finish
run_check "modalfsd registers with the kernel" start_daemon "$TEST_DAEMON_DIR" || finish
check "modalfsctl persisted $VOL" "$MODALFSCTL" persisted "$VOL" || finish
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
rm -rf "$MNT/rd" && mkdir "$MNT/rd"
churn_run "$MNT/rd" modalfs
check "umount" umount "$MNT"
check "mount again" mount -t modalfs "$VOL:/" "$MNT" || finish
check "after a remount the listing is still the model's" "$PYTHON" "$BIN" final "$MNT/rd"
check "rm -rf the test tree" rm -rf "$MNT/rd"

step "teardown"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
