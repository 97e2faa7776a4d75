#!/bin/bash
# A store written by the previous version (format 1: file data inside
# LMDB; tests/vm/data/format1-store.mdb.xz, made by gen-format1.c against
# modalfs 0.1) is converted when modalfsd first opens it: the daemon says
# so, every file reads back byte-exact through a mount (sizes, a sparse
# file, an empty one, a symlink, an xattr), the data now lies in the block
# store, --check is clean, and a second start converts nothing.
. "$(dirname "$0")/../../lib.sh"

VOL=legacy
MNT=$TEST_TMP/mnt
STATE=$TEST_TMP/state
require_root
plan 23
mkdir -p "$MNT" "$STATE"
cleanup() { is_mounted "$MNT" && umount "$MNT"; stop_daemon; }
TEST_CLEANUP=cleanup

step "a format-1 store"
check "unpack the format-1 store" "$PYTHON" -c '
import lzma, sys
open(sys.argv[2], "wb").write(lzma.open(sys.argv[1]).read())' \
	"$MODALFS_REPO/tests/vm/data/format1-store.mdb.xz" "$STATE/data.mdb" || finish
out=$("$MODALFSD" --check --state-dir "$STATE" 2>&1)
expect_match "--check names the old format" "format 1 .*modalfsd converts it" "$out"

step "the first start converts it"
run_check "insmod" load_module || finish
run_check "modalfsd registers" start_daemon "$STATE" || finish
expect_match "the daemon says it converted the store" \
	"converted the store to format 2: [0-9]+ blocks" "$(cat "$MODALFSD_LOG")"
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
sums() {
	for f in small big dir/sparse dir/empty; do
		echo "$f $(stat -c %s "$MNT/$f") $(sha256sum < "$MNT/$f" | cut -d' ' -f1)"
	done
}
want="small 1000 926527e33e25bd07b4c70e36623d001c4d5f80ccea98b13e8944a3460ea536da
big 5255225 395bc8569d7351ef3bdf6226eb40f8569ee1c8120f6234f8b8bceb01a1f2b328
dir/sparse 9507284 4f4805bb81b5c047a5dcfced7f4f23ef4e7f0c2f90e7eae10fe7a6077729e3dc
dir/empty 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
drop_caches
expect_eq "every file byte-exact (size and sha256)" "$want" "$(sums)"
expect_eq "the symlink" "dir/sparse" "$(readlink "$MNT/link")"
expect_eq "the xattr" "v1" "$("$PYTHON" -c 'import os, sys; print(os.getxattr(sys.argv[1], "user.k").decode())' "$MNT/dir/empty" 2>&1)"
blocks=$(du -sk "$STATE/blocks" | cut -f1)
echo "    | block store: $blocks KiB"
check "the data is in the block store now (>= 5 MiB)" test "$blocks" -ge 5120
check "umount" umount "$MNT"
run_check "modalfsd exits 0" stop_daemon
check "modalfsd --check on the converted store" "$MODALFSD" --check --state-dir "$STATE"

step "a second start converts nothing"
run_check "modalfsd registers again" start_daemon "$STATE" || finish
check_fails "no conversion this time" grep -q "converting the store" "$MODALFSD_LOG"
check "mount $VOL" mount -t modalfs "$VOL:/" "$MNT" || finish
drop_caches
expect_eq "still byte-exact" "$want" "$(sums)"
check "umount" umount "$MNT"
check_stop_and_unload
check_dmesg_clean
finish
