#!/usr/bin/python3
# Metadata workloads of make bench, one timed phase per call:
#   meta.py create DIR N       open(O_CREAT|O_EXCL) + write 1 KiB + close
#                              N files in DIR/meta, then syncfs(2) of DIR's
#                              file system (timed, so deferred writeback is
#                              not free)
#   meta.py stat DIR N         stat() each of them (guest.sh drops the
#                              caches first, so a network file system has
#                              to look every name up again)
#   meta.py unlink DIR N       unlink() each, then syncfs
#   meta.py parcreate DIR N P  P processes each create N empty files in a
#                              directory of their own, in parallel, syncfs
# Prints the operations per second of the phase.
import ctypes
import os
import sys
import time

phase, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
payload = b"m" * 1024
# Python has no os.syncfs (3.11 included). An fsync of the directory,
# which this script used to fall back to, syncs the directory alone: the
# files' data stayed in a writeback cache (fuse-wb, NFS, modalfs) and the
# rows with deferred writeback got their creates for free.
_libc = ctypes.CDLL(None, use_errno=True)


def syncfs(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc.syncfs(fd) != 0:
            e = ctypes.get_errno()
            sys.exit("meta.py: syncfs(%s): %s" % (path, os.strerror(e)))
    finally:
        os.close(fd)


def names(top, count):
    return [os.path.join(top, "f%05d" % i) for i in range(count)]


top = os.path.join(d, "meta")
if phase == "create":
    os.mkdir(top)
    t0 = time.monotonic()
    for p in names(top, n):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, payload)
        os.close(fd)
    syncfs(d)
    ops = n
elif phase == "stat":
    t0 = time.monotonic()
    for p in names(top, n):
        if os.stat(p).st_size != len(payload):
            sys.exit("meta.py: %s has the wrong size" % p)
    ops = n
elif phase == "unlink":
    t0 = time.monotonic()
    for p in names(top, n):
        os.unlink(p)
    syncfs(d)
    ops = n
    os.rmdir(top)
elif phase == "parcreate":
    nproc = int(sys.argv[4])
    tops = [os.path.join(d, "par%d" % i) for i in range(nproc)]
    for t in tops:
        os.mkdir(t)
    r, w = os.pipe()
    pids = []
    for t in tops:
        pid = os.fork()
        if pid == 0:
            os.close(w)
            os.read(r, 1)  # start together
            for p in names(t, n):
                os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            os._exit(0)
        pids.append(pid)
    os.close(r)
    t0 = time.monotonic()
    os.write(w, b"g" * nproc)
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        if st:
            sys.exit("meta.py: a creating process failed (status %d)" % st)
    syncfs(d)
    ops = n * nproc
    el = time.monotonic() - t0
    for t in tops:
        for p in names(t, n):
            os.unlink(p)
        os.rmdir(t)
    print("%.0f" % (ops / el))
    sys.exit(0)
else:
    sys.exit("meta.py: unknown phase " + phase)
print("%.0f" % (ops / (time.monotonic() - t0)))
