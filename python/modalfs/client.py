"""A connection to modalfsd's control socket (pure Python).

One :class:`Client` holds one ``SOCK_SEQPACKET`` connection and numbers its
requests; replies are matched to them by sequence number and command, and
every failure becomes an exception from :mod:`modalfs.exceptions`. A
client is safe to share between threads (calls are serialised) and across
``fork()``: a child process opens its own connection on first use, since
the daemon identifies the owner of an anonymous app by the connecting
process.
"""
from __future__ import annotations

import errno as _errno
import os
import socket
import threading
from typing import Any, Dict, Iterator, List, Optional

from . import exceptions as exc
from . import wire

#: Seconds to wait for a reply before giving up; the daemon answers
#: control requests from its own threads, so this is generous.
DEFAULT_TIMEOUT = 120.0


def default_socket_path() -> str:
    """``$MODALFS_SOCKET``, or the daemon's default socket."""
    return os.environ.get("MODALFS_SOCKET") or wire.DEFAULT_SOCKET


class Client:
    """The control channel to one modalfsd."""

    def __init__(self, socket_path: Optional[str] = None,
                 timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
        self.socket_path = socket_path or default_socket_path()
        self.timeout = timeout
        self._sock: Optional[socket.socket] = None
        self._pid = 0
        self._seq = 0
        self._lock = threading.Lock()

    # -- connection ---------------------------------------------------
    def _connect(self) -> socket.socket:
        if self._sock is not None and self._pid == os.getpid():
            return self._sock
        # After fork() the inherited socket belongs to the parent's
        # conversation; never interleave with it.
        self._sock = None
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(self.timeout)
        try:
            s.connect(self.socket_path)
        except OSError as e:
            s.close()
            hint = ""
            if e.errno in (_errno.ENOENT, _errno.ECONNREFUSED):
                hint = " (is modalfsd running?)"
            raise exc.ConnectionError(
                f"cannot reach modalfsd at {self.socket_path}: "
                f"{os.strerror(e.errno or 0)}{hint}", e.errno) from None
        self._sock = s
        self._pid = os.getpid()
        self._seq = (self._pid & 0xFFFFFF) << 8
        return s

    def close(self) -> None:
        """Closes the connection; the next call opens a new one."""
        with self._lock:
            if self._sock is not None and self._pid == os.getpid():
                self._sock.close()
            self._sock = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    # -- requests -----------------------------------------------------
    def request(self, cmd: int) -> wire.MessageBuilder:
        """A new request of ``cmd``; send it with :meth:`call`."""
        return wire.MessageBuilder(cmd, 0)

    def _broken(self, what: str, e: Optional[OSError] = None) -> exc.Error:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        if isinstance(e, socket.timeout):
            return exc.ConnectionError(
                f"modalfsd at {self.socket_path} did not answer within "
                f"{self.timeout} s", _errno.ETIMEDOUT)
        detail = f": {os.strerror(e.errno)}" if e and e.errno else ""
        return exc.ConnectionError(
            f"{what} modalfsd at {self.socket_path}{detail}",
            e.errno if e else None)

    def _recv(self, s: socket.socket, msg: wire.MessageBuilder) -> wire.Reply:
        try:
            buf = s.recv(wire.DGRAM_MAX + 1)
        except OSError as e:
            raise self._broken("reading from", e) from None
        if not buf:
            raise self._broken("connection closed by")
        try:
            mtype, seq, cmd, version = wire.parse_header(buf)
        except ValueError as e:
            raise self._protocol(f"malformed reply ({e})") from None
        if mtype != wire.NLMSG_TYPE:
            raise self._protocol(f"reply of message type {mtype:#x}")
        if version != wire.VERSION:
            self.close_quietly()
            raise exc.ProtocolVersionError(
                f"modalfsd at {self.socket_path} speaks control protocol "
                f"version {version}; this modalfs package speaks version "
                f"{wire.VERSION}. Install matching versions of modalfsd "
                f"and the Python package.")
        if len(buf) > wire.DGRAM_MAX:
            raise self._protocol("reply larger than the protocol allows")
        if seq != msg.seq or cmd != msg.cmd:
            raise self._protocol(
                f"reply to request {seq} (command {cmd}) while waiting for "
                f"{msg.seq} (command {msg.cmd})")
        try:
            return wire.parse_reply(buf)
        except ValueError as e:
            raise self._protocol(f"malformed reply ({e})") from None

    def close_quietly(self) -> None:
        """Drops the connection (the lock is already held)."""
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def _protocol(self, what: str) -> exc.ProtocolError:
        self.close_quietly()
        return exc.ProtocolError(f"modalfsd at {self.socket_path}: {what}")

    def _send(self, s: socket.socket, msg: wire.MessageBuilder) -> None:
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        msg.seq = self._seq
        try:
            s.send(msg.encode())
        except OSError as e:
            raise self._broken("sending to", e) from None

    @staticmethod
    def _check(r: wire.Reply, what: str) -> wire.Reply:
        if r.errno:
            raise exc.from_errno(
                r.errno, r.errmsg or f"{what}: {os.strerror(r.errno)}")
        return r

    def call(self, msg: wire.MessageBuilder, what: str) -> wire.Reply:
        """Sends ``msg`` and returns its (single) successful reply.

        ``what`` describes the request for a message when the daemon
        sends no sentence of its own.
        """
        with self._lock:
            s = self._connect()
            self._send(s, msg)
            # An error reply is always the last datagram of its answer.
            return self._check(self._recv(s, msg), what)

    def call_multi(self, msg: wire.MessageBuilder, what: str
                   ) -> Iterator[wire.Reply]:
        """Sends ``msg`` and yields each reply datagram up to EOF.

        The connection is held until the last datagram was read, so
        consume the iterator fully (list() it) before the next call.
        """
        with self._lock:
            s = self._connect()
            self._send(s, msg)
            replies: List[wire.Reply] = []
            while True:
                r = self._recv(s, msg)
                self._check(r, what)
                replies.append(r)
                if r.eof:
                    break
        return iter(replies)


def volume_from_nest(payload: bytes) -> Dict[str, Any]:
    """A ``MODALFS_A_VOLUME`` nest as a dict (the keys of ``list --json``)."""
    out: Dict[str, Any] = {}
    for atype, p in wire.iter_attrs(payload):
        if atype == wire.VOLUME_NAME:
            out["name"] = wire.decode_str(p)
        elif atype == wire.VOLUME_ID:
            out["id"] = wire.decode_int(p, "Q")
        elif atype == wire.VOLUME_APP_ID:
            out["app_id"] = wire.decode_str(p)
        elif atype == wire.VOLUME_KIND:
            k = wire.decode_int(p, "I")
            out["kind"] = wire.KIND_NAMES.get(k, str(k))
        elif atype == wire.VOLUME_CREATED:
            out["created"] = wire.decode_int(p, "q")
        elif atype == wire.VOLUME_BYTES:
            out["bytes"] = wire.decode_int(p, "Q")
        elif atype == wire.VOLUME_FILES:
            out["files"] = wire.decode_int(p, "Q")
        elif atype == wire.VOLUME_MOUNTS:
            out["mounts"] = wire.decode_int(p, "I")
        elif atype == wire.VOLUME_APP_NAME:
            out["app_name"] = wire.decode_str(p)
    need = ("name", "id", "app_id", "kind", "created", "bytes", "files",
            "mounts")
    if any(k not in out for k in need):
        raise ValueError("volume nest lacks a member")
    out.setdefault("app_name", None)
    return out
