"""The store's one clock and its one retry loop (jittered, growing back-off)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

__all__ = ["BACKOFF_CAP", "attempts", "eventually", "now"]

BACKOFF_CAP = 10
"""The back-off stops growing after this many attempts."""


def now() -> datetime:
    """
    Return the current time in UTC: the time every commit, tag, link and log event records.

    Examples
    --------
    >>> from sensorframe.store._timing import now
    >>> now().tzinfo
    datetime.timezone.utc
    """
    return datetime.now(UTC)


def attempts(count: int, *, backoff: float) -> Iterator[int]:
    """
    Yield the attempt numbers ``0 .. count - 1``, sleeping before each but the first.

    Optimistic writers that lost a race (a commit, a restore, a vacuum, a catalog
    append) try again after a random pause of up to ``backoff`` seconds times the
    attempt number (capped at :data:`BACKOFF_CAP`), so racing writers spread out
    instead of colliding again. The caller ``continue``-s the loop to retry and
    raises its own error once the loop ends without a ``return``.

    Examples
    --------
    >>> from sensorframe.store._timing import attempts
    >>> list(attempts(3, backoff=0.0))
    [0, 1, 2]
    """
    for attempt in range(count):
        if attempt:
            time.sleep(random.uniform(0.0, backoff * min(attempt, BACKOFF_CAP)))
        yield attempt


def eventually(condition: Callable[[], bool], *, waits: tuple[float, ...]) -> bool:
    """
    Tell whether ``condition`` holds, asking again after each pause in ``waits``.

    For what another writer makes visible a moment later (a table it created).

    Examples
    --------
    >>> from sensorframe.store._timing import eventually
    >>> eventually(lambda: False, waits=(0.0, 0.0))
    False
    """
    for wait in waits:
        time.sleep(wait)
        if condition():
            return True
    return False
