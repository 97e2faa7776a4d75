#!/usr/bin/python3
"""A daemon that lies: registers with the modalfs kernel module like
modalfsd and serves one small volume (VOL_ID 7, any name) whose file and
directory names choose how it misbehaves. The kernel must fail each lie
with EIO (or drop it) and keep working.

    hostile-daemon.py [--fifo PATH]     prints "registered" once registered
    hostile-daemon.py --notify-unregistered VOL_ID
                                        sends one NOTIFY without registering
                                        and prints "notify-ack ERRNAME"

MOUNT of "/" gives the root, of "/NAME" that directory of the root.

LOOKUP in the root, by name:
  ok, ok2          a regular file (ino 10 / 13) with content CONTENT
  long-data        READ answers one byte more than asked
  short-chunk      READ answers a short DATA chunk followed by another
  dir-many         READDIR answers SIZE + 1 entries
  dir-back         READDIR cookies go backwards
  dir-zero         READDIR cookie 0 (fails the policy)
  dir-plus         READDIR whose entry's ATTR names another inode
  flip / flip-dir  the same ino, first a file then a directory
  missing-attr     ATTR without NLINK
  trunc-attr       ATTR's MODE is 2 bytes (fails the policy)
  no-attr          success without ATTR
  bad-type         mode with S_IFMT garbage (0170000)
  nlink-max        nlink 2^32-1
  size-huge        size 2^63 (fails the policy)
  errno-big        ERRNO 5000 (fails the policy)
  extra-attr       an attribute type above the maximum (fails the policy)
  oversized        ERRMSG of 600 bytes (fails the policy)
  unknown-id       first a reply to an id never sent, then the right one
  dup-reply        the right reply, twice
  slow             the right reply (a file, ino 14), 4 s late
  hang             no reply until "release" on the fifo
  nlink-zero       a regular file (ino 45) with nlink 0
  sub              an empty directory (ino 24)
  anything*        ERRNO with 8 bytes instead of 4 (fails the policy)
  (anything else)  ENOENT
READDIR of the root lists only the entries table (ok, ok2 and what
"add" put there), so a test that lists the root to the end makes it a
complete directory (kmod/complete.c) and LOOKUPs of the names above stop.

WRITE stores into the file's bytes and answers SIZE and ATTR (READ and
GETATTR then answer those bytes; "set" changes only unwritten files); SETATTR
answers the file's ATTR; UNLINK answers 0 and forgets the name. WRITE,
SETATTR and GETATTR print "got OP INO" when they arrive.

Every reply asks for an ack; each ack is printed as "ack LABEL ERRNAME"
(OK for 0). Fifo commands: "set CONTENT", "add NAME", "del NAME",
"release", "notify inval-inode INO", "notify inval-entry INO NAME",
"notify vol-gone [VOL_ID]", "notify bad-KIND" (malformed ones); each NOTIFY
prints "notify LABEL ERRNAME". "hold OP" (getattr, write, unlink, ...)
keeps every later request of that op, answered as it would have been at
arrival, until "release" (which also ends the hold); "nlink INO N" makes
GETATTR report nlink N for INO; "dropcaps" drops CAP_SYS_ADMIN from the
daemon's effective capabilities (its socket stays registered).

Attribute and command numbers come from netlink/modalfs.h itself.
"""
import ctypes
import errno
import os
import re
import select
import socket
import struct
import sys
import time

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "..", "..", "netlink", "modalfs.h")


def enum_values(text, name):
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S).group(1)
    vals, n = {}, 0
    for line in body.splitlines():
        m = re.match(r"\s*([A-Z_0-9]+)(?:\s*=\s*(\d+))?,", line)
        if m:
            n = int(m.group(2)) if m.group(2) else n
            vals[m.group(1)] = n
            n += 1
    return vals


TEXT = open(HEADER).read()
CMD = enum_values(TEXT, "modalfs_cmd")
OP = enum_values(TEXT, "modalfs_op")
A = enum_values(TEXT, "modalfs_attr")
AT = enum_values(TEXT, "modalfs_attr_attr")
ST = enum_values(TEXT, "modalfs_statfs_attr")
DE = enum_values(TEXT, "modalfs_dirent_attr")
NT = enum_values(TEXT, "modalfs_notify")
VERSION = int(re.search(r"#define MODALFS_GENL_VERSION\s+(\d+)", TEXT).group(1))
DATA_CHUNK = int(re.search(r"#define MODALFS_DATA_CHUNK\s+(\d+)", TEXT).group(1))
OPNAME = {v: k[len("MODALFS_OP_"):].lower() for k, v in OP.items()}

