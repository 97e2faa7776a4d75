"""A minimal in-tree PEP 517 build backend for the modalfs package.

``pip install ./python`` builds in an isolated environment that would
fetch setuptools from PyPI; hosts that run modalfs often have no route
to PyPI. The package is pure Python, so this backend writes the wheel
itself with the standard library and needs nothing to be downloaded.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional

NAME = "modalfs"
VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
TAG = "py3-none-any"

METADATA = f"""Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Modal-style network volumes on a modalfs host: a pure-Python client of modalfsd
License: GPL-2.0 OR MIT
Requires-Python: >=3.9
Description-Content-Type: text/markdown

"""


def _files() -> List[Path]:
    pkg = ROOT / NAME
    return sorted(p for p in pkg.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and p.suffix in (".py", ".typed"))


def _digest(data: bytes) -> str:
    d = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + d.decode()


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None
                                 ) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None
                                 ) -> List[str]:
    return []


get_requires_for_build_editable = get_requires_for_build_wheel


def _metadata() -> str:
    readme = ROOT / "README.md"
    return METADATA + (readme.read_text() if readme.exists() else "")


def _write_wheel(wheel_directory: str, entries: Dict[str, bytes]) -> str:
    dist = f"{NAME}-{VERSION}.dist-info"
    entries[f"{dist}/METADATA"] = _metadata().encode()
    entries[f"{dist}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: modalfs_build\n"
        f"Root-Is-Purelib: true\nTag: {TAG}\n").encode()
    record = "".join(f"{n},{_digest(d)},{len(d)}\n" for n, d in entries.items())
    record += f"{dist}/RECORD,,\n"
    name = f"{NAME}-{VERSION}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for n, d in entries.items():
            z.writestr(n, d)
        z.writestr(f"{dist}/RECORD", record)
    return name


def build_wheel(wheel_directory: str,
                config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    return _write_wheel(wheel_directory, {
        p.relative_to(ROOT).as_posix(): p.read_bytes() for p in _files()})


def build_editable(wheel_directory: str,
                   config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    # A .pth file puts the source tree on sys.path.
    return _write_wheel(wheel_directory,
                        {f"_{NAME}_editable.pth": (str(ROOT) + "\n").encode()})


def build_sdist(sdist_directory: str,
                config_settings: Optional[Dict[str, Any]] = None) -> str:
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    paths = _files() + [ROOT / "pyproject.toml", ROOT / "README.md",
                        ROOT / "_build" / "modalfs_build.py"]
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for p in paths:
            if p.exists():
                t.add(p, arcname=f"{base}/{p.relative_to(ROOT).as_posix()}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
