"""Process targets for the pipeline kill tests (importable by spawned children)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import sensorframe as sf
from sensorframe.pipeline import _commit

KILL_POINTS = ("staging", "before_raw", "after_raw", "after_processed", "before_cleanup")
"""Where :func:`run_and_die` kills itself, in the order a run passes them."""


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _killing(fn: Callable[..., Any], *, before: bool, when: Callable[..., bool]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before and when(*args, **kwargs):
            _die()
        out = fn(*args, **kwargs)
        if not before and when(*args, **kwargs):
            _die()
        return out

    return wrapper


def pipeline(root: str, options: dict[str, str] | None = None) -> sf.Pipeline:
    """The pipeline of the kill tests: small features, every reading used."""
    config = sf.PipelineConfig(window=None, features=sf.FeatureConfig(rolling_windows=[6]))
    return sf.Pipeline(sf.DatasetStore(root, storage_options=options), config)


def data(seed: int) -> Any:
    """A small frame of 3 sensors."""
    return sf.datasets.synthetic(n_sensors=3, n_points=400, seed=seed, freq="10m").frame


def run_and_die(root: str, kill_at: str, options: dict[str, str] | None = None) -> None:
    """Run the pipeline once, SIGKILLing this process at ``kill_at`` (see KILL_POINTS)."""
    store_cls = sf.DatasetStore

    def dataset_is(name: str) -> Callable[..., bool]:
        return lambda _store, dataset, *_a, **_k: dataset == name

    if kill_at == "staging":  # after the processed frame was staged, before the intent
        real_write = _commit.pl.DataFrame.write_ipc

        def write(frame: Any, path: Any, **kwargs: Any) -> Any:
            if str(path).endswith("/intent.arrow"):
                _die()
            return real_write(frame, path, **kwargs)

        _commit.pl.DataFrame.write_ipc = write  # type: ignore[method-assign]
    elif kill_at == "before_raw":  # the commit event is recorded, nothing committed
        store_cls.commit = _killing(store_cls.commit, before=True, when=dataset_is("raw"))  # type: ignore[method-assign]
    elif kill_at == "after_raw":
        store_cls.commit = _killing(store_cls.commit, before=False, when=dataset_is("raw"))  # type: ignore[method-assign]
    elif kill_at == "after_processed":
        store_cls.commit = _killing(  # type: ignore[method-assign]
            store_cls.commit, before=False, when=dataset_is("processed")
        )
    elif kill_at == "before_cleanup":  # finished, its staging folder not yet removed
        _commit.Staging.remove = lambda _self: _die()  # type: ignore[method-assign]
    pipeline(root, options).run(data(seed=1), progress=False)
    raise AssertionError(f"kill point {kill_at!r} was never reached")


def run_forever(root: str) -> None:
    """Run the pipeline again and again (the parent SIGKILLs this process at random)."""
    pipe = pipeline(root)
    seed = 0
    while True:
        seed += 1
        pipe.run(data(seed), progress=False)
