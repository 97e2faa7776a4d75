"""The control channel's wire format, from Documentation/protocol.md.

A datagram is a netlink message: a 16-byte ``nlmsghdr``, a 4-byte
``genlmsghdr`` and netlink attributes, all in the host's byte order. This
module only encodes and decodes bytes; :mod:`modalfs.client` moves them.
The numbers below are those of ``netlink/modalfs.h``.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

#: The protocol version this package speaks (``MODALFS_GENL_VERSION``).
VERSION = 6
#: ``nlmsg_type`` of every control datagram.
NLMSG_TYPE = 0x20
NLM_F_REQUEST = 0x1
#: Largest datagram either side sends (``MODALFS_CTL_MSG_MAX``).
DGRAM_MAX = 131072
#: Bytes in one DATA attribute, and in one GET or PUT.
DATA_CHUNK = 32768
IO_MAX = 65536
DEFAULT_SOCKET = "/run/modalfs/modalfsd.sock"

# enum modalfs_ctl_cmd
CTL_PERSISTED = 1
CTL_CREATE = 2
CTL_LIST = 3
CTL_DELETE = 4
CTL_APP_CREATE = 5
CTL_APP_STOP = 6
CTL_EPHEMERAL = 7
CTL_LS = 8
CTL_GET = 9
CTL_PUT = 10
CTL_MKDIR = 11
CTL_RM = 12
CTL_STATS = 13

# enum modalfs_attr (top level)
A_ERRNO = 4
A_ERRMSG = 5
A_VOL_NAME = 6
A_VOL_ID = 7
A_PATH = 8
A_MODE = 14
A_FLAGS = 18
A_OFFSET = 19
A_SIZE = 20
A_DATA = 21
A_ATTR = 22
A_EOF = 26
A_APP_ID = 27
A_VOLUME = 28
A_APP_NAME = 30
A_ENTRY = 31
A_STATS = 32

# MODALFS_A_FLAGS of control commands
F_FORCE = 1 << 0
F_TRUNC = 1 << 1
F_RECURSIVE = 1 << 2
F_ATOMIC = 1 << 3
F_COMMIT = 1 << 4

# enum modalfs_volume_attr
VOLUME_NAME = 1
VOLUME_ID = 2
VOLUME_APP_ID = 3
VOLUME_KIND = 4
VOLUME_CREATED = 5
VOLUME_BYTES = 6
VOLUME_FILES = 7
VOLUME_MOUNTS = 8
VOLUME_APP_NAME = 9
KIND_NAMES = {1: "persisted", 2: "ephemeral"}

# enum modalfs_attr_attr (MODALFS_A_ATTR and ENTRY_ATTR)
ATTR_FIELDS = {
    1: ("ino", "Q"), 2: ("mode", "I"), 3: ("nlink", "I"), 4: ("uid", "I"),
    5: ("gid", "I"), 6: ("rdev", "I"), 7: ("size", "Q"), 8: ("blocks", "Q"),
    9: ("atime_sec", "q"), 10: ("atime_nsec", "I"),
    11: ("mtime_sec", "q"), 12: ("mtime_nsec", "I"),
    13: ("ctime_sec", "q"), 14: ("ctime_nsec", "I"),
}

# enum modalfs_entry_attr
ENTRY_NAME = 1
ENTRY_ATTR = 2

# enum modalfs_stats_attr and modalfs_stats_op_attr
STATS_FIELDS = {
    1: ("started", "q"), 2: ("commits", "Q"), 3: ("syncs", "Q"),
    4: ("block_bytes", "Q"), 5: ("meta_bytes", "Q"), 6: ("batches", "Q"),
    7: ("batch_ops", "Q"), 8: ("batch_p99", "Q"), 9: ("batch_max", "Q"),
}
STATS_OP = 10
STATS_OP_FIELDS = {
    1: ("op", "I"), 2: ("requests", "Q"), 3: ("errors", "Q"),
    4: ("mean_ns", "Q"), 5: ("p99_ns", "Q"), 6: ("max_ns", "Q"),
}

_NLMSGHDR = struct.Struct("=IHHII")
_GENLHDR = struct.Struct("=BBH")
_NLA = struct.Struct("=HH")
HDR_LEN = _NLMSGHDR.size + _GENLHDR.size
#: The type bits of nla_type; the top two are NLA_F_NESTED and
#: NLA_F_NET_BYTEORDER, which libnl may set on nests.
NLA_TYPE_MASK = 0x3FFF


def _align4(n: int) -> int:
    return (n + 3) & ~3


class MessageBuilder:
    """One request datagram under construction."""

    def __init__(self, cmd: int, seq: int, version: int = VERSION) -> None:
        self.cmd = cmd
        self.seq = seq
        self.version = version
        self._attrs: List[bytes] = []

    def put(self, atype: int, payload: bytes) -> "MessageBuilder":
        """Appends one attribute with a raw payload."""
        if len(payload) + _NLA.size > 0xFFFF:
            raise ValueError("attribute payload too long")
        hdr = _NLA.pack(_NLA.size + len(payload), atype)
        pad = b"\0" * (_align4(len(payload)) - len(payload))
        self._attrs.append(hdr + payload + pad)
        return self

    def put_u32(self, atype: int, v: int) -> "MessageBuilder":
        return self.put(atype, struct.pack("=I", v))

    def put_u64(self, atype: int, v: int) -> "MessageBuilder":
        return self.put(atype, struct.pack("=Q", v))

    def put_str(self, atype: int, s: str) -> "MessageBuilder":
        return self.put(atype, s.encode("utf-8", "surrogateescape") + b"\0")

    def put_flag(self, atype: int) -> "MessageBuilder":
        return self.put(atype, b"")

    def encode(self) -> bytes:
        """The datagram's bytes."""
        body = b"".join(self._attrs)
        total = HDR_LEN + len(body)
        return (_NLMSGHDR.pack(total, NLMSG_TYPE, NLM_F_REQUEST, self.seq, 0)
                + _GENLHDR.pack(self.cmd, self.version, 0) + body)


