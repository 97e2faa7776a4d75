"""Exception classes raised by the modalfs package.

Every failure the daemon reports arrives as an errno and a sentence
(``MODALFS_A_ERRMSG``); :func:`from_errno` turns the pair into one of the
classes below, so callers catch meanings (``NotFoundError``) rather than
numbers. The sentence is the exception's message.
"""
from __future__ import annotations

import builtins
import errno as _errno
from typing import Optional


class Error(Exception):
    """Base class of every modalfs error.

    ``errno`` is the daemon's error number when there is one, else ``None``.
    """

    def __init__(self, message: str, errno: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno


class InvalidError(Error, ValueError):
    """An argument is malformed (the daemon answered ``EINVAL``)."""


class InvalidNameError(InvalidError):
    """A volume or app name breaks the rule ``[A-Za-z0-9._-]{1,64}``."""


class InvalidPathError(InvalidError):
    """A path inside a volume is not absolute, too long or contains ``..``."""


class NotFoundError(Error):
    """The volume, app, file or directory does not exist (``ENOENT``)."""


class AlreadyExistsError(Error):
    """The name is taken (``EEXIST``)."""


class VolumeBusyError(Error):
    """The volume is mounted; delete it with ``force=True`` (``EBUSY``)."""


class PermissionDeniedError(Error, PermissionError):
    """The daemon refused the request for this user (``EPERM``/``EACCES``)."""


class IsDirectoryError(Error):
    """A file operation named a directory (``EISDIR``)."""


class NotDirectoryError(Error):
    """A path component, or a directory operand, is not a directory."""


class DirectoryNotEmptyError(Error):
    """``remove_file`` of a non-empty directory without ``recursive``."""


class ConnectionError(Error, builtins.ConnectionError):
    """modalfsd cannot be reached, or the connection to it broke."""


class ProtocolError(Error):
    """The daemon sent something that is not a valid control reply."""


class ProtocolVersionError(ProtocolError):
    """The daemon speaks another version of the control protocol."""


class MountError(Error):
    """Mounting a volume for a remote call failed (see the message)."""


class RemoteError(Error):
    """A remote call failed in a way that has no exception to re-raise.

    Raised when the child process died (for example from a signal) or its
    exception could not be pickled; the message says which.
    """


class RemoteTraceback(Exception):
    """Carries the formatted traceback of an exception raised remotely.

    It is attached as ``__cause__`` of the re-raised exception, so an
    uncaught remote error prints both tracebacks, as
    ``concurrent.futures`` does for process pools.
    """

    def __init__(self, tb: str) -> None:
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return "\n\nRemote traceback:\n" + self.tb


_BY_ERRNO = {
    _errno.ENOENT: NotFoundError,
    _errno.EEXIST: AlreadyExistsError,
    _errno.EBUSY: VolumeBusyError,
    _errno.EPERM: PermissionDeniedError,
    _errno.EACCES: PermissionDeniedError,
    _errno.EISDIR: IsDirectoryError,
    _errno.ENOTDIR: NotDirectoryError,
    _errno.ENOTEMPTY: DirectoryNotEmptyError,
    _errno.EINVAL: InvalidError,
    _errno.ENAMETOOLONG: InvalidPathError,
}


def from_errno(err: int, message: str) -> Error:
    """The exception for a daemon failure ``err`` with its sentence."""
    cls = _BY_ERRNO.get(err, Error)
    if cls is InvalidError:
        low = message.lower()
        if "invalid volume name" in low or "invalid app name" in low:
            cls = InvalidNameError
        elif "path" in low:
            cls = InvalidPathError
    return cls(message, err)
