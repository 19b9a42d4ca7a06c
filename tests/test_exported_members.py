"""The public surface is exactly `sensorframe.__all__` (as httpx tests its exports)."""

from __future__ import annotations

import types

import pytest

import sensorframe as sf


def test_all_names_resolve_and_nothing_else_is_public() -> None:
    assert len(sf.__all__) == len(set(sf.__all__))
    for name in sf.__all__:
        assert hasattr(sf, name), name
    public = {
        name
        for name in dir(sf)
        if not name.startswith("_") and not isinstance(getattr(sf, name), types.ModuleType)
    }
    exported = {n for n in sf.__all__ if not isinstance(getattr(sf, n), types.ModuleType)}
    assert public == exported - {"__version__"}


def test_public_callables_have_docstring_examples() -> None:
    missing = [
        name
        for name in sf.__all__
        if callable(getattr(sf, name))
        and not isinstance(getattr(sf, name), type)
        and ">>>" not in (getattr(sf, name).__doc__ or "")
    ]
    assert missing == []


def test_drift_timeline_is_the_timeline_module_function() -> None:
    from sensorframe.drift.timeline import drift_timeline

    assert sf.drift_timeline is drift_timeline


def test_errors_share_one_root() -> None:
    errors = [getattr(sf, n) for n in sf.errors.__all__ if n.endswith("Error")]
    assert all(issubclass(e, sf.SensorFrameError) for e in errors)
    warnings = [getattr(sf, n) for n in sf.errors.__all__ if n.endswith("Warning")]
    assert all(issubclass(w, sf.SensorFrameWarning) for w in warnings)


def test_a_removed_name_still_resolves_with_a_deprecation_warning() -> None:
    # UnstableWarning was never issued by anything: removed, with a stand-in
    assert "UnstableWarning" not in sf.__all__
    assert "UnstableWarning" not in sf.errors.__all__
    with pytest.warns(DeprecationWarning, match="UnstableWarning") as caught:
        top = sf.UnstableWarning
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="sensorframe.errors.UnstableWarning") as caught:
        from sensorframe.errors import UnstableWarning
    assert caught[0].filename == __file__
    assert top is UnstableWarning
    assert issubclass(UnstableWarning, sf.SensorFrameWarning)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchError'"):
        _ = sf.NoSuchError


def test_exploration_is_exported() -> None:
    assert sf.make_target is sf.explore.make_target
    assert sf.explore_features is sf.explore.explore_features
    assert sf.Exploration is sf.explore.Exploration
