"""The protocol codec, against the header and against a fake daemon.

These run without modalfsd: a thread plays the daemon on a socket pair
of the test's own.
"""
from __future__ import annotations

import os
import re
import socket
import struct
import threading
from pathlib import Path
from typing import Callable, Dict

import pytest

import modalfs
from modalfs import wire
from modalfs.client import Client

HEADER = Path(__file__).resolve().parents[2] / "netlink" / "modalfs.h"


def _enum(text: str, name: str, prefix: str) -> Dict[str, int]:
    body = re.search(r"enum %s \{(.*?)\};" % name, text, re.S)
    assert body, name
    out: Dict[str, int] = {}
    n = -1
    for m in re.finditer(r"^\s*(%s\w+)(?:\s*=\s*(\d+))?," % prefix,
                         body.group(1), re.M):
        n = int(m.group(2)) if m.group(2) else n + 1
        out[m.group(1)[len(prefix):]] = n
    return out


@pytest.mark.skipif(not HEADER.exists(), reason="netlink/modalfs.h not found")
def test_constants_match_the_header() -> None:
    text = HEADER.read_text()
    assert int(re.search(r"#define MODALFS_GENL_VERSION\s+(\d+)", text)
               .group(1)) == wire.VERSION
    cmds = _enum(text, "modalfs_ctl_cmd", "MODALFS_CTL_")
    for k, v in cmds.items():
        if not k.startswith("_") and k != "UNSPEC":
            assert getattr(wire, "CTL_" + k) == v, k
    attrs = _enum(text, "modalfs_attr", "MODALFS_A_")
    for k in ("ERRNO", "ERRMSG", "VOL_NAME", "PATH", "MODE", "FLAGS",
              "OFFSET", "SIZE", "DATA", "ATTR", "EOF", "APP_ID", "VOLUME",
              "APP_NAME", "ENTRY", "STATS"):
        assert getattr(wire, "A_" + k) == attrs[k], k
    vol = _enum(text, "modalfs_volume_attr", "MODALFS_VOLUME_")
    for k in ("NAME", "ID", "APP_ID", "KIND", "CREATED", "BYTES", "FILES",
              "MOUNTS", "APP_NAME"):
        assert getattr(wire, "VOLUME_" + k) == vol[k], k
    at = _enum(text, "modalfs_attr_attr", "MODALFS_ATTR_")
    for num, (field, _) in wire.ATTR_FIELDS.items():
        assert at[field.upper()] == num, field
    st = _enum(text, "modalfs_stats_attr", "MODALFS_STATS_")
    for num, (field, _) in wire.STATS_FIELDS.items():
        assert st[field.upper()] == num, field
    assert st["OP"] == wire.STATS_OP
    ops = _enum(text, "modalfs_op", "MODALFS_OP_")
    from modalfs.stats import OP_NAMES
    assert [k for k in ops if k not in ("UNSPEC",) and not k.startswith("_")] \
        == OP_NAMES
    for flag, val in (("FORCE", wire.F_FORCE), ("TRUNC", wire.F_TRUNC),
                      ("RECURSIVE", wire.F_RECURSIVE),
                      ("ATOMIC", wire.F_ATOMIC), ("COMMIT", wire.F_COMMIT)):
        m = re.search(r"#define MODALFS_CTL_F_%s\s+\(1U << (\d+)\)" % flag, text)
        assert m and 1 << int(m.group(1)) == val, flag


def test_encode_layout() -> None:
    m = wire.MessageBuilder(wire.CTL_LS, 77)
    m.put_str(wire.A_VOL_NAME, "v").put_u64(wire.A_OFFSET, 5).put_flag(wire.A_EOF)
    b = m.encode()
    assert struct.unpack_from("=IHHII", b) == (len(b), 0x20, 1, 77, 0)
    assert b[16:20] == bytes([wire.CTL_LS, wire.VERSION, 0, 0])
    # "v\0" is 2 bytes: attribute length 6, padded to 8.
    assert b[20:28] == struct.pack("=HH", 6, wire.A_VOL_NAME) + b"v\0\0\0"
    assert b[28:40] == struct.pack("=HHQ", 12, wire.A_OFFSET, 5)
    assert b[40:44] == struct.pack("=HH", 4, wire.A_EOF)
    assert len(b) == 44


def _reply(cmd: int, seq: int, *attrs: bytes, version: int = wire.VERSION,
           mtype: int = 0x20) -> bytes:
    body = b"".join(attrs)
    return (struct.pack("=IHHII", 20 + len(body), mtype, 0, seq, 0)
            + struct.pack("=BBH", cmd, version, 0) + body)


def _attr(t: int, p: bytes) -> bytes:
    return struct.pack("=HH", 4 + len(p), t) + p + b"\0" * (-len(p) % 4)