NLMSG_ERROR, GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 2, 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLA_F_NESTED = 0x8000
VOL_ID = 7
S_IFREG, S_IFDIR = 0o100000, 0o040000


def attr(t, payload):
    a = struct.pack("HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def data_attrs(t, data):
    """data as DATA attributes of MODALFS_DATA_CHUNK bytes each (the last
    may be shorter): a READ of up to MODALFS_IO_MAX needs many of them."""
    return [attr(t, data[i:i + DATA_CHUNK])
            for i in range(0, len(data), DATA_CHUNK)]


def u32(t, v):
    return attr(t, struct.pack("I", v))


def u64(t, v):
    return attr(t, struct.pack("Q", v))


def parse(buf):
    out = {}
    while len(buf) >= 4:
        ln, t = struct.unpack_from("HH", buf)
        if ln < 4:
            break
        out[t & 0x3fff] = buf[4:ln]
        buf = buf[(ln + 3) & ~3:]
    return out


def errname(e):
    return "OK" if e == 0 else errno.errorcode.get(e, str(e))


def say(*words):
    print(*words, flush=True)


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        # A READ reply of MODALFS_IO_MAX must fit in one datagram, as
        # modalfsd sizes its buffers (SO_SNDBUFFORCE: we are root).
        self.s.setsockopt(socket.SOL_SOCKET, 32, 4 << 20)
        self.s.bind((0, 0))
        self.seq = 0

    def send(self, family, cmd, attrs, flags=NLM_F_REQUEST):
        self.seq += 1
        body = struct.pack("BBH", cmd, VERSION, 0) + b"".join(attrs)
        self.s.send(struct.pack("IHHII", 16 + len(body), family, flags,
                                self.seq, 0) + body)
        return self.seq

    def messages(self):
        data = self.s.recv(1 << 20)
        while len(data) >= 16:
            ln, typ, _flags, seq, _pid = struct.unpack_from("IHHII", data)
            yield typ, seq, data[16:ln]
            data = data[(ln + 3) & ~3:]

    def ack(self, seq):
        for typ, s, payload in self.messages():
            if typ == NLMSG_ERROR and s == seq:
                return -struct.unpack_from("i", payload)[0]
        return None

    def family(self):
        seq = self.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                        [attr(CTRL_ATTR_FAMILY_NAME, b"modalfs\0")])
        for typ, s, payload in self.messages():
            if typ == GENL_ID_CTRL and s == seq:
                return struct.unpack_from(
                    "H", parse(payload[4:])[CTRL_ATTR_FAMILY_ID])[0]
        sys.exit("hostile-daemon: no genl family modalfs (module loaded?)")


