#!/usr/bin/python3
# Metadata workload of make bench:
#   meta.py DIR NFILES
# Three timed phases over NFILES files of 1 KiB in a fresh directory:
#   create  open(O_CREAT|O_EXCL) + write + close each file, then sync();
#           the sync is timed because a file system that defers the write
#           (page cache) would otherwise look cheaper than one that sends
#           it on close (NFS close-to-open)
#   stat    stat() each file after dropping the dentry/inode caches, so a
#           network file system has to look every name up again (tmpfs
#           cannot drop them: it is its own storage)
#   unlink  unlink() each file
# Prints one line "create_ops stat_ops unlink_ops total_ops" (operations
# per second; total = 3 * NFILES over the sum of the three phases).
import os
import sys
import time

d, n = sys.argv[1], int(sys.argv[2])
top = os.path.join(d, "meta")
os.mkdir(top)
names = [os.path.join(top, "f%05d" % i) for i in range(n)]
payload = b"m" * 1024


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


t0 = time.monotonic()
for p in names:
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, payload)
    os.close(fd)
os.sync()
t_create = time.monotonic() - t0

drop_caches()
t0 = time.monotonic()
for p in names:
    if os.stat(p).st_size != len(payload):
        sys.exit("meta.py: %s has the wrong size" % p)
t_stat = time.monotonic() - t0

t0 = time.monotonic()
for p in names:
    os.unlink(p)
t_unlink = time.monotonic() - t0
os.rmdir(top)

print("%.0f %.0f %.0f %.0f" % (n / t_create, n / t_stat, n / t_unlink,
                               3 * n / (t_create + t_stat + t_unlink)))