def iter_attrs(buf: bytes) -> Iterator[Tuple[int, bytes]]:
    """(type, payload) of each attribute in ``buf``; raises ValueError."""
    off = 0
    n = len(buf)
    while off < n:
        if n - off < _NLA.size:
            raise ValueError("trailing bytes after the last attribute")
        alen, atype = _NLA.unpack_from(buf, off)
        if alen < _NLA.size or off + alen > n:
            raise ValueError("attribute length out of range")
        yield atype & NLA_TYPE_MASK, bytes(buf[off + _NLA.size:off + alen])
        off += _align4(alen)


def decode_str(payload: bytes) -> str:
    """A NUL-terminated string attribute (exactly one NUL, at the end)."""
    if not payload or payload[-1] != 0 or 0 in payload[:-1]:
        raise ValueError("malformed string attribute")
    return payload[:-1].decode("utf-8", "surrogateescape")


def decode_int(payload: bytes, fmt: str) -> int:
    """An integer attribute of struct format ``fmt`` (I, Q or q)."""
    if len(payload) != struct.calcsize("=" + fmt):
        raise ValueError("integer attribute of the wrong size")
    return int(struct.unpack("=" + fmt, payload)[0])


def decode_fields(payload: bytes, fields: Dict[int, Tuple[str, str]]
                  ) -> Dict[str, int]:
    """A nest of integer attributes, all of ``fields`` required."""
    out: Dict[str, int] = {}
    for atype, p in iter_attrs(payload):
        if atype in fields:
            name, fmt = fields[atype]
            out[name] = decode_int(p, fmt)
    missing = [n for n, _ in fields.values() if n not in out]
    if missing:
        raise ValueError("nest lacks " + ", ".join(missing))
    return out


@dataclass
class Reply:
    """One decoded reply datagram."""

    cmd: int
    seq: int
    version: int
    errno: int = 0
    errmsg: str = ""
    eof: bool = False
    #: Every attribute in order, for the repeating ones (VOLUME, ENTRY, DATA).
    attrs: List[Tuple[int, bytes]] = field(default_factory=list)

    def first(self, atype: int) -> Optional[bytes]:
        """The payload of the first attribute of ``atype``, or None."""
        for t, p in self.attrs:
            if t == atype:
                return p
        return None

    def all(self, atype: int) -> List[bytes]:
        """The payloads of every attribute of ``atype``, in order."""
        return [p for t, p in self.attrs if t == atype]


def parse_header(buf: bytes) -> Tuple[int, int, int, int]:
    """(nlmsg_type, seq, cmd, version) of a datagram; raises ValueError."""
    if len(buf) < HDR_LEN:
        raise ValueError("datagram shorter than its headers")
    total, mtype, _flags, seq, _pid = _NLMSGHDR.unpack_from(buf, 0)
    if total != len(buf):
        raise ValueError("nlmsg_len does not match the datagram's length")
    cmd, version, _res = _GENLHDR.unpack_from(buf, _NLMSGHDR.size)
    return mtype, seq, cmd, version


def parse_reply(buf: bytes) -> Reply:
    """Decodes a reply whose header was accepted; raises ValueError."""
    _mtype, seq, cmd, version = parse_header(buf)
    r = Reply(cmd=cmd, seq=seq, version=version)
    have_errno = False
    for atype, p in iter_attrs(buf[HDR_LEN:]):
        if atype == A_ERRNO:
            r.errno = decode_int(p, "I")
            have_errno = True
        elif atype == A_ERRMSG:
            r.errmsg = decode_str(p)
        elif atype == A_EOF:
            if p:
                raise ValueError("EOF flag with a payload")
            r.eof = True
        r.attrs.append((atype, p))
    if not have_errno:
        raise ValueError("reply without ERRNO")
    return r


