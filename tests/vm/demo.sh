#!/bin/bash
# make demo: boot a VM, create the persisted volume job-storage-vol, mount
# it at /root/cache and run the shelve cache example twice: the first run
# computes (cache miss), the second finds the value (cache hit).
# The state disk is build/vm/demo-state.img, so a second `make demo`
# starts with a warm cache.
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../.." && pwd)/build}
exec "$HERE/vm.sh" --state "$BUILD/vm/demo-state.img" --timeout 600 -- bash -c '
set -e
say() { echo; echo ">>> $*"; }
. tests/lib.sh
say "insmod kmod/modalfs.ko"
load_module
say "modalfsd --state-dir /var/lib/modalfs/demo (in the background)"
start_daemon /var/lib/modalfs/demo
say "modalfsctl persisted job-storage-vol"
modalfsctl persisted job-storage-vol
say "mount -t modalfs job-storage-vol:/ /root/cache"
mkdir -p /root/cache
mount -t modalfs job-storage-vol:/ /root/cache
grep " /root/cache " /proc/mounts
say "first run: /usr/bin/python3 tests/demo/shelve_cache.py"
/usr/bin/python3 tests/demo/shelve_cache.py modalfs walking-skeleton
say "second run: the values now come from the cache"
/usr/bin/python3 tests/demo/shelve_cache.py modalfs walking-skeleton
say "what the volume holds"
ls -la /root/cache
modalfsctl list
say "umount, stop the daemon, rmmod"
umount /root/cache
stop_daemon
rmmod modalfs
say "demo finished"
'
