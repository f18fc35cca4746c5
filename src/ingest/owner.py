"""Lease owners: who holds a feed, and whether that holder is a process that died on this host.

An owner id is `kind:hostname:pid:random`. A lease of a dead local process (kill -9, power cut of
a one-off fetch) is released at once instead of blocking its feeds until the lease expires;
leases of other hosts can only expire.
"""

from __future__ import annotations

import os
import socket
import uuid


def make_owner(kind: str) -> str:
    """A lease owner id unique across machines and restarts."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_dead_local(owner: str) -> bool:
    """True when `owner` was a process on this host that no longer runs."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
