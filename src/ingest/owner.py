"""Lease owners: who holds a feed, and whether that holder is a process that died on this host.

An owner id is `kind:hostname:pid:start:random`, `start` being the process's start time (clock
ticks since boot, from /proc). A lease of a dead local process (kill -9, power cut of a one-off
fetch) is released at once instead of blocking its work until the lease expires; leases of other
hosts can only expire. Dead means: no such process, a zombie (killed, not yet reaped: common
where PID 1 does not reap), or a process that started at another time (the PID was reused).
"""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

PROC = Path("/proc")


def make_owner(kind: str) -> str:
    """A lease owner id unique across machines and restarts."""
    pid = os.getpid()
    start = process_start(pid) or 0
    return f"{kind}:{socket.gethostname()}:{pid}:{start}:{uuid.uuid4().hex[:8]}"


def process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot), or None when it is not running or
    is a zombie; also None where there is no /proc (then only `os.kill` can tell)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: fields resume after the last ")"
    fields = stat[stat.rfind(")") + 2 :].split()
    if not fields or fields[0] in ("Z", "X"):  # zombie or dead: it will never renew
        return None
    return int(fields[19])  # field 22 of proc_pid_stat(5): starttime


def is_dead_local(owner: str) -> bool:
    """True when `owner` was a process on this host that no longer runs (see module doc).

    Owners of the earlier form `kind:hostname:pid:random` (no start time) are judged by the
    PID alone."""
    parts = owner.split(":")
    if len(parts) not in (4, 5) or parts[1] != socket.gethostname() or not parts[2].isdigit():
        return False
    pid = int(parts[2])
    if PROC.is_dir():
        started = process_start(pid)
        if started is None:
            return True
        recorded = parts[3] if len(parts) == 5 else ""
        return recorded.isdigit() and int(recorded) not in (0, started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
