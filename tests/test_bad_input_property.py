"""
Every public entry point fed malformed frames, configs and paths (issue 13).

The only accepted outcomes are a :class:`~sensorframe.errors.SensorFrameError` or a
result whose invariants hold (row counts, schemas, no NaN left behind, p-values in
[0, 1] ...). Any other exception, a ``PanicException`` included, fails the test. Each
entry point also agrees with :func:`sensorframe.scan`: a frame that ``scan`` refuses
is refused by everything built on it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import string
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.cli import main
from sensorframe.errors import SensorFrameError, ZeroScaleWarning
from tests.conftest import T0, sensor_frames

T = TypeVar("T")

REFUSED = object()
"""What :func:`attempt` returns when the call raised a SensorFrameError."""

CANONICAL = {
    "sensor_id": pl.String,
    "timestamp": pl.Datetime("us", "UTC"),
    "value": pl.Float64,
}

_SLOW = settings(
    max_examples=int(os.environ.get("SENSORFRAME_SLOW_EXAMPLES", "6")),
    suppress_health_check=list(HealthCheck),
)
"""Entry points that write a Delta table or run the pipeline: a few examples each
(``SENSORFRAME_SLOW_EXAMPLES=100`` for a longer hunt)."""


def attempt(call: Callable[[], T]) -> T | object:
    """Return the result of `call`, or REFUSED for a SensorFrameError (nothing else)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ZeroScaleWarning)
            return call()
    except SensorFrameError as exc:
        message = str(exc)
    assert message.strip(), "a SensorFrameError without a message"
    return REFUSED


# -- strategies ----------------------------------------------------------------------------

ODD_IDS = ["a", "b", "", " ", "é", "a/b", "..", "null", "x" * 200, "\x00", "1", "NaN"]
EXTREME = [1e308, -1e308, 5e-324, 0.0, -0.0, math.nan, math.inf, -math.inf, 1e154, -1e200]
any_value = st.one_of(
    st.none(),
    st.sampled_from(EXTREME),
    st.floats(-1e6, 1e6, allow_nan=False),
)
MUTATIONS = (
    "drop_sensor",
    "drop_time",
    "drop_value",
    "int_sensor",
    "null_sensor",
    "iso_time",
    "garbage_time",
    "int_time",
    "null_time",
    "date_time",
    "ms_time",
    "naive_time",
    "text_value",
    "int_value",
    "bool_value",
    "f32_value",
    "all_null_value",
    "list_extra",
    "duplicate_rows",
)


@st.composite
def malformed_frames(draw: st.DrawFn, *, max_rows: int = 12) -> pl.DataFrame:
    """Return a small frame: odd sensor ids, duplicated keys, extreme values, <= 2 mutations."""
    n = draw(st.integers(0, max_rows))
    ids = draw(st.lists(st.sampled_from(ODD_IDS[:4] + ODD_IDS), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))  # ties are common
    values = draw(st.lists(any_value, min_size=n, max_size=n))
    times = [T0 + timedelta(minutes=m) for m in minutes]
    cols: dict[str, pl.Series] = {
        "sensor_id": pl.Series(ids, dtype=pl.String),
        "timestamp": pl.Series(times, dtype=pl.Datetime("us", "UTC")),
        "value": pl.Series(values, dtype=pl.Float64),
    }
    chosen = draw(st.sets(st.sampled_from(MUTATIONS), max_size=2))
    for mutation in sorted(chosen):
        _mutate(cols, mutation, n, draw)
    frame = pl.DataFrame(cols)
    return pl.concat([frame, frame]) if "duplicate_rows" in chosen else frame


def _texts(draw: st.DrawFn, choices: list[str], n: int) -> pl.Series:
    return pl.Series(
        draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n)), dtype=pl.String
    )


def _ints(draw: st.DrawFn, low: int, high: int, n: int) -> pl.Series:
    return pl.Series(draw(st.lists(st.integers(low, high), min_size=n, max_size=n)), dtype=pl.Int64)