class FakeDaemon:
    """Answers each request with ``respond(cmd, seq)``'s bytes."""

    def __init__(self, tmp: Path, respond: Callable[[int, int], bytes]) -> None:
        self.path = str(tmp / "fake.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.srv.bind(self.path)
        self.srv.listen(1)
        self.respond = respond
        self.seen: list = []
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self) -> None:
        conn, _ = self.srv.accept()
        with conn:
            while True:
                b = conn.recv(1 << 17)
                if not b:
                    return
                _, _, _, seq, _ = struct.unpack_from("=IHHII", b)
                cmd, ver, _ = struct.unpack_from("=BBH", b, 16)
                self.seen.append((cmd, ver))
                conn.send(self.respond(cmd, seq))


def test_version_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    fake = FakeDaemon(tmp_path, lambda cmd, seq: _reply(
        cmd, seq, _attr(wire.A_ERRNO, struct.pack("=I", 22)),
        _attr(wire.A_ERRMSG, b"malformed request (protocol version %d expected)\0"
              % (wire.VERSION + 1)),
        version=wire.VERSION + 1))
    c = Client(fake.path)
    with pytest.raises(modalfs.ProtocolVersionError) as ei:
        modalfs.NetworkFileSystem.list(client=c)
    assert "version %d" % (wire.VERSION + 1) in str(ei.value)
    assert "version %d" % wire.VERSION in str(ei.value)
    assert fake.seen == [(wire.CTL_LIST, wire.VERSION)]


@pytest.mark.parametrize("bad", [
    lambda cmd, seq: _reply(cmd, seq + 1, _attr(wire.A_ERRNO, b"\0" * 4)),
    lambda cmd, seq: _reply(cmd, seq),                       # no ERRNO
    lambda cmd, seq: _reply(cmd, seq, _attr(wire.A_ERRNO, b"\0" * 2)),
    lambda cmd, seq: _reply(cmd, seq, b"\x40\x00\x04\x00"),  # length past end
    lambda cmd, seq: _reply(cmd, seq, _attr(wire.A_ERRNO, b"\0" * 4),
                            mtype=0x10),
    lambda cmd, seq: b"short",
])
def test_malformed_replies_raise_protocol_error(tmp_path: Path, bad) -> None:
    fake = FakeDaemon(tmp_path, bad)
    with pytest.raises(modalfs.ProtocolError):
        modalfs.stats(client=Client(fake.path))


def test_errno_becomes_exception_class(tmp_path: Path) -> None:
    errs = iter([(2, b"volume 'x' does not exist\0"), (17, b"exists\0"),
                 (16, b"mounted\0"), (1, b"requires root\0")])

    def respond(cmd: int, seq: int) -> bytes:
        e, msg = next(errs)
        return _reply(cmd, seq, _attr(wire.A_ERRNO, struct.pack("=I", e)),
                      _attr(wire.A_ERRMSG, msg))

    c = Client(FakeDaemon(tmp_path, respond).path)
    with pytest.raises(modalfs.NotFoundError, match="does not exist"):
        modalfs.NetworkFileSystem.persisted("x", client=c)
    with pytest.raises(modalfs.AlreadyExistsError):
        modalfs.NetworkFileSystem.create("x", client=c)
    with pytest.raises(modalfs.VolumeBusyError):
        modalfs.NetworkFileSystem.delete("x", client=c)
    with pytest.raises(modalfs.PermissionDeniedError):
        modalfs.NetworkFileSystem.delete("x", client=c)


def test_daemon_down_is_connection_error(tmp_path: Path) -> None:
    c = Client(str(tmp_path / "nobody.sock"))
    with pytest.raises(modalfs.ConnectionError, match="is modalfsd running"):
        modalfs.NetworkFileSystem.list(client=c)
    assert isinstance(modalfs.ConnectionError("x"), ConnectionError)


def test_bad_names_and_paths_fail_before_sending() -> None:
    c = Client("/nonexistent/socket")
    for bad in ("", "a b", "x" * 65, "a/b", "é", None):
        with pytest.raises(modalfs.InvalidNameError):
            modalfs.NetworkFileSystem.persisted(bad, client=c)  # type: ignore[arg-type]
    v = modalfs.NetworkFileSystem(name="v", client=c)
    for bad in ("/a/../b", "a\0b", "/" + "x" * 256, "/a" * 2100):
        with pytest.raises(modalfs.InvalidPathError):
            v.read_file(bad)
    with pytest.raises(modalfs.InvalidNameError):
        modalfs.App("no spaces")
    assert issubclass(modalfs.InvalidNameError, ValueError)


def test_socket_path_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODALFS_SOCKET", "/x/y.sock")
    assert Client().socket_path == "/x/y.sock"
    monkeypatch.delenv("MODALFS_SOCKET")
    assert Client().socket_path == "/run/modalfs/modalfsd.sock"
    assert os.path.basename(wire.DEFAULT_SOCKET) == "modalfsd.sock"
