"""Tests of sensorframe.prepare: split, Normalizer, content_hash, prepare_training_data."""

from __future__ import annotations

import importlib.metadata
import io
import itertools
import json
import math
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import (
    EmptyFrameError,
    InvalidParameterError,
    NotFittedError,
    SourceError,
    UnknownSensorError,
    ZeroScaleWarning,
)
from sensorframe.prepare import (
    Normalizer,
    Split,
    TrainingData,
    content_hash,
    prepare_training_data,
    split,
)
from sensorframe.quality import QualityReport
from tests.conftest import T0, finite_values, sensor_frames
from tests.test_hash_parts import reference_hash

METHODS = ["zscore", "minmax", "robust", "none"]
EPS = float(np.finfo(np.float64).eps)


def frame_of(ids: list[str], seconds: list[int], values: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": ids,
            "timestamp": [T0 + timedelta(seconds=s) for s in seconds],
            "value": values,
        },
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )


def canonical(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as a sorted list (nulls sort first), for multiset comparisons."""
    return sorted(frame.rows(), key=lambda r: tuple((v is not None, v) for v in r))


def fit_quietly(norm: Normalizer, frame: Any) -> Normalizer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroScaleWarning)
        return norm.fit(frame)


# -- split ---------------------------------------------------------------------------

ratio_weights = st.tuples(st.integers(1, 10), st.integers(1, 10), st.integers(1, 10))


@st.composite
def tied_frames(draw: st.DrawFn) -> pl.DataFrame:
    """Frames whose timestamps repeat within a sensor (few distinct times)."""
    n = draw(st.integers(0, 40))
    ids = draw(st.lists(st.sampled_from("ab"), min_size=n, max_size=n))
    secs = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    vals = draw(st.lists(finite_values, min_size=n, max_size=n))
    return frame_of(ids, secs, vals)


def expected_parts(frame: pl.DataFrame, weights: tuple[int, int, int]) -> list[int]:
    """Plain-Python reference of the documented rule: the part of every row."""
    total = sum(weights)
    parts = []
    for sid, ts in zip(frame["sensor_id"], frame["timestamp"], strict=True):
        times = [t for s, t in zip(frame["sensor_id"], frame["timestamp"], strict=True) if s == sid]
        n = len(times)
        n_val, n_test = n * weights[1] // total, n * weights[2] // total
        n_train = n - n_val - n_test
        position = sum(t < ts for t in times)
        parts.append(0 if position < n_train else 1 if position < n_train + n_val else 2)
    return parts


def labelled(frame: pl.DataFrame, parts: Split) -> pl.DataFrame:
    return pl.concat(
        [p.collect().with_columns(part=pl.lit(k, pl.Int64)) for k, p in enumerate(parts)]
    )


@given(frame=sensor_frames(), weights=ratio_weights)
def test_split_sizes_match_floor_rule(frame: pl.DataFrame, weights: tuple[int, int, int]) -> None:
    ratios = tuple(w / sum(weights) for w in weights)
    parts = split(frame, ratios)
    got = labelled(frame, parts)
    want = frame.with_columns(part=pl.Series(expected_parts(frame, weights), dtype=pl.Int64))
    assert canonical(got) == canonical(want)
    counts = got.group_by("sensor_id", "part").len()
    for sid, n in frame.group_by("sensor_id").len().rows():
        sizes = dict(counts.filter(pl.col("sensor_id") == sid).select("part", "len").rows())
        n_val, n_test = n * weights[1] // sum(weights), n * weights[2] // sum(weights)
        assert sizes.get(1, 0) == n_val
        assert sizes.get(2, 0) == n_test
        assert sizes.get(0, 0) == n - n_val - n_test >= 1


@given(frame=sensor_frames(), weights=ratio_weights)
def test_split_is_chronological_per_sensor(
    frame: pl.DataFrame, weights: tuple[int, int, int]
) -> None:
    got = labelled(frame, split(frame, tuple(w / sum(weights) for w in weights)))
    spans = got.group_by("sensor_id", "part").agg(
        lo=pl.col("timestamp").min(), hi=pl.col("timestamp").max()
    )
    for sid in frame["sensor_id"].unique():
        rows = spans.filter(pl.col("sensor_id") == sid).sort("part").rows(named=True)
        for earlier, later in itertools.pairwise(rows):
            assert earlier["hi"] < later["lo"]


@given(frame=tied_frames(), weights=ratio_weights)
def test_split_keeps_tied_timestamps_together(
    frame: pl.DataFrame, weights: tuple[int, int, int]
) -> None:
    ratios = tuple(w / sum(weights) for w in weights)
    got = labelled(frame, split(frame, ratios))
    want = frame.with_columns(part=pl.Series(expected_parts(frame, weights), dtype=pl.Int64))
    assert canonical(got) == canonical(want)
    per_time = got.group_by("sensor_id", "timestamp").agg(pl.col("part").n_unique())
    assert (per_time["part"] <= 1).all()
    # The parts depend on the content only, not on the row order.
    again = labelled(frame.reverse(), split(frame.reverse(), ratios))
    assert canonical(again) == canonical(got)


def test_split_small_sensors_train_first() -> None:
    sizes = {"one": 1, "six": 6, "seven": 7, "twenty": 20}
    frame = pl.concat(
        frame_of([sid] * n, list(range(n)), [float(i) for i in range(n)])
        for sid, n in sizes.items()
    )
    train, val, test = (p.collect().group_by("sensor_id").len() for p in split(frame))
    count = {name: dict(part.rows()) for name, part in zip("tvs", (train, val, test), strict=True)}
    assert count["t"] == {"one": 1, "six": 6, "seven": 5, "twenty": 14}
    assert count["v"] == {"seven": 1, "twenty": 3}
    assert count["s"] == {"seven": 1, "twenty": 3}


def test_split_returns_lazy_frames_in_input_order() -> None:
    frame = frame_of(["a", "b", "a", "b", "a"], [5, 1, 1, 2, 3], [1.0, 2.0, 3.0, 4.0, 5.0])
    parts = split(frame, (0.2, 0.4, 0.4))
    assert isinstance(parts, Split)
    assert all(isinstance(p, pl.LazyFrame) for p in parts)
    # "a" (3 rows) gives 1 row to each part; "b" (2 rows) trains on both.
    assert parts.train.collect()["value"].to_list() == [2.0, 3.0, 4.0]
    assert parts.val.collect()["value"].to_list() == [5.0]
    assert parts.test.collect()["value"].to_list() == [1.0]


def test_split_empty_frame_gives_empty_parts() -> None:
    parts = split(frame_of([], [], []))
    assert [p.collect().height for p in parts] == [0, 0, 0]


@given(frame=sensor_frames(), cut=st.tuples(st.integers(0, 4000), st.integers(0, 4000)))
def test_split_at_timestamps(frame: pl.DataFrame, cut: tuple[int, int]) -> None:
    t1, t2 = (T0 + timedelta(seconds=s) for s in sorted(cut))
    got = labelled(frame, split(frame, at=(t1, t2)))
    ts = pl.col("timestamp")
    want = frame.with_columns(
        part=pl.when(ts < t1).then(0).when(ts < t2).then(1).otherwise(2).cast(pl.Int64)
    )
    assert canonical(got) == canonical(want)


def test_split_at_accepts_naive_and_text() -> None:
    frame = frame_of(["a"] * 4, [0, 3600, 7200, 10800], [1.0, 2.0, 3.0, 4.0])
    naive = split(frame, at=(datetime(2026, 1, 1, 1), datetime(2026, 1, 1, 3)))
    text = split(frame, at=("2026-01-01T01:00:00", "2026-01-01T03:00:00+00:00"))
    offset = split(frame, at=("2026-01-01T02:00:00+01:00", "2026-01-01T03:00:00Z"))
    for parts in (naive, text, offset):
        assert [p.collect()["value"].to_list() for p in parts] == [[1.0], [2.0, 3.0], [4.0]]


@pytest.mark.parametrize(
    "ratios",
    [
        (0.5, 0.5),
        (0.7, 0.2, 0.2),
        (1.0, 0.0, 0.0),
        (1.2, -0.1, -0.1),
        (math.nan, 0.5, 0.5),
        (0.5, 0.25, 0.25, 0.0),
        "abc",
        (True, 0.0, 0.0),
    ],
)
def test_split_rejects_bad_ratios(ratios: Any) -> None:
    with pytest.raises(InvalidParameterError, match="ratios"):
        split(frame_of(["a"], [0], [1.0]), ratios)


def test_split_at_rejects_bad_bounds() -> None:
    frame = frame_of(["a"], [0], [1.0])
    with pytest.raises(InvalidParameterError, match="in order"):
        split(frame, at=(T0 + timedelta(days=1), T0))
    with pytest.raises(InvalidParameterError, match="not both"):
        split(frame, (0.8, 0.1, 0.1), at=(T0, T0))
    with pytest.raises(InvalidParameterError, match="ISO-8601"):
        split(frame, at=("yesterday", "today"))


# -- normalizer ----------------------------------------------------------------------


def numpy_params(values: np.ndarray, method: str) -> tuple[float, float]:
    if method == "zscore":
        return float(np.mean(values)), float(np.std(values))
    if method == "minmax":
        return float(np.min(values)), float(np.max(values) - np.min(values))
    if method == "robust":
        q25, q50, q75 = np.percentile(values, [25, 50, 75], method="linear")
        return float(q50), float(q75 - q25)
    return 0.0, 1.0


@pytest.mark.parametrize("method", METHODS)
@given(frame=sensor_frames())
def test_params_match_numpy(method: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    params = fit_quietly(Normalizer(method), frame).params
    assert params["sensor_id"].to_list() == sorted(frame["sensor_id"].unique().to_list())
    for sid, center, scale, n in params.rows():
        raw = frame.filter(pl.col("sensor_id") == sid)["value"].drop_nulls().to_numpy()
        assert n == len(raw)
        if not len(raw):
            assert (center, scale) == (0.0, 1.0)
            continue
        want_center, want_scale = numpy_params(raw, method)
        tol = 1e-9 * float(np.max(np.abs(raw))) + 1e-300
        assert center == pytest.approx(want_center, rel=1e-12, abs=tol)
        if want_scale <= 1e3 * EPS * abs(want_center):  # constant up to rounding
            assert scale == 1.0 or scale == pytest.approx(want_scale, abs=tol)
        else:
            assert scale == pytest.approx(want_scale, rel=1e-9, abs=tol)


@pytest.mark.parametrize("method", METHODS)
@given(frame=sensor_frames())
def test_inverse_transform_round_trips(method: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    norm = fit_quietly(Normalizer(method), frame)
    scaled = norm.transform(frame)
    back = norm.inverse_transform(scaled)
    assert back.select("sensor_id", "timestamp").equals(frame.select("sensor_id", "timestamp"))
    size = frame.group_by("sensor_id").agg(m=pl.col("value").abs().max().fill_null(0.0))
    check = (
        frame.with_columns(back=back["value"])
        .join(size, on="sensor_id", maintain_order="left")
        .join(norm.params, on="sensor_id", maintain_order="left")
    )
    for x, y, m, center in check.select("value", "back", "m", "center").rows():
        assert (x is None) == (y is None)
        if x is not None:
            assert abs(y - x) <= 1e-12 * max(m, abs(center)) + 1e-300


@pytest.mark.parametrize("method", METHODS)
@given(frame=sensor_frames(values=finite_values))
def test_transform_matches_formula(method: str, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    norm = fit_quietly(Normalizer(method), frame)
    params = {sid: (c, s) for sid, c, s, _ in norm.params.rows()}
    got = norm.transform(frame)["value"].to_list()
    for sid, x, y in zip(frame["sensor_id"], frame["value"], got, strict=True):
        c, s = params[sid]
        assert y == (x - c) / s


def test_fit_returns_self_and_sets_attributes() -> None:
    frame = frame_of(["a", "a", "b", "b"], [0, 1, 0, 1], [1.0, 3.0, 2.0, 6.0])
    norm = Normalizer()
    assert norm.fit(frame) is norm
    assert norm.params_.schema == pl.Schema(
        {"sensor_id": pl.String, "center": pl.Float64, "scale": pl.Float64, "n": pl.Int64}
    )
    assert norm.params.rows() == [("a", 2.0, 1.0, 2), ("b", 4.0, 2.0, 2)]
    assert norm.fitted_at_.tzinfo is not None
    assert abs(datetime.now(UTC) - norm.fitted_at_) < timedelta(minutes=5)
    assert repr(norm) == "Normalizer(method='zscore', unknown='raise')"


def test_not_fitted_raises() -> None:
    norm = Normalizer()
    frame = frame_of(["a"], [0], [1.0])
    for call in (
        lambda: norm.params,
        lambda: norm.transform(frame),
        lambda: norm.inverse_transform(frame),
        lambda: norm.save("unused.json"),
    ):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()


def test_transform_is_eager_for_a_dataframe_and_lazy_otherwise() -> None:
    frame = frame_of(["a", "a"], [0, 1], [1.0, 3.0])
    norm = Normalizer().fit(frame)
    assert isinstance(norm.transform(frame.lazy()), pl.LazyFrame)
    assert isinstance(norm.transform(frame), pl.DataFrame)
    assert isinstance(norm.inverse_transform(frame.to_arrow()), pl.LazyFrame)


def test_transform_keeps_order_extra_columns_and_nulls() -> None:
    frame = frame_of(["b", "a", "b", "a", "a"], [0, 0, 1, 1, 2], [1.0, 10.0, 3.0, None, 30.0])
    frame = frame.with_columns(tag=pl.Series(["x", "y", "z", "u", "v"]))
    norm = Normalizer("minmax").fit(frame)
    out = norm.transform(frame)
    assert out.columns == frame.columns
    assert out["tag"].to_list() == frame["tag"].to_list()
    assert out["value"].to_list() == [0.0, 0.0, 1.0, None, 1.0]


def test_fit_uses_finite_values_only() -> None:
    raw = pl.DataFrame(
        {
            "sensor_id": ["a"] * 5,
            "timestamp": [T0 + timedelta(seconds=i) for i in range(5)],
            "value": [1.0, math.nan, math.inf, 3.0, -math.inf],
        }
    )
    params = Normalizer().fit(raw).params
    assert params.rows() == [("a", 2.0, 1.0, 2)]


def test_zero_scale_warns_naming_sensors() -> None:
    frame = frame_of(
        ["flat", "flat", "ok", "ok", "void", "solo"],
        [0, 1, 0, 1, 0, 0],
        [0.1, 0.1, 1.0, 2.0, None, 5.0],
    )
    with pytest.warns(ZeroScaleWarning, match=r"3 sensor\(s\).*'flat', 'solo', 'void'"):
        norm = Normalizer().fit(frame)
    params = {sid: (c, s, n) for sid, c, s, n in norm.params.rows()}
    assert params["flat"] == (pytest.approx(0.1), 1.0, 2)
    assert params["solo"] == (5.0, 1.0, 1)
    assert params["void"] == (0.0, 1.0, 0)
    assert params["ok"] == (1.5, 0.5, 2)
    out = dict(norm.transform(frame).select("sensor_id", "value").rows()[4:])
    assert out == {"void": None, "solo": 0.0}


def test_robust_zero_iqr_is_a_zero_scale() -> None:
    frame = frame_of(["a"] * 5, list(range(5)), [1.0, 1.0, 1.0, 1.0, 50.0])
    with pytest.warns(ZeroScaleWarning, match="'a'"):
        params = Normalizer("robust").fit(frame).params
    assert params.rows() == [("a", 1.0, 1.0, 5)]


def test_unknown_sensor_raises_or_passes_through() -> None:
    train = frame_of(["a", "a"], [0, 1], [1.0, 3.0])
    other = frame_of(["a", "zz", "yy"], [2, 0, 0], [5.0, 7.0, None])
    with pytest.raises(UnknownSensorError, match=r"2 sensor\(s\).*\['yy', 'zz'\]"):
        Normalizer().fit(train).transform(other)
    with pytest.raises(UnknownSensorError, match="zz"):
        Normalizer().fit(train).inverse_transform(other.lazy())
    norm = Normalizer(unknown="passthrough").fit(train)
    assert norm.transform(other)["value"].to_list() == [3.0, 7.0, None]
    assert norm.inverse_transform(other)["value"].to_list() == [7.0, 7.0, None]


def test_fit_rejects_bad_options_and_empty_frames() -> None:
    frame = frame_of(["a"], [0], [1.0])
    with pytest.raises(InvalidParameterError, match="method"):
        Normalizer("l2").fit(frame)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="unknown"):
        Normalizer(unknown="ignore").fit(frame)  # type: ignore[arg-type]
    with pytest.raises(EmptyFrameError, match="Normalizer"):
        Normalizer().fit(frame.head(0))


@pytest.mark.parametrize("method", METHODS)
def test_save_load_round_trip(method: str, tmp_path: Path) -> None:
    frame = frame_of(["a", "a", "a", "b", "b"], [0, 1, 2, 0, 1], [1.0, 2.5, 4.0, -1.0, 0.1])
    norm = Normalizer(method, unknown="passthrough").fit(frame)
    path = tmp_path / "norm.json"
    norm.save(path)
    doc = json.loads(path.read_text())
    assert doc["method"] == method
    assert doc["unknown"] == "passthrough"
    assert doc["sensorframe_version"] == importlib.metadata.version("sensorframe")
    assert datetime.fromisoformat(doc["fitted_at"]) == norm.fitted_at_
    assert doc["params"][0] == dict(zip(norm.params.columns, norm.params.row(0), strict=True))
    loaded = Normalizer.load(path)
    assert (loaded.method, loaded.unknown, loaded.fitted_at_) == (
        method,
        "passthrough",
        norm.fitted_at_,
    )
    assert loaded.params.equals(norm.params)
    assert loaded.transform(frame).equals(norm.transform(frame))


def test_load_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="could not read"):
        Normalizer.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    for text in ("{not json", '{"format": "other"}', '{"format": "sensorframe.Normalizer"}'):
        bad.write_text(text)
        with pytest.raises(SourceError):
            Normalizer.load(bad)


# -- content hash ----------------------------------------------------------------------


@given(frame=sensor_frames(), seed=st.integers(0, 1000))
def test_hash_matches_reference_and_ignores_row_order(frame: pl.DataFrame, seed: int) -> None:
    h = content_hash(frame)
    assert len(h) == 64
    assert h == reference_hash(frame)
    assert content_hash(frame.sample(fraction=1.0, shuffle=True, seed=seed)) == h
    in_order = frame.sort("sensor_id", "timestamp", "value", nulls_last=True)
    assert content_hash(in_order) == h  # the already-sorted fast path


@given(frame=sensor_frames(), cuts=st.lists(st.integers(0, 60), max_size=4))
def test_hash_ignores_chunking(frame: pl.DataFrame, cuts: list[int]) -> None:
    bounds = [0, *sorted(min(c, frame.height) for c in cuts), frame.height]
    pieces = [frame.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    chunked = pl.concat(pieces, rechunk=False)
    arrow = pa.Table.from_batches(
        [b for p in pieces for b in p.to_arrow().to_batches()], schema=frame.to_arrow().schema
    )
    h = content_hash(frame)
    assert content_hash(chunked) == h
    assert content_hash(chunked.lazy()) == h
    assert content_hash(arrow) == h
    assert content_hash(frame.rechunk()) == h


def flip_lowest_bit(values: list[float | None], row: int) -> list[float | None]:
    bits = np.array([values[row]], dtype=np.float64).view(np.uint64)
    bits ^= np.uint64(1)
    changed = list(values)
    changed[row] = float(bits.view(np.float64)[0])
    return changed


@given(frame=sensor_frames(values=finite_values), row=st.integers(0, 59))
def test_hash_changes_on_any_one_bit_or_key_change(frame: pl.DataFrame, row: int) -> None:
    if frame.height == 0:
        return
    row %= frame.height
    h = content_hash(frame)
    values = flip_lowest_bit(frame["value"].to_list(), row)
    assert content_hash(frame.with_columns(value=pl.Series(values))) != h
    times = frame["timestamp"].to_list()
    times[row] += timedelta(microseconds=1)
    moved = frame.with_columns(timestamp=pl.Series(times, dtype=pl.Datetime("us", "UTC")))
    assert content_hash(moved) != h
    ids = frame["sensor_id"].to_list()
    for new_id in ("a" if ids[row] != "a" else "b", ids[row] + "x"):
        renamed = list(ids)
        renamed[row] = new_id
        assert content_hash(frame.with_columns(sensor_id=pl.Series(renamed))) != h


def test_hash_sees_nulls_extras_names_and_dtypes() -> None:
    frame = frame_of(["a", "b"], [0, 0], [1.0, 0.0]).with_columns(flag=pl.Series([1, 2]))
    h = content_hash(frame)
    assert content_hash(frame.with_columns(value=pl.Series([1.0, None]))) != h
    assert content_hash(frame.with_columns(value=pl.Series([1.0, -0.0]))) != h
    assert content_hash(frame.with_columns(flag=pl.Series([1, 3]))) != h
    assert content_hash(frame.with_columns(pl.col("flag").cast(pl.Int32))) != h
    assert content_hash(frame.rename({"flag": "flags"})) != h
    assert content_hash(frame.drop("flag")) != h
    assert content_hash(frame.head(0)) != content_hash(frame.drop("flag").head(0))


def test_hash_is_order_independent_on_full_ties() -> None:
    # Same sensor and timestamp, values that compare equal but differ in bits.
    frame = frame_of(["a"] * 4 + ["b"], [0, 0, 0, 0, 0], [0.0, -0.0, None, 2.0, 1.0])
    frame = frame.with_columns(note=pl.Series(["x", "y", None, "y", "z"]))
    hashes = {
        content_hash(frame.sample(fraction=1.0, shuffle=True, seed=seed)) for seed in range(12)
    }
    sorted_keys = {
        content_hash(
            frame.sample(fraction=1.0, shuffle=True, seed=seed).sort(
                "sensor_id", "timestamp", maintain_order=True
            )
        )
        for seed in range(12)
    }
    assert sorted_keys == hashes
    assert len(hashes) == 1


def test_hash_falls_back_when_keys_do_not_pack() -> None:
    # 100 sensors (7 bits) and 8,000 years of microseconds (58 bits): two sort keys.
    early, late = datetime(1, 1, 2, tzinfo=UTC), datetime(8000, 1, 1, tzinfo=UTC)
    ids = [f"s{i:03d}" for i in range(100)] * 2
    frame = pl.DataFrame(
        {
            "sensor_id": ids,
            "timestamp": [early] * 100 + [late] * 100,
            "value": [float(i) for i in range(200)],
        },
        schema={"sensor_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "value": pl.Float64},
    )
    h = content_hash(frame)
    assert h == reference_hash(frame)
    assert content_hash(frame.reverse()) == h


def test_hash_of_a_parquet_file(tmp_path: Path) -> None:
    frame = frame_of(["a", "b", "a"], [0, 0, 1], [1.0, None, 2.0])
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    path = tmp_path / "r.parquet"
    path.write_bytes(buffer.getvalue())
    assert content_hash(path) == content_hash(frame)


# -- prepare_training_data -------------------------------------------------------------


def test_prepare_training_data_end_to_end() -> None:
    frame = frame_of(
        ["a"] * 10 + ["b"] * 10,
        list(range(10)) * 2,
        [float(i) for i in range(10)] + [float(i * i) for i in range(10)],
    )
    data = prepare_training_data(frame.reverse(), (0.6, 0.2, 0.2))
    assert isinstance(data, TrainingData)
    assert isinstance(data.quality, QualityReport)
    assert data.data_hash == content_hash(frame)
    assert [d.height for d in (data.train, data.val, data.test)] == [12, 4, 4]
    for part in (data.train, data.val, data.test):
        assert part.equals(part.sort("sensor_id", "timestamp"))
    params = Normalizer().fit(split(frame, (0.6, 0.2, 0.2)).train).params
    assert data.normalizer.params.equals(params)
    means = data.train.group_by("sensor_id").agg(pl.col("value").mean())["value"]
    assert np.allclose(means.to_numpy(), 0.0, atol=1e-12)
    back = data.normalizer.inverse_transform(data.test)
    assert back["value"].to_list() == pytest.approx([8.0, 9.0, 64.0, 81.0], rel=1e-12)
    with pytest.raises(AttributeError):
        data.data_hash = "x"  # type: ignore[misc]


def test_prepare_training_data_options() -> None:
    frame = frame_of(["a"] * 7, list(range(7)), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    data = prepare_training_data(frame, normalize="minmax", assess_quality=False)
    assert data.quality is None
    assert data.normalizer.method == "minmax"
    assert data.train["value"].to_list() == [0.0, 0.25, 0.5, 0.75, 1.0]
    with pytest.raises(EmptyFrameError):
        prepare_training_data(frame.head(0))
    with pytest.raises(InvalidParameterError, match="ratios"):
        prepare_training_data(frame, (0.5, 0.5, 0.5))
    with pytest.raises(InvalidParameterError, match="method"):
        prepare_training_data(frame, normalize="l1")  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["zscore", "robust"])
@given(frame=sensor_frames(values=finite_values), shift=finite_values)
def test_normalizer_sees_only_training_rows(method: str, frame: pl.DataFrame, shift: float) -> None:
    if frame.height == 0:
        return
    parts = split(frame)
    train = parts.train.collect()
    held_out = pl.concat([parts.val.collect(), parts.test.collect()])
    changed = pl.concat([train, held_out.with_columns(value=pl.col("value") * -3.0 + shift)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ZeroScaleWarning)
        before = prepare_training_data(frame, normalize=method, assess_quality=False)
        after = prepare_training_data(changed, normalize=method, assess_quality=False)
    assert after.normalizer.params.equals(before.normalizer.params)
    assert after.train.equals(before.train)
