"""The store's one retry loop and one clock."""

from __future__ import annotations

from datetime import UTC

import pytest

from sensorframe.store import _timing


def test_attempts_pause_before_each_retry_and_the_pause_grows_to_a_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(_timing.time, "sleep", pauses.append)
    monkeypatch.setattr(_timing.random, "uniform", lambda low, high: high)  # the longest pause
    assert list(_timing.attempts(13, backoff=0.5)) == list(range(13))
    assert pauses == [0.5 * min(n, _timing.BACKOFF_CAP) for n in range(1, 13)]


def test_attempts_stop_when_the_caller_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(_timing.time, "sleep", pauses.append)
    for attempt in _timing.attempts(50, backoff=0.1):
        if attempt == 2:
            break
    assert len(pauses) == 2


def test_eventually_asks_after_each_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(_timing.time, "sleep", waits.append)
    answers = iter([False, False, True])
    assert _timing.eventually(lambda: next(answers), waits=(0.0, 0.1, 0.2, 0.3))
    assert waits == [0.0, 0.1, 0.2]
    assert not _timing.eventually(lambda: False, waits=(0.0,))


def test_now_is_aware_utc() -> None:
    assert _timing.now().tzinfo is UTC