def attr_nest(ino, mode, size=0, nlink=1, mode_raw=None, skip=(),
              size_raw=None):
    now = int(time.time())
    members = [
        (AT["MODALFS_ATTR_INO"], struct.pack("Q", ino)),
        (AT["MODALFS_ATTR_MODE"],
         mode_raw if mode_raw is not None else struct.pack("I", mode)),
        (AT["MODALFS_ATTR_NLINK"], struct.pack("I", nlink)),
        (AT["MODALFS_ATTR_UID"], struct.pack("I", 0)),
        (AT["MODALFS_ATTR_GID"], struct.pack("I", 0)),
        (AT["MODALFS_ATTR_RDEV"], struct.pack("I", 0)),
        (AT["MODALFS_ATTR_SIZE"],
         size_raw if size_raw is not None else struct.pack("Q", size)),
        (AT["MODALFS_ATTR_BLOCKS"], struct.pack("Q", (size + 511) // 512)),
    ]
    for t in ("ATIME", "MTIME", "CTIME"):
        members.append((AT["MODALFS_ATTR_%s_SEC" % t], struct.pack("q", now)))
        members.append((AT["MODALFS_ATTR_%s_NSEC" % t], struct.pack("I", 0)))
    return attr(A["MODALFS_A_ATTR"] | NLA_F_NESTED, b"".join(
        attr(t, p) for t, p in members if t not in skip))


def statfs_attr():
    return attr(A["MODALFS_A_STATFS"] | NLA_F_NESTED, b"".join(
        [u32(ST["MODALFS_STATFS_BSIZE"], 4096)]
        + [u64(ST[k], 1000) for k in (
            "MODALFS_STATFS_BLOCKS", "MODALFS_STATFS_BFREE",
            "MODALFS_STATFS_BAVAIL", "MODALFS_STATFS_FILES",
            "MODALFS_STATFS_FFREE")]
        + [u32(ST["MODALFS_STATFS_NAMELEN"], 255)]))


def dirent(ino, dtype, cookie, name, plus=None):
    """plus: (ino, mode) of a READDIRPLUS ATTR to add, which may lie."""
    extra = []
    if plus is not None:
        nest = attr_nest(*plus)
        extra = [attr(DE["MODALFS_DIRENT_ATTR"] | NLA_F_NESTED, nest[4:])]
    return attr(A["MODALFS_A_DIRENT"] | NLA_F_NESTED, b"".join([
        u64(DE["MODALFS_DIRENT_INO"], ino),
        u32(DE["MODALFS_DIRENT_TYPE"], dtype),
        u64(DE["MODALFS_DIRENT_COOKIE"], cookie),
        attr(DE["MODALFS_DIRENT_NAME"], name.encode() + b"\0")] + extra))


class Volume:
    def __init__(self):
        self.content = b"hello\n"
        # name -> (ino, type); the root's listing comes from this
        self.entries = {
            "ok": (10, S_IFREG), "ok2": (13, S_IFREG),
            "long-data": (11, S_IFREG), "short-chunk": (12, S_IFREG),
            "dir-many": (20, S_IFDIR), "dir-back": (21, S_IFDIR),
            "dir-zero": (22, S_IFDIR), "flip": (30, S_IFREG),
            "dir-plus": (23, S_IFDIR),
            "sub": (24, S_IFDIR),
        }
        self.data = {}          # ino -> bytes written by WRITE
        self.nlink = {}         # ino -> nlink GETATTR reports

    def bytes_of(self, ino):
        return self.data.get(ino, self.content)

    def size(self, ino):
        if ino in (10, 13, 14):
            return len(self.bytes_of(ino))
        if ino in (11, 12):
            return 100000
        return 0

    def attr_of(self, ino, typ):
        if typ == S_IFDIR:
            return attr_nest(ino, S_IFDIR | 0o755, nlink=self.nlink.get(ino, 2))
        return attr_nest(ino, S_IFREG | 0o644, size=self.size(ino),
                         nlink=self.nlink.get(ino, 1))

    def type_of(self, ino):
        if ino == 1:
            return S_IFDIR
        for i, t in self.entries.values():
            if i == ino:
                return t
        return S_IFREG if ino == 14 else None


class Daemon:
    def __init__(self, fifo):
        self.g = Genl()
        self.family = self.g.family()
        self.vol = Volume()
        self.acks = {}          # seq -> label
        self.later = []         # (due, attrs, label)
        self.hung = []          # (attrs, label) answered on "release"
        self.holding = set()    # op names whose requests are held
        self.fifo = None
        if fifo:
            if not os.path.exists(fifo):
                os.mkfifo(fifo)
            self.fifo = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        self.fifo_buf = b""

    def register(self):
        seq = self.g.send(self.family, CMD["MODALFS_CMD_REGISTER"],
                          [u32(A["MODALFS_A_VERSION"], VERSION)],
                          NLM_F_REQUEST | NLM_F_ACK)
        err = self.g.ack(seq)
        if err:
            sys.exit("hostile-daemon: REGISTER failed: %s" % os.strerror(err))
        say("registered")

    def reply(self, attrs, label):
        if label.split(":")[0] in self.holding:
            self.hung.append((attrs, label))
            say("holding", label)
            return
        seq = self.g.send(self.family, CMD["MODALFS_CMD_REPLY"], attrs,
                          NLM_F_REQUEST | NLM_F_ACK)
        self.acks[seq] = label

    def notify(self, attrs, label):
        seq = self.g.send(self.family, CMD["MODALFS_CMD_NOTIFY"], attrs,
                          NLM_F_REQUEST | NLM_F_ACK)
        self.acks[seq] = "notify " + label

    def handle(self, a):
        rid = a[A["MODALFS_A_REQ_ID"]][:8]
        op = struct.unpack("I", a[A["MODALFS_A_OP"]][:4])[0]
        ino = struct.unpack("Q", a[A["MODALFS_A_INO"]][:8])[0] \
            if A["MODALFS_A_INO"] in a else 0
        name = a.get(A["MODALFS_A_NAME"], b"").rstrip(b"\0").decode()
        size = struct.unpack("I", a[A["MODALFS_A_SIZE"]][:4])[0] \
            if A["MODALFS_A_SIZE"] in a else 0
        head = [attr(A["MODALFS_A_REQ_ID"], rid)]
        ok = u32(A["MODALFS_A_ERRNO"], 0)
        label = OPNAME.get(op, str(op)) + (":" + name if name else "")
        vol = self.vol

        if op in (OP["MODALFS_OP_WRITE"], OP["MODALFS_OP_SETATTR"],
                  OP["MODALFS_OP_GETATTR"]):
            say("got", OPNAME[op], ino)
        if op == OP["MODALFS_OP_MOUNT"]:
            path = a.get(A["MODALFS_A_PATH"], b"/").rstrip(b"\0").decode()
            sub = path.strip("/")
            if not sub:
                self.reply(head + [ok, u64(A["MODALFS_A_VOL_ID"], VOL_ID),
                                   vol.attr_of(1, S_IFDIR)], label)
            elif vol.entries.get(sub, (0, 0))[1] == S_IFDIR:
                i = vol.entries[sub][0]
                self.reply(head + [ok, u64(A["MODALFS_A_VOL_ID"], VOL_ID),
                                   vol.attr_of(i, S_IFDIR)], label)
            else:
                self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.ENOENT)],
                           label)
        elif op == OP["MODALFS_OP_GETATTR"]:
            t = vol.type_of(ino)
            if t is None:
                self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.ESTALE)],
                           label)
            else:
                self.reply(head + [ok, vol.attr_of(ino, t)], label)
        elif op == OP["MODALFS_OP_STATFS"]:
            self.reply(head + [ok, statfs_attr()], label)
        elif op in (OP["MODALFS_OP_UMOUNT"], OP["MODALFS_OP_FSYNC"],
                    OP["MODALFS_OP_EVICT"]):
            self.reply(head + [ok], label)
        elif op == OP["MODALFS_OP_LOOKUP"]:
            self.lookup(head, ok, ino, name, label)
        elif op == OP["MODALFS_OP_READ"]:
            self.read(head, ok, ino, a, size, label)
        elif op == OP["MODALFS_OP_READDIR"]:
            self.readdir(head, ok, ino, a, size, label)
        elif op == OP["MODALFS_OP_WRITE"] and vol.type_of(ino) == S_IFREG:
            off = struct.unpack("Q", a[A["MODALFS_A_OFFSET"]][:8])[0]
            data = a.get(A["MODALFS_A_DATA"], b"")
            old = vol.bytes_of(ino)
            old = old + b"\0" * max(0, off - len(old))
            vol.data[ino] = old[:off] + data + old[off + len(data):]
            self.reply(head + [ok, u32(A["MODALFS_A_SIZE"], len(data)),
                               vol.attr_of(ino, S_IFREG)], label)
        elif op == OP["MODALFS_OP_SETATTR"] and vol.type_of(ino):
            self.reply(head + [ok, vol.attr_of(ino, vol.type_of(ino))], label)
        elif op == OP["MODALFS_OP_UNLINK"] and ino == 1:
            vol.entries.pop(name, None)
            self.reply(head + [ok], label)
        else:
            self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.EROFS)], label)

    def lookup(self, head, ok, dino, name, label):
        vol = self.vol
        if dino != 1:
            self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.ENOENT)], label)
        elif name in vol.entries:
            i, t = vol.entries[name]
            self.reply(head + [ok, vol.attr_of(i, t)], label)
        elif name == "flip-dir":
            self.reply(head + [ok, vol.attr_of(30, S_IFDIR)], label)
        elif name == "missing-attr":
            self.reply(head + [ok, attr_nest(40, S_IFREG | 0o644,
                                             skip=(AT["MODALFS_ATTR_NLINK"],))],
                       label)
        elif name == "trunc-attr":
            self.reply(head + [ok, attr_nest(41, 0, mode_raw=b"\xa4\x81")],
                       label)
        elif name == "no-attr":
            self.reply(head + [ok], label)
        elif name == "bad-type":
            self.reply(head + [ok, attr_nest(42, 0o170644)], label)
        elif name == "nlink-zero":
            self.reply(head + [ok, attr_nest(45, S_IFREG | 0o644, nlink=0)],
                       label)
        elif name == "nlink-max":
            self.reply(head + [ok, attr_nest(43, S_IFREG | 0o644,
                                             nlink=2**32 - 1)], label)
        elif name == "size-huge":
            self.reply(head + [ok, attr_nest(44, S_IFREG | 0o644,
                                             size_raw=struct.pack("Q", 2**63))],
                       label)
        elif name == "errno-big":
            self.reply(head + [u32(A["MODALFS_A_ERRNO"], 5000)], label)
        elif name == "extra-attr":
            self.reply(head + [ok, vol.attr_of(10, S_IFREG),
                               u32(200, 1)], label)
        elif name == "oversized":
            self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.ENOENT),
                               attr(A["MODALFS_A_ERRMSG"], b"x" * 599 + b"\0")],
                       label)
        elif name == "unknown-id":
            bogus = struct.unpack("Q", head[0][4:12])[0] + 1000003
            self.reply([u64(A["MODALFS_A_REQ_ID"], bogus), ok,
                        vol.attr_of(13, S_IFREG)], label + ":bogus")
            self.reply(head + [ok, vol.attr_of(13, S_IFREG)], label)
        elif name == "dup-reply":
            self.reply(head + [ok, vol.attr_of(13, S_IFREG)], label)
            self.reply(head + [ok, vol.attr_of(13, S_IFREG)], label + ":again")
        elif name == "slow":
            self.later.append((time.time() + 4, head + [ok, vol.attr_of(
                14, S_IFREG)], label))
            say("holding", label)
        elif name == "hang":
            self.hung.append((head + [u32(A["MODALFS_A_ERRNO"],
                                          errno.ENOENT)], label))
            say("holding", label)
        elif name.startswith("anything"):
            self.reply(head + [attr(A["MODALFS_A_ERRNO"],
                                    struct.pack("Q", 0))], label)
            say("lookup answered with a malformed ERRNO")
        else:
            self.reply(head + [u32(A["MODALFS_A_ERRNO"], errno.ENOENT)], label)

    def read(self, head, ok, ino, a, size, label):
        off = struct.unpack("Q", a[A["MODALFS_A_OFFSET"]][:8])[0]
        D = A["MODALFS_A_DATA"]
        if ino == 11:
            self.reply(head + [ok] + data_attrs(D, b"L" * (size + 1)),
                       label)
        elif ino == 12:
            self.reply(head + [ok, attr(D, b"s" * 100), attr(D, b"s" * 100)],
                       label)
        else:
            # What WRITE stored: a READ after the kernel dropped its
            # pages must see the file's bytes, not the initial content.
            data = self.vol.bytes_of(ino)[off:off + size]
            self.reply(head + [ok] + data_attrs(D, data), label)

    def readdir(self, head, ok, ino, a, size, label):
        off = struct.unpack("Q", a[A["MODALFS_A_OFFSET"]][:8])[0]
        EOF = attr(A["MODALFS_A_EOF"], b"")
        if ino == 1:
            names = sorted(self.vol.entries)
            ents = [dirent(self.vol.entries[n][0],
                           4 if self.vol.entries[n][1] == S_IFDIR else 8,
                           3 + k, n) for k, n in enumerate(names) if 3 + k > off]
            self.reply(head + [ok] + ents[:size] +
                       ([EOF] if len(ents) <= size else []), label)
        elif ino == 20:
            self.reply(head + [ok] + [dirent(100 + k, 8, 3 + k, "f%d" % k)
                                      for k in range(size + 1)], label)
        elif ino == 21:
            self.reply(head + [ok, dirent(100, 8, 10, "a"),
                               dirent(101, 8, 5, "b"), EOF], label)
        elif ino == 22:
            self.reply(head + [ok, dirent(100, 8, 0, "a"), EOF], label)
        elif ino == 23:
            self.reply(head + [ok, dirent(100, 8, 3, "a",
                                          plus=(101, S_IFREG)), EOF], label)
        else:
            self.reply(head + [ok, EOF], label)

    def command(self, line):
        w = line.split()
        if not w:
            return
        if w[0] == "set":
            self.vol.content = (" ".join(w[1:]) + "\n").encode()
            self.vol.data = {}
            say("content", repr(self.vol.content))
        elif w[0] == "add":
            self.vol.entries[w[1]] = (13, S_IFREG)
        elif w[0] == "del":
            self.vol.entries.pop(w[1], None)
        elif w[0] == "release":
            self.holding = set()
            for attrs, label in self.hung:
                self.reply(attrs, label + ":released")
            self.hung = []
        elif w[0] == "hold":
            self.holding.add(w[1])
        elif w[0] == "nlink":
            self.vol.nlink[int(w[1])] = int(w[2])
        elif w[0] == "dropcaps":
            drop_cap_sys_admin()
        elif w[0] == "notify":
            self.send_notify(w[1:])
        say("did", line)

    def send_notify(self, w):
        N = A["MODALFS_A_NOTIFY"]
        V = u64(A["MODALFS_A_VOL_ID"], VOL_ID)
        kind = w[0]
        if kind == "inval-inode":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_INODE"]), V,
                     u64(A["MODALFS_A_INO"], int(w[1]))]
        elif kind == "inval-entry":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_ENTRY"]), V,
                     u64(A["MODALFS_A_INO"], int(w[1])),
                     attr(A["MODALFS_A_NAME"], w[2].encode() + b"\0")]
        elif kind == "vol-gone":
            vid = int(w[1]) if len(w) > 1 else VOL_ID
            attrs = [u32(N, NT["MODALFS_NOTIFY_VOL_GONE"]),
                     u64(A["MODALFS_A_VOL_ID"], vid)]
        elif kind == "bad-novol":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_INODE"]),
                     u64(A["MODALFS_A_INO"], 10)]
        elif kind == "bad-type":
            attrs = [u32(N, 99), V, u64(A["MODALFS_A_INO"], 10)]
        elif kind == "bad-noname":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_ENTRY"]), V,
                     u64(A["MODALFS_A_INO"], 1)]
        elif kind == "bad-slash":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_ENTRY"]), V,
                     u64(A["MODALFS_A_INO"], 1),
                     attr(A["MODALFS_A_NAME"], b"a/b\0")]
        elif kind == "bad-extra":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_INODE"]), V,
                     u64(A["MODALFS_A_INO"], 10),
                     u64(A["MODALFS_A_REQ_ID"], 5)]
        elif kind == "bad-ino0":
            attrs = [u32(N, NT["MODALFS_NOTIFY_INVAL_INODE"]), V,
                     u64(A["MODALFS_A_INO"], 0)]
        else:
            say("unknown notify", kind)
            return
        self.notify(attrs, kind)

    def loop(self):
        while True:
            now = time.time()
            due = [x for x in self.later if x[0] <= now]
            self.later = [x for x in self.later if x[0] > now]
            for _t, attrs, label in due:
                self.reply(attrs, label + ":late")
            timeout = min([x[0] for x in self.later], default=now + 1) - now
            fds = [self.g.s] + ([self.fifo] if self.fifo is not None else [])
            r, _, _ = select.select(fds, [], [], max(timeout, 0.01))
            if self.fifo is not None and self.fifo in r:
                self.fifo_buf += os.read(self.fifo, 4096)
                while b"\n" in self.fifo_buf:
                    line, self.fifo_buf = self.fifo_buf.split(b"\n", 1)
                    self.command(line.decode())
            if self.g.s not in r:
                continue
            for typ, seq, payload in self.g.messages():
                if typ == NLMSG_ERROR:
                    label = self.acks.pop(seq, None)
                    if label is not None:
                        err = -struct.unpack_from("i", payload)[0]
                        say("ack", label, errname(err))
                    continue
                if typ != self.family or \
                        payload[0] != CMD["MODALFS_CMD_REQUEST"]:
                    continue
                self.handle(parse(payload[4:]))


