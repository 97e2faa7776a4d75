# A disk with a volatile write cache, for power cuts (tests/fault/powercut.sh).
#
#   nbdkit -U SOCK python tests/fault/cutdisk.py file=IMG journal=JOURNAL
#   python3 tests/fault/cutdisk.py settle IMG JOURNAL drop|subset SEED
#
# As an nbdkit plugin it serves IMG, but a write reaches IMG only when a
# later flush completes: until then it lives in memory (reads see it) and
# is appended to JOURNAL. A FUA write is a write plus a flush (nbdkit
# emulates it). After the power cut (nbdkit and QEMU killed with SIGKILL)
# "settle" decides what the cut left on the platters from JOURNAL, the
# writes no completed flush covered:
#   drop    none of them (the write cache was lost whole);
#   subset  each one independently, in order, with probability 1/2 (the
#           cache had written some back in any order: reordered writes).
# It prints how many writes were pending and how many it kept.
import os
import random
import struct
import sys

API_VERSION = 2
PAGE = 4096
REC = struct.Struct("<QI")	# offset, length; then the bytes

img_path = None
journal_path = None


def config(key, value):
    global img_path, journal_path
    if key == "file":
        img_path = os.path.abspath(value)
    elif key == "journal":
        journal_path = os.path.abspath(value)
    else:
        raise RuntimeError("unknown parameter " + key)


def config_complete():
    if not img_path or not journal_path:
        raise RuntimeError("file= and journal= are required")


class Disk:
    def __init__(self):
        self.fd = os.open(img_path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.dirty = {}		# page number -> bytearray(PAGE)
        self.jfd = os.open(journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


def open(readonly):
    return Disk()


def close(h):
    # A clean disconnect (QEMU exiting) has flushed what it wanted kept.
    os.close(h.fd)
    os.close(h.jfd)


def get_size(h):
    return h.size


def can_write(h):
    return True


def can_flush(h):
    return True


def can_fua(h):
    return nbdkit.FUA_EMULATE


def can_multi_conn(h):
    return False


def _page(h, n):
    p = h.dirty.get(n)
    if p is None:
        p = bytearray(os.pread(h.fd, PAGE, n * PAGE).ljust(PAGE, b"\0"))
        h.dirty[n] = p
    return p


def pread(h, buf, offset, flags):
    n = len(buf)
    buf[:] = os.pread(h.fd, n, offset).ljust(n, b"\0")
    if not h.dirty:
        return
    first, last = offset // PAGE, (offset + n - 1) // PAGE
    for pg in range(first, last + 1):
        p = h.dirty.get(pg)
        if p is None:
            continue
        lo = max(offset, pg * PAGE)
        hi = min(offset + n, (pg + 1) * PAGE)
        buf[lo - offset:hi - offset] = p[lo - pg * PAGE:hi - pg * PAGE]


def pwrite(h, buf, offset, flags):
    data = bytes(buf)
    os.write(h.jfd, REC.pack(offset, len(data)) + data)
    pos = 0
    while pos < len(data):
        pg, off = divmod(offset + pos, PAGE)
        k = min(PAGE - off, len(data) - pos)
        _page(h, pg)[off:off + k] = data[pos:pos + k]
        pos += k


def flush(h, flags):
    for pg, p in sorted(h.dirty.items()):
        os.pwrite(h.fd, bytes(p[:max(0, min(PAGE, h.size - pg * PAGE))]), pg * PAGE)
    os.fdatasync(h.fd)
    h.dirty.clear()
    os.ftruncate(h.jfd, 0)
    os.lseek(h.jfd, 0, os.SEEK_SET)


def settle(img, journal, mode, seed):
    rnd = random.Random(seed)
    pending = kept = 0
    with builtins_open(journal, "rb") as j:
        data = j.read()
    fd = os.open(img, os.O_RDWR)
    pos = 0
    while pos + REC.size <= len(data):
        off, n = REC.unpack_from(data, pos)
        pos += REC.size
        if pos + n > len(data):
            break	# torn at the kill: never acknowledged
        pending += 1
        if mode == "subset" and rnd.random() < 0.5:
            os.pwrite(fd, data[pos:pos + n], off)
            kept += 1
        pos += n
    os.fsync(fd)
    os.close(fd)
    os.unlink(journal)
    print("%d writes not covered by a flush, %d kept (%s)" % (pending, kept, mode))


try:
    import nbdkit	# loaded by nbdkit (which runs it as __main__ too)
except ImportError:
    import builtins
    builtins_open = builtins.open
    if len(sys.argv) != 6 or sys.argv[1] != "settle" or sys.argv[4] not in ("drop", "subset"):
        sys.exit("usage: cutdisk.py settle IMG JOURNAL drop|subset SEED")
    settle(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
