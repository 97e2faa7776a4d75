"""Checks of names and paths, done before anything is sent."""
from __future__ import annotations

import re

from . import exceptions as exc

VOL_NAME_RULE = "volume names are 1 to 64 characters from A-Z a-z 0-9 . _ -"
_NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
PATH_MAX = 4095
NAME_MAX = 255


def check_name(name: object, what: str = "volume") -> str:
    """``name`` if it is a valid volume (or app) name; else InvalidNameError."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        rule = VOL_NAME_RULE if what == "volume" else \
            f"{what} names follow the volume name rule: {VOL_NAME_RULE}"
        raise exc.InvalidNameError(f"invalid {what} name {name!r}: {rule}")
    return name


def volume_path(path: object, volume: str = "") -> str:
    """The canonical absolute form of a path inside a volume.

    Leading slashes are optional (``"a/b"`` is ``"/a/b"``), repeated and
    trailing ones are dropped; ``..``, NUL and over-long paths or names
    raise InvalidPathError.
    """
    if not isinstance(path, str):
        raise exc.InvalidPathError(f"a path must be a str, not {type(path).__name__}")
    where = f"{volume}:{path}" if volume else repr(path)
    if "\0" in path:
        raise exc.InvalidPathError(f"{where}: a path cannot contain NUL")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for p in parts:
        if p == "..":
            raise exc.InvalidPathError(f"{where}: '..' is not allowed in paths")
        if len(p.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise exc.InvalidPathError(
                f"{where}: a name is longer than {NAME_MAX} bytes")
    out = "/" + "/".join(parts)
    if len(out.encode("utf-8", "surrogateescape")) > PATH_MAX:
        raise exc.InvalidPathError(f"{where}: longer than {PATH_MAX} bytes")
    return out