def _mutate(cols: dict[str, pl.Series], mutation: str, n: int, draw: st.DrawFn) -> None:
    if mutation.startswith("drop_"):
        cols.pop(
            {"drop_sensor": "sensor_id", "drop_time": "timestamp"}.get(mutation, "value"), None
        )
    elif mutation == "int_sensor":
        cols["sensor_id"] = pl.Series(range(n), dtype=pl.Int64)
    elif mutation == "null_sensor":
        cols["sensor_id"] = pl.Series([None if i % 2 else "a" for i in range(n)], dtype=pl.String)
    elif mutation == "iso_time":
        cols["timestamp"] = pl.Series([f"2026-01-01T00:{i % 60:02d}:00" for i in range(n)])
    elif mutation == "garbage_time":
        cols["timestamp"] = _texts(draw, ["1/2/2022 0:00", "abc", "", "2026-13-01"], n)
    elif mutation == "int_time":
        cols["timestamp"] = _ints(draw, -(2**62), 2**62, n)
    elif mutation == "null_time":
        cols["timestamp"] = pl.Series([None] * n, dtype=pl.Datetime("us", "UTC"))
    elif mutation == "date_time":
        cols["timestamp"] = pl.Series([date(2026, 1, 1 + i % 28) for i in range(n)])
    elif mutation == "ms_time":
        start = draw(st.sampled_from([0, 2**40, -(2**40)]))
        cols["timestamp"] = pl.Series(range(start, start + n), dtype=pl.Int64).cast(
            pl.Datetime("ms")
        )
    elif mutation == "naive_time":
        cols["timestamp"] = pl.Series(
            [T0.replace(tzinfo=None) + timedelta(hours=i) for i in range(n)]
        )
    elif mutation == "text_value":
        cols["value"] = _texts(draw, ["1.5", "abc", "", "nan", "1e999"], n)
    elif mutation == "int_value":
        cols["value"] = _ints(draw, -(2**63), 2**63 - 1, n)
    elif mutation == "bool_value":
        cols["value"] = pl.Series([i % 2 == 0 for i in range(n)], dtype=pl.Boolean)
    elif mutation == "f32_value":
        cols["value"] = pl.Series(
            draw(st.lists(any_value, min_size=n, max_size=n)), dtype=pl.Float32, strict=False
        )
    elif mutation == "all_null_value":
        cols["value"] = pl.Series([None] * n, dtype=pl.Float64)
    elif mutation == "list_extra":
        cols["extra"] = pl.Series([[i] for i in range(n)], dtype=pl.List(pl.Int64))


