#!/usr/bin/python3
"""A daemon that lies: registers with the modalfs kernel module like
modalfsd, answers MOUNT, GETATTR and STATFS correctly for one volume whose
root is an empty directory, and answers every LOOKUP with a reply that
fails the protocol's netlink policy (ERRNO with 8 bytes instead of 4).
The kernel must fail those LOOKUPs with EIO and keep working.

    hostile-daemon.py          (prints "registered" once it is the daemon)

Attribute and command numbers come from netlink/modalfs.h itself.
"""
import os
import re
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
VERSION = int(re.search(r"#define MODALFS_GENL_VERSION\s+(\d+)", TEXT).group(1))

NLMSG_ERROR, GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 2, 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLA_F_NESTED = 0x8000


def attr(t, payload):
    a = struct.pack("HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def parse(buf):
    out = {}
    while len(buf) >= 4:
        ln, t = struct.unpack_from("HH", buf)
        if ln < 4:
            break
        out[t & 0x3fff] = buf[4:ln]
        buf = buf[(ln + 3) & ~3:]
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
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


def root_attr():
    now = int(time.time())
    return attr(A["MODALFS_A_ATTR"] | NLA_F_NESTED, b"".join([
        attr(AT["MODALFS_ATTR_INO"], struct.pack("Q", 1)),
        attr(AT["MODALFS_ATTR_MODE"], struct.pack("I", 0o40755)),
        attr(AT["MODALFS_ATTR_NLINK"], struct.pack("I", 2)),
        attr(AT["MODALFS_ATTR_UID"], struct.pack("I", 0)),
        attr(AT["MODALFS_ATTR_GID"], struct.pack("I", 0)),
        attr(AT["MODALFS_ATTR_RDEV"], struct.pack("I", 0)),
        attr(AT["MODALFS_ATTR_SIZE"], struct.pack("Q", 0)),
        attr(AT["MODALFS_ATTR_BLOCKS"], struct.pack("Q", 0)),
    ] + [attr(AT["MODALFS_ATTR_%s_SEC" % t], struct.pack("q", now))
         + attr(AT["MODALFS_ATTR_%s_NSEC" % t], struct.pack("I", 0))
         for t in ("ATIME", "MTIME", "CTIME")]))


def statfs_attr():
    return attr(A["MODALFS_A_STATFS"] | NLA_F_NESTED, b"".join(
        [attr(ST["MODALFS_STATFS_BSIZE"], struct.pack("I", 4096))]
        + [attr(ST[k], struct.pack("Q", 1000)) for k in (
            "MODALFS_STATFS_BLOCKS", "MODALFS_STATFS_BFREE",
            "MODALFS_STATFS_BAVAIL", "MODALFS_STATFS_FILES",
            "MODALFS_STATFS_FFREE")]
        + [attr(ST["MODALFS_STATFS_NAMELEN"], struct.pack("I", 255))]))


def main():
    g = Genl()
    seq = g.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                 [attr(CTRL_ATTR_FAMILY_NAME, b"modalfs\0")])
    family = None
    for typ, s, payload in g.messages():
        if typ == GENL_ID_CTRL and s == seq:
            family = struct.unpack_from(
                "H", parse(payload[4:])[CTRL_ATTR_FAMILY_ID])[0]
    if family is None:
        sys.exit("hostile-daemon: no genl family modalfs (module loaded?)")
    seq = g.send(family, CMD["MODALFS_CMD_REGISTER"],
                 [attr(A["MODALFS_A_VERSION"], struct.pack("I", VERSION))],
                 NLM_F_REQUEST | NLM_F_ACK)
    err = g.ack(seq)
    if err:
        sys.exit("hostile-daemon: REGISTER failed: %s" % os.strerror(err))
    print("registered", flush=True)
    while True:
        for typ, _s, payload in g.messages():
            if typ != family or payload[0] != CMD["MODALFS_CMD_REQUEST"]:
                continue
            a = parse(payload[4:])
            rid = a[A["MODALFS_A_REQ_ID"]][:8]
            op = struct.unpack("I", a[A["MODALFS_A_OP"]][:4])[0]
            reply = [attr(A["MODALFS_A_REQ_ID"], rid)]
            ok = attr(A["MODALFS_A_ERRNO"], struct.pack("I", 0))
            if op == OP["MODALFS_OP_LOOKUP"]:
                reply.append(attr(A["MODALFS_A_ERRNO"], struct.pack("Q", 0)))
                print("lookup answered with a malformed ERRNO", flush=True)
            elif op == OP["MODALFS_OP_MOUNT"]:
                reply += [ok, attr(A["MODALFS_A_VOL_ID"], struct.pack("Q", 7)),
                          root_attr()]
            elif op == OP["MODALFS_OP_GETATTR"]:
                reply += [ok, root_attr()]
            elif op == OP["MODALFS_OP_STATFS"]:
                reply += [ok, statfs_attr()]
            elif op in (OP["MODALFS_OP_UMOUNT"], OP["MODALFS_OP_FSYNC"]):
                reply.append(ok)
            else:
                reply.append(attr(A["MODALFS_A_ERRNO"], struct.pack("I", 5)))
            g.send(family, CMD["MODALFS_CMD_REPLY"], reply)


if __name__ == "__main__":
    main()
