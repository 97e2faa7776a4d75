"""The daemon's counters (CTL_STATS), shaped as ``modalfsctl stats --json``."""
from __future__ import annotations

from typing import Any, Dict, Optional

from . import exceptions as exc
from . import wire
from .client import Client
from .session import default_client

#: enum modalfs_op, in order from 1, for the names of the per-op counters.
OP_NAMES = ("MOUNT UMOUNT STATFS LOOKUP GETATTR SETATTR READDIR CREATE MKDIR "
            "SYMLINK READLINK LINK UNLINK RMDIR RENAME READ WRITE FSYNC EVICT "
            "GETXATTR SETXATTR LISTXATTR REMOVEXATTR INO_RANGE").split()


def op_name(op: int) -> str:
    """The name of kernel op number ``op`` (``"?"`` if unknown)."""
    return OP_NAMES[op - 1] if 1 <= op <= len(OP_NAMES) else "?"


def stats(*, client: Optional[Client] = None) -> Dict[str, Any]:
    """The counters since the daemon started: ``started_unix``,
    ``commits``, ``syncs``, ``block_bytes``, ``meta_bytes``, ``batches``
    and ``ops`` (op name -> requests, errors, mean_ns, p99_ns, max_ns;
    ops never requested are left out)."""
    c = client or default_client()
    r = c.call(c.request(wire.CTL_STATS), "reading the daemon's counters")
    nest = r.first(wire.A_STATS)
    if nest is None:
        raise exc.ProtocolError("STATS reply without counters")
    try:
        top = wire.decode_fields(nest, wire.STATS_FIELDS)
        ops: Dict[str, Dict[str, int]] = {}
        for t, p in wire.iter_attrs(nest):
            if t == wire.STATS_OP:
                o = wire.decode_fields(p, wire.STATS_OP_FIELDS)
                num = o.pop("op")
                if o["requests"]:
                    ops[op_name(num)] = o
    except ValueError as e:
        raise exc.ProtocolError(f"malformed counters: {e}") from None
    return {
        "started_unix": top["started"], "commits": top["commits"],
        "syncs": top["syncs"], "block_bytes": top["block_bytes"],
        "meta_bytes": top["meta_bytes"],
        "batches": {"count": top["batches"], "ops": top["batch_ops"],
                    "p99": top["batch_p99"], "max": top["batch_max"]},
        "ops": ops,
    }