weird = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(string.printable, max_size=6),
    st.lists(st.one_of(st.integers(-3, 10**10), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(timedelta(days=-1)),
)
"""Values of any type for config fields and parameters."""


def configs(cls: type[T]) -> st.SearchStrategy[Any]:
    """A config built from weird field values (or what its constructor raised), or not a config."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]

    def build(kwargs: dict[str, Any]) -> Any:
        return attempt(lambda: cls(**kwargs))

    built = st.dictionaries(st.sampled_from(names), weird, max_size=3).map(build)
    return st.one_of(
        st.none(), built, st.dictionaries(st.sampled_from(names), weird, max_size=2), weird
    )


def _rows_by_sensor(frame: pl.DataFrame) -> dict[str, int]:
    return dict(frame.group_by("sensor_id").len().iter_rows())


def canonical(frame: Any) -> pl.DataFrame | object:
    """The scanned frame, checked against the data model, or REFUSED."""
    out = attempt(lambda: sf.scan(frame).collect())
    if out is REFUSED:
        return out
    assert isinstance(out, pl.DataFrame)
    assert {k: out.schema[k] for k in CANONICAL} == CANONICAL
    value = out["value"]
    assert (value.is_finite() | value.is_null()).all(), "NaN or inf left after scan"
    assert out["timestamp"].null_count() == 0
    assert out["sensor_id"].null_count() == 0
    return out


def _no_nan(frame: pl.DataFrame, what: str) -> None:
    for name, dtype in frame.schema.items():
        if dtype in (pl.Float64, pl.Float32):
            assert not frame[name].is_nan().any(), f"{what}: NaN in {name}"


def _huge(frame: pl.DataFrame) -> bool:
    """Whether readings are so large that arithmetic on them may overflow."""
    top = frame["value"].abs().max()
    return top is not None and top > 1e150  # type: ignore[operator]


# -- frames ------------------------------------------------------------------------------


@given(frame=malformed_frames())
@example(frame=pl.DataFrame({"sensor_id": ["a"], "timestamp": [1], "value": [1e308]}))
def test_scan(frame: pl.DataFrame) -> None:
    canonical(frame)
    canonical(frame.to_arrow())


@given(
    wide=st.lists(
        st.sampled_from(["a", "b", "", "é", "value", "sensor_id"]), unique=True, max_size=3
    ).flatmap(
        lambda names: st.lists(st.tuples(*(any_value for _ in names)), max_size=6).map(
            lambda rows: pl.DataFrame(
                {
                    "ts": [T0 + timedelta(minutes=i % 3) for i in range(len(rows))],
                    **{
                        n: pl.Series([r[j] for r in rows], dtype=pl.Float64)
                        for j, n in enumerate(names)
                    },
                }
            )
        )
    )
)
def test_melt_wide(wide: pl.DataFrame) -> None:
    out = attempt(lambda: sf.melt_wide(wide, time="ts").collect())
    if out is not REFUSED:
        assert isinstance(out, pl.DataFrame)
        assert dict(out.schema) == CANONICAL
        assert out.height <= wide.height * (wide.width - 1)


@given(frame=malformed_frames(), config=configs(sf.QualityConfig))
@example(
    frame=pl.DataFrame(
        {"sensor_id": ["a"] * 3, "timestamp": [T0] * 3, "value": [1e308, -1e308, 0.0]}
    ),
    config=None,
)
@example(
    frame=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    config={"outlier_z": 3},
)
def test_assess_and_flag_quality(frame: pl.DataFrame, config: Any) -> None:
    canon = canonical(frame)
    report = attempt(lambda: sf.assess_quality(frame, config))
    flags = attempt(lambda: sf.flag_quality(frame, config).collect())
    if canon is REFUSED or not isinstance(config, sf.QualityConfig | None):
        assert report is REFUSED
        assert flags is REFUSED
        return
    assert isinstance(canon, pl.DataFrame)
    if report is not REFUSED:
        table = report.table  # type: ignore[attr-defined]
        assert dict(table.select("sensor_id", "rows").iter_rows()) == _rows_by_sensor(canon)
        _no_nan(table, "quality table")
        assert set(table["status"]) <= {s.value for s in sf.QualityStatus}
    if flags is not REFUSED:
        assert isinstance(flags, pl.DataFrame)
        assert flags.height == canon.height
        for name in (
            "flag_missing",
            "flag_outlier",
            "flag_flatline",
            "flag_gap",
            "flag_duplicate",
            "flag_any",
        ):
            assert flags[name].null_count() == 0, name


@given(
    frame=malformed_frames(),
    ratios=st.one_of(st.just((0.7, 0.15, 0.15)), weird),
    at=st.one_of(st.none(), weird, st.tuples(weird, weird)),
)
@example(
    frame=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    ratios=(0.7, 0.15, 0.15),
    at=(1, 2),
)
def test_split(frame: pl.DataFrame, ratios: Any, at: Any) -> None:
    canon = canonical(frame)
    parts = attempt(lambda: pl.collect_all(sf.split(frame, ratios, at=at)))
    if canon is REFUSED:
        assert parts is REFUSED
        return
    if parts is not REFUSED:
        assert isinstance(canon, pl.DataFrame)
        assert sum(p.height for p in parts) == canon.height  # type: ignore[attr-defined]


@given(
    frame=malformed_frames(),
    method=st.one_of(st.sampled_from(["zscore", "minmax", "robust", "none"]), weird),
    other=malformed_frames(),
)
@example(
    frame=pl.DataFrame({"sensor_id": ["a"] * 2, "timestamp": [T0, T0], "value": [1e308, -1e308]}),
    method="zscore",
    other=pl.DataFrame(),
)
def test_normalizer(frame: pl.DataFrame, method: Any, other: pl.DataFrame) -> None:
    canon = canonical(frame)
    norm = attempt(lambda: sf.Normalizer(method).fit(frame))
    if canon is REFUSED:
        assert norm is REFUSED
    if norm is REFUSED:
        return
    params = norm.params_  # type: ignore[attr-defined]
    assert params["center"].is_finite().all()
    assert (params["scale"].is_finite() & (params["scale"] > 0)).all()
    for data in (frame, other):
        out = attempt(lambda data=data: norm.transform(data).lazy().collect())  # type: ignore[attr-defined]
        if out is not REFUSED:
            assert isinstance(out, pl.DataFrame)
            assert not out["value"].is_nan().any()


@given(
    frame=malformed_frames(),
    method=st.sampled_from(["zscore", "robust"]),
    config=configs(sf.QualityConfig),
)
def test_prepare_training_data(frame: pl.DataFrame, method: str, config: Any) -> None:
    canon = canonical(frame)
    data = attempt(lambda: sf.prepare_training_data(frame, normalize=method, quality_config=config))  # type: ignore[arg-type]
    if canon is REFUSED:
        assert data is REFUSED
    if data is REFUSED:
        return
    assert isinstance(canon, pl.DataFrame)
    parts = (data.train, data.val, data.test)  # type: ignore[attr-defined]
    assert sum(p.height for p in parts) == canon.height
    for part in parts:
        assert not part["value"].is_nan().any()


@given(frame=malformed_frames())
def test_content_hash(frame: pl.DataFrame) -> None:
    canon = canonical(frame)
    digest = attempt(lambda: sf.content_hash(frame))
    if canon is REFUSED:
        assert digest is REFUSED
        return
    assert isinstance(digest, str)
    assert len(digest) == 64
    assert isinstance(canon, pl.DataFrame)
    assert attempt(lambda: sf.content_hash(frame.reverse())) == digest


def test_content_hash_of_tied_rows_with_a_list_column() -> None:
    frame = pl.DataFrame(
        {"sensor_id": ["a", "a"], "timestamp": [T0, T0], "value": [1.0, 1.0], "extra": [[0], [1]]}
    )
    assert sf.content_hash(frame) == sf.content_hash(frame.reverse())


# -- features and drift ----------------------------------------------------------------

_SMALL_FEATURES = sf.FeatureConfig(
    rolling_windows=[2, "3m"],
    rolling_stats=["mean", "std"],
    lags=[1],
    diffs=[1],
    volatility_windows=[2],
    spectral_window=4,
    spectral_top_k=2,
)


@given(
    frame=malformed_frames(), config=st.one_of(st.just(_SMALL_FEATURES), configs(sf.FeatureConfig))
)
@example(
    frame=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    config={"lags": [1]},
)
def test_engineer_features_and_matrix(frame: pl.DataFrame, config: Any) -> None:
    canon = canonical(frame)
    feats = attempt(lambda: sf.engineer_features(frame, config).collect())
    if canon is REFUSED or not isinstance(config, sf.FeatureConfig | None):
        assert feats is REFUSED
        return
    if feats is REFUSED:
        return
    assert isinstance(canon, pl.DataFrame)
    assert isinstance(feats, pl.DataFrame)
    names = sf.feature_names(config)
    assert feats.columns == ["sensor_id", "timestamp", "value", *names]
    assert feats.height == canon.height
    if not _huge(canon):  # sums of readings near 1e308 overflow (see the report)
        _no_nan(feats, "features")
    matrix = attempt(lambda: sf.feature_matrix(feats, names[:3]))
    assert isinstance(matrix, np.ndarray)
    assert matrix.shape == (feats.height, len(names[:3]))
    assert attempt(lambda: sf.feature_matrix(feats, [*names[:1], *names[:1]])) is REFUSED


@given(frame=malformed_frames(), top_k=st.one_of(st.integers(-2, 70), weird))
@example(frame=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}), top_k=10**9)
def test_spectral_summary(frame: pl.DataFrame, top_k: Any) -> None:
    canon = canonical(frame)
    out = attempt(lambda: sf.spectral_summary(frame, top_k=top_k))
    if canon is REFUSED or not (isinstance(top_k, int) and 1 <= top_k <= 64) or top_k is True:
        assert out is REFUSED
        return
    assert isinstance(canon, pl.DataFrame)
    assert isinstance(out, pl.DataFrame)
    present = canon.filter(pl.col("value").is_not_null())
    assert dict(out.select("sensor_id", "n_points").iter_rows()) == _rows_by_sensor(present)
    assert out.width == 3 + 3 * top_k + 2
    if not _huge(canon):
        _no_nan(out, "spectral summary")


@given(
    ref=malformed_frames(),
    cur=malformed_frames(),
    config=configs(sf.DriftConfig),
    target=st.one_of(st.none(), st.sampled_from(["value", "timestamp", "extra", "missing"]), weird),
)
@example(
    ref=pl.DataFrame({"sensor_id": ["a"] * 2, "timestamp": [T0, T0], "value": [1e308, -1e308]}),
    cur=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    config=None,
    target=None,
)
@example(
    ref=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    cur=pl.DataFrame({"sensor_id": ["a"], "timestamp": [T0], "value": [1.0]}),
    config=None,
    target="value",
)
def test_detect_drift(ref: pl.DataFrame, cur: pl.DataFrame, config: Any, target: Any) -> None:
    canon_ref, canon_cur = canonical(ref), canonical(cur)
    report = attempt(lambda: sf.detect_drift(ref, cur, config, target=target))
    refused = canon_ref is REFUSED or canon_cur is REFUSED
    if refused or not isinstance(config, sf.DriftConfig | None):
        assert report is REFUSED
        return
    if target is not None:
        assert report is REFUSED  # no numeric target column in these frames
        return
    if report is REFUSED:
        return
    assert isinstance(canon_ref, pl.DataFrame)
    assert isinstance(canon_cur, pl.DataFrame)
    table = report.table  # type: ignore[attr-defined]
    sensors = set(canon_ref["sensor_id"]) | set(canon_cur["sensor_id"])
    assert sorted(table["sensor_id"]) == sorted(sensors)
    _no_nan(table, "drift table")
    for name in table.columns:
        if name.endswith("pvalue") or name.endswith("pvalue_adjusted"):
            p = table[name].drop_nulls()
            assert ((p >= 0) & (p <= 1)).all(), name


@settings(max_examples=15)
@given(frame=malformed_frames())
def test_drift_detector_round_trip(
    frame: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> None:
    det = attempt(lambda: sf.DriftDetector().fit(frame))
    if det is REFUSED:
        return
    path = tmp_path_factory.mktemp("det") / "ref.parquet"
    det.save(path)  # type: ignore[attr-defined]
    back = sf.DriftDetector.load(path)
    assert back.profile_.equals(det.profile_)  # type: ignore[attr-defined]
    assert attempt(lambda: back.detect(frame)) is not REFUSED


# -- paths -------------------------------------------------------------------------------


@functools.cache
def _bad_paths() -> dict[str, Path]:
    """Missing files, folders and garbage files, made once in a temporary folder."""
    root = Path(tempfile.mkdtemp(prefix="sf-bad-paths-"))
    good = pl.DataFrame(
        {"sensor_id": ["a"] * 4, "timestamp": [T0 + timedelta(minutes=i) for i in range(4)]}
    ).with_columns(value=pl.Series([1.0, 2.0, 3.0, 4.0]))
    good.write_parquet(root / "good.parquet")
    data = (root / "good.parquet").read_bytes()
    files: dict[str, bytes | str] = {
        "random.parquet": np.random.default_rng(0).bytes(256),
        "random.csv": np.random.default_rng(1).bytes(256),
        "random.json": np.random.default_rng(2).bytes(64),
        "random": np.random.default_rng(3).bytes(64),
        "empty.parquet": b"",
        "empty.csv": b"",
        "truncated.parquet": data[: len(data) // 2],
        "header.csv": "sensor_id,timestamp,value\n",
        "text_value.csv": "sensor_id,timestamp,value\n"
        + "a,2026-01-01T00:00:00,1.0\n" * 3
        + "a,2026-01-01T00:01:00,abc\n",
        "us_dates.csv": "sensor_id,timestamp,value\na,1/2/2022 0:00,1.0\na,1/3/2022 0:00,2.0\n",
        "ragged.csv": "sensor_id,timestamp,value\na,2026-01-01,1,2\nb\n",
        "truncated.json": '{"format": "sensorframe',
        "list.json": "[1, 2, 3]",
    }
    for name, content in files.items():
        path = root / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    pl.DataFrame({"x": [1]}).write_parquet(root / "no_columns.parquet")
    (root / "empty_dir").mkdir()
    garbage_dir = root / "garbage_dir"
    garbage_dir.mkdir()
    (garbage_dir / "part-0.parquet").write_bytes(b"not parquet")
    delta = root / "bad_delta" / "_delta_log"
    delta.mkdir(parents=True)
    (delta / "00000000000000000000.json").write_text('{"commitInfo": {"timestamp": ')
    paths = {name: root / name for name in files}
    for name in ("no_columns.parquet", "empty_dir", "garbage_dir", "bad_delta"):
        paths[name] = root / name
    paths["missing"] = root / "missing.parquet"
    paths["root"] = root
    return paths


BAD_PATHS = sorted(_bad_paths())
paths = st.sampled_from(BAD_PATHS).map(lambda name: _bad_paths()[name])
sources = st.one_of(paths, paths.map(str), weird.filter(lambda v: ":" not in str(v)))
"""Paths and other objects as sources; no URLs (s3:// would go to the network)."""


@given(source=sources)
@example(source=_bad_paths()["text_value.csv"])
@example(source=_bad_paths()["us_dates.csv"])
def test_paths_and_odd_sources(source: Any) -> None:
    canon = canonical(source)
    outcomes = {
        "assess_quality": attempt(lambda: sf.assess_quality(source)),
        "engineer_features": attempt(lambda: sf.engineer_features(source).collect()),
        "spectral_summary": attempt(lambda: sf.spectral_summary(source)),
        "split": attempt(lambda: pl.collect_all(sf.split(source))),
        "content_hash": attempt(lambda: sf.content_hash(source)),
        "detect_drift": attempt(lambda: sf.detect_drift(source, source)),
        "normalizer": attempt(lambda: sf.Normalizer().fit(source)),
    }
    if canon is REFUSED:
        assert all(v is REFUSED for v in outcomes.values()), outcomes
    assert attempt(lambda: sf.Normalizer.load(source)) is REFUSED
    assert attempt(lambda: sf.DriftDetector.load(source)) is REFUSED


@pytest.mark.parametrize("name", ["bad_delta", "://", "a://b"])
def test_scan_of_a_corrupt_delta_folder_or_a_bad_url(name: str) -> None:
    assert canonical(_bad_paths().get(name, name)) is REFUSED


# -- store, pipeline and command line (a few examples each: they write Delta tables) ----


def _fresh(tmp: pytest.TempPathFactory, name: str) -> Path:
    return tmp.mktemp(name)


@_SLOW
@given(
    frame=malformed_frames(max_rows=6),
    dataset=st.one_of(st.just("readings"), weird),
    description=st.one_of(st.just(""), weird),
    tags=st.one_of(st.just(()), weird),
    version=st.one_of(st.none(), st.just(0), weird),
)
@example(frame=pl.DataFrame({"a": [1]}), dataset=5, description="", tags=(), version=None)
@example(frame=pl.DataFrame({"a": [1]}), dataset="readings", description=None, tags=5, version="0")
def test_store_commit_and_read(
    tmp_path_factory: pytest.TempPathFactory,
    frame: pl.DataFrame,
    dataset: Any,
    description: Any,
    tags: Any,
    version: Any,
) -> None:
    store = sf.DatasetStore(_fresh(tmp_path_factory, "store"))
    canon = canonical(frame)
    landed = attempt(lambda: store.commit(dataset, frame, description=description, tags=tags))
    if canon is REFUSED:
        assert landed is REFUSED
    if landed is REFUSED:
        return
    assert isinstance(canon, pl.DataFrame)
    back = attempt(lambda: store.read(dataset, version=version).collect())
    if not (version is None or (type(version) is int and version == 0)):
        assert back is REFUSED
        return
    assert isinstance(back, pl.DataFrame)
    assert back.height == canon.height
    assert sf.content_hash(back) == landed.data_hash  # type: ignore[attr-defined]
    assert bool(store.verify(dataset, 0))


@_SLOW
@given(root=sources)
def test_store_roots(root: Any) -> None:
    store = attempt(lambda: sf.DatasetStore(root))
    if store is not REFUSED:
        assert attempt(lambda: store.read("readings")) is REFUSED  # type: ignore[attr-defined]


@pytest.mark.parametrize("root", ["~0"])
def test_store_root_of_an_unknown_home(root: str) -> None:
    assert attempt(lambda: sf.DatasetStore(root)) is REFUSED


@_SLOW
@given(
    frame=st.one_of(sensor_frames(max_rows=80, regular=True), malformed_frames(max_rows=10)),
    config=st.sampled_from([None, sf.PipelineConfig(features=_SMALL_FEATURES, window=None)]),
)
def test_pipeline_run(
    tmp_path_factory: pytest.TempPathFactory, frame: pl.DataFrame, config: Any
) -> None:
    store = sf.DatasetStore(_fresh(tmp_path_factory, "pipe"))
    canon = canonical(frame)
    run = attempt(lambda: sf.Pipeline(store, config).run(frame))
    if canon is REFUSED:
        assert run is REFUSED
    if run is REFUSED:
        return
    assert isinstance(canon, pl.DataFrame)
    sensors = run.sensors  # type: ignore[attr-defined]
    assert set(sensors["sensor_id"]) <= set(canon["sensor_id"])
    assert set(sensors["status"]) <= {"success", "failed", "skipped"}
    for version in run.versions.values():  # type: ignore[attr-defined]
        assert bool(store.verify(version.dataset, version.version))


@pytest.mark.parametrize(
    "make",
    [
        lambda: sf.PipelineConfig(steps=None),  # type: ignore[arg-type]
        lambda: sf.PipelineConfig(min_readings=None),  # type: ignore[arg-type]
        lambda: sf.PipelineConfig(abandon_after=5),  # type: ignore[arg-type]
        lambda: sf.Pipeline(sf.DatasetStore(tempfile.mkdtemp()), True),  # type: ignore[arg-type]
    ],
)
def test_pipeline_config_of_the_wrong_type(make: Callable[[], Any]) -> None:
    assert attempt(make) is REFUSED


def _cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


COMMON_OPTIONS = [[], ["--sensor-col", "missing"], ["--time-format", "%d/%m/%Y"]]
CLI_OPTIONS = {
    "quality": [*COMMON_OPTIONS, ["--outlier-z", "0"], ["--outlier-z", "nan"], ["--events"]],
    "drift": [*COMMON_OPTIONS, ["--alpha", "1"], ["--timezone", "Mars/Olympus"]],
    "run": [
        *COMMON_OPTIONS,
        ["--hours-back", "inf"],
        ["--hours-back", "nan"],
        ["--hours-back", "-5"],
    ],
}


@_SLOW
@given(
    frame=st.one_of(sensor_frames(max_rows=40, regular=True), malformed_frames(max_rows=8)),
    command_options=st.sampled_from(sorted(CLI_OPTIONS)).flatmap(
        lambda c: st.tuples(st.just(c), st.sampled_from(CLI_OPTIONS[c]))
    ),
    as_csv=st.booleans(),
    source=st.one_of(st.none(), paths),
)
@example(
    frame=pl.DataFrame(),
    command_options=("run", ["--hours-back", "nan"]),
    as_csv=False,
    source=None,
)
@example(
    frame=pl.DataFrame(),
    command_options=("quality", []),
    as_csv=True,
    source=_bad_paths()["text_value.csv"],
)
def test_cli(
    tmp_path_factory: pytest.TempPathFactory,
    frame: pl.DataFrame,
    command_options: tuple[str, list[str]],
    as_csv: bool,
    source: Path | None,
) -> None:
    command, options = command_options
    folder = _fresh(tmp_path_factory, "cli")
    if source is None:
        source = folder / ("data.csv" if as_csv else "data.parquet")
        if as_csv:
            with contextlib.suppress(pl.exceptions.PolarsError):  # nested columns: no CSV
                frame.write_csv(source)
        else:
            frame.write_parquet(source)
    argv = [command, str(source)]
    if command == "drift":
        argv.append(str(source))
    if command == "run":
        argv += ["--root", str(folder / "lake")]
    code, err = _cli([*argv, *options])
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert lines, "exit status 2 without a message"
        assert len(lines) == 1 or lines[0].startswith("usage:"), err
