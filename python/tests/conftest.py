"""Fixtures for the modalfs Python tests.

Tests that need a running modalfsd use ``$MODALFS_SOCKET`` (default: the
daemon's socket). They are skipped when it cannot be reached, unless
``MODALFS_REQUIRE_DAEMON=1`` (the VM test sets it), which makes that a
failure. Tests that mount volumes also need root and the kernel module
(``MODALFS_REQUIRE_MOUNT=1`` likewise turns the skip into a failure).
"""
from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
# The source tree, unless the suite is to test an installed copy.
if os.environ.get("MODALFS_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(HERE.parent))

import modalfs  # noqa: E402
from modalfs.client import default_socket_path  # noqa: E402


def _daemon_up() -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(default_socket_path())
        return True
    except OSError:
        return False
    finally:
        s.close()


def _need(env: str, ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get(env) == "1":
        pytest.fail(why + f" ({env}=1)")
    pytest.skip(why)


@pytest.fixture
def daemon() -> str:
    """The socket of a reachable modalfsd."""
    _need("MODALFS_REQUIRE_DAEMON", _daemon_up(),
          f"modalfsd not reachable at {default_socket_path()}")
    return default_socket_path()


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        return "modalfs" in Path("/proc/filesystems").read_text().split()
    except OSError:
        return False


@pytest.fixture
def mountable(daemon: str) -> str:
    """A daemon, root, and the kernel module: volumes can be mounted."""
    _need("MODALFS_REQUIRE_MOUNT", _can_mount(),
          "mounting needs root and the modalfs kernel module")
    return daemon


@pytest.fixture
def volume(daemon: str) -> Iterator[modalfs.NetworkFileSystem]:
    """A fresh persisted volume, deleted afterwards."""
    name = "pytest-" + uuid.uuid4().hex[:12]
    vol = modalfs.NetworkFileSystem.create(name)
    yield vol
    try:
        modalfs.NetworkFileSystem.delete(name, force=True)
    except modalfs.NotFoundError:
        pass


@pytest.fixture
def unique_name() -> str:
    return "pytest-" + uuid.uuid4().hex[:12]