CAP_SYS_ADMIN = 21


def drop_cap_sys_admin():
    """capset(2) without CAP_SYS_ADMIN in the effective set."""
    libc = ctypes.CDLL(None, use_errno=True)
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)     # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)()
    if libc.syscall(125, hdr, data):               # capget
        sys.exit("hostile-daemon: capget failed")
    data[0] &= ~(1 << CAP_SYS_ADMIN)                # effective, low word
    if libc.syscall(126, hdr, data):               # capset
        sys.exit("hostile-daemon: capset failed")


def notify_unregistered(vol_id):
    g = Genl()
    fam = g.family()
    seq = g.send(fam, CMD["MODALFS_CMD_NOTIFY"],
                 [u32(A["MODALFS_A_NOTIFY"], NT["MODALFS_NOTIFY_VOL_GONE"]),
                  u64(A["MODALFS_A_VOL_ID"], vol_id)],
                 NLM_F_REQUEST | NLM_F_ACK)
    say("notify-ack", errname(g.ack(seq)))


def main():
    args = sys.argv[1:]
    if args[:1] == ["--notify-unregistered"]:
        notify_unregistered(int(args[1]))
        return
    fifo = args[1] if args[:1] == ["--fifo"] else None
    d = Daemon(fifo)
    d.register()
    d.loop()


if __name__ == "__main__":
    main()
