"""
Which process owns a run, and whether it can still be alive.

A run's start record carries the host, the process id and, on Linux, a token that
names the process exactly (the boot id and the process start time, so a recycled pid
never passes for the dead run's process). Whether a run can still be alive is then
decided as:

- by this process: alive while the run is in progress in it (:data:`ACTIVE`);
- on the same host, with a token: alive while a process with that pid and token exists;
- on the same host, without one (not Linux): alive while the pid exists and the run's
  last record is younger than the timeout;
- on another host: alive while the run's last record is younger than the timeout
  (``PipelineConfig.abandon_after``), since that process cannot be checked from here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["ACTIVE", "Owner", "current_owner", "may_be_alive"]

ACTIVE: set[str] = set()
"""Ids of the runs in progress in this process (a run adds itself, then removes itself)."""

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Owner:
    """The process that started a run: host name, pid and (on Linux) its exact token."""

    host: str
    pid: int
    token: str | None


def current_owner() -> Owner:
    """Return the :class:`Owner` describing this process."""
    pid = os.getpid()
    return Owner(host=socket.gethostname(), pid=pid, token=_token(pid))


def may_be_alive(
    owner: Owner, run_id: str, *, last_record: datetime, now: datetime, timeout: timedelta
) -> bool:
    """Whether the process of run ``run_id`` may still be running it (see the module doc)."""
    me = current_owner()
    if owner == me:
        return run_id in ACTIVE
    recent = now - last_record < timeout
    if owner.host != me.host:
        return recent
    if owner.token is not None and me.token is not None:
        return _token(owner.pid) == owner.token
    return recent and _pid_exists(owner.pid)


def _token(pid: int) -> str | None:
    """
    ``<boot id>:<start time in clock ticks>`` of process ``pid``.

    ``None`` without /proc, for a process that does not exist and for a zombie (dead,
    not yet reaped by its parent).
    """
    try:
        boot = (_PROC / "sys/kernel/random/boot_id").read_text().strip()
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields 3 and 22 are the state and the start time; the command name (field 2) may
    # hold spaces and parentheses.
    fields = stat.rpartition(")")[2].split()
    return None if fields[0] in ("Z", "X") else f"{boot}:{fields[19]}"


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True
