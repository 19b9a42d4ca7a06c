from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import sensorframe as sf
from sensorframe.datasets import (
    DEFAULT_FAULTS,
    FAULTS,
    VALID_RANGE,
    LabelledData,
    load_telemanom,
    synthetic,
)


def test_synthetic_is_reproducible_and_canonical() -> None:
    a = synthetic(n_sensors=4, n_points=600, seed=3)
    b = synthetic(n_sensors=4, n_points=600, seed=3)
    assert a.frame.equals(b.frame)
    assert a.labels.equals(b.labels)
    assert sf.scan(a.frame).collect().equals(a.frame)
    assert not a.frame.equals(synthetic(n_sensors=4, n_points=600, seed=4).frame)


def test_synthetic_labels_match_the_injected_faults() -> None:
    data = synthetic(n_sensors=6, n_points=1_000, seed=11, fault_fraction=0.5, freq="30s")
    frame, labels = data.frame, data.labels
    assert set(labels["sensor_id"]) == {"S000", "S001", "S002"}
    assert set(labels["fault"]) == set(DEFAULT_FAULTS)
    healthy = frame.filter(pl.col("sensor_id") == "S005")
    assert healthy.height == 1_000
    assert healthy["value"].null_count() == 0
    assert (healthy["timestamp"].diff().drop_nulls() == timedelta(seconds=30)).all()
    for row in labels.iter_rows(named=True):
        inside = frame.filter(
            (pl.col("sensor_id") == row["sensor_id"])
            & pl.col("timestamp").is_between(row["start"], row["end"])
        )
        if row["fault"] == "missing":
            assert inside.height == row["rows"]
            assert inside["value"].null_count() == row["rows"]
        elif row["fault"] == "gap":
            assert inside.height == 0
        elif row["fault"] == "flatline":
            assert inside["value"].n_unique() == 1
            assert inside.height == row["rows"]
        elif row["fault"] == "duplicate":
            assert inside.height == 2
        elif row["fault"] == "spike":
            series = frame.filter(pl.col("sensor_id") == row["sensor_id"])["value"]
            z = abs(inside["value"][0] - series.mean()) / series.std(ddof=0)  # type: ignore[operator]
            assert z > 3


def _digest(data: LabelledData) -> str:
    """
    A digest of every reading and label, independent of any file format.

    Readings are rounded to 9 decimals: NumPy's SIMD sin/exp can differ in the last bit
    between machines (AVX-512 or not), which changed the 30 s case's digest from one
    machine to the next; a change of the generator moves readings far more.
    """
    frame, labels = data.frame, data.labels
    h = hashlib.sha256()
    h.update(frame["sensor_id"].str.join("|").item().encode())
    h.update(frame["timestamp"].dt.epoch("us").to_numpy().tobytes())
    h.update(np.round(frame["value"].fill_null(np.nan).to_numpy(), 9).tobytes())
    times = labels.with_columns(pl.col("start", "end").dt.epoch("us"))
    h.update(repr(times.rows()).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    ("kwargs", "digest"),
    [
        ({"n_sensors": 4, "n_points": 600, "seed": 3}, "c7cf37c4636c5589"),
        ({"n_sensors": 6, "n_points": 1000, "seed": 11, "freq": "30s"}, "a77a868c6eb9529c"),
        (
            {"n_sensors": 3, "n_points": 2000, "seed": 2, "shift_size": 2.0,
             "faults": ["duplicate", "level_shift", "spike"]},
            "0a866fb87d98e1a3",
        ),
    ],
)  # fmt: skip
def test_synthetic_keeps_the_first_release_data(kwargs: dict[str, Any], digest: str) -> None:
    # digests of the data the first release (before range/interpolated/dead) generated
    assert _digest(synthetic(**kwargs)) == digest


def test_synthetic_new_fault_kinds() -> None:
    data = synthetic(n_sensors=4, n_points=4_000, freq="15m", seed=2, faults=FAULTS)
    frame, labels = data.frame, data.labels
    assert set(labels["fault"]) == set(FAULTS)
    assert set(labels["sensor_id"]) == {"S000", "S001"}
    clean = synthetic(n_sensors=4, n_points=4_000, freq="15m", seed=2, faults=()).frame
    low, high = VALID_RANGE
    assert clean["value"].is_between(low, high).all()
    faulty = set()
    for row in labels.iter_rows(named=True):
        sensor = frame.filter(pl.col("sensor_id") == row["sensor_id"])
        inside = sensor.filter(pl.col("timestamp").is_between(row["start"], row["end"]))
        if row["fault"] == "range":
            assert inside.height == row["rows"]
            assert 5 <= row["rows"] <= 20
            values = inside["value"].to_numpy()
            assert (values > high).all() or (values < low).all()
        elif row["fault"] == "interpolated":
            assert 15 <= row["rows"] <= 40
            # the readings before and after plus the line between them: collinear
            step = timedelta(minutes=15)
            line = sensor.filter(
                pl.col("timestamp").is_between(row["start"] - step, row["end"] + step)
            )["value"].to_numpy()
            assert line.size == row["rows"] + 2
            assert np.allclose(np.diff(line, 2), 0.0, atol=1e-9 * np.abs(line).max())
            assert np.ptp(line) > 0
        elif row["fault"] == "dead":
            assert inside["value"].to_list() == [0.0] * row["rows"]
            assert row["end"] - row["start"] > timedelta(days=2)  # 4_000 * 0.45 / 8 - 20 rows
        if row["fault"] != "level_shift":
            faulty |= set(inside["timestamp"].dt.epoch("us").to_list())
    # nothing else changed: every reading outside the labels is the clean one (S001's
    # stretch before its level shift)
    first_half = pl.col("timestamp") < labels.filter(pl.col("fault") == "level_shift")["start"][0]
    untouched = (
        frame.filter(pl.col("sensor_id") == "S001", first_half)
        .filter(~pl.col("timestamp").dt.epoch("us").is_in(list(faulty)))
        .unique(["timestamp"], keep="first", maintain_order=True)
    )
    expected = clean.filter(pl.col("sensor_id") == "S001").join(untouched, on="timestamp")
    assert untouched.height > 1_000
    assert expected["value"].to_list() == expected["value_right"].to_list()


def test_synthetic_new_kinds_need_room() -> None:
    with pytest.raises(sf.ConfigError, match="rows per kind"):
        synthetic(n_points=400, faults=FAULTS)
    synthetic(n_points=400, faults=DEFAULT_FAULTS)  # the first release's kinds still fit


def test_synthetic_level_shift() -> None:
    data = synthetic(n_sensors=2, n_points=1_000, seed=5, faults=["level_shift"], shift_size=4.0)
    label = data.labels.row(0, named=True)
    assert label["fault"] == "level_shift"
    assert label["rows"] == 500
    s = data.frame.filter(pl.col("sensor_id") == "S000")["value"].to_numpy()
    clean = synthetic(n_sensors=2, n_points=1_000, seed=5, faults=[])
    c = clean.frame.filter(pl.col("sensor_id") == "S000")["value"].to_numpy()
    assert np.allclose(s[:500], c[:500])
    assert np.allclose(s[500:] - c[500:], 4.0 * c.std())


def test_synthetic_validates() -> None:
    with pytest.raises(sf.ConfigError, match="unknown fault"):
        synthetic(faults=["meteor"])  # type: ignore[list-item]
    with pytest.raises(sf.ConfigError, match="freq"):
        synthetic(freq="fortnightly")
    with pytest.raises(sf.ConfigError, match="n_points >= 400"):
        synthetic(n_points=50)
    assert synthetic(n_points=50, faults=()).frame.height == 500


@pytest.mark.parametrize("freq", ["90min", "1h30m", "1.5h", "5400s", timedelta(minutes=90)])
def test_synthetic_freq_uses_the_one_duration_grammar(freq: str | timedelta) -> None:
    times = synthetic(n_sensors=1, n_points=3, faults=(), freq=freq).frame["timestamp"]
    assert times.diff().drop_nulls().to_list() == [timedelta(minutes=90)] * 2


@pytest.mark.parametrize("freq", ["1mo", "0s", "-1h", "1 h", ""])
def test_synthetic_freq_refuses_what_the_grammar_refuses(freq: str) -> None:
    with pytest.raises(sf.ConfigError, match="freq"):
        synthetic(n_sensors=1, n_points=3, faults=(), freq=freq)


def _telemanom(root: Path) -> None:
    rng = np.random.default_rng(0)
    for part, n in (("train", 30), ("test", 40)):
        (root / part).mkdir(parents=True)
        for chan in ("P-1", "E-2"):
            np.save(root / part / f"{chan}.npy", rng.normal(size=(n, 25)))
    (root / "labeled_anomalies.csv").write_text(
        "chan_id,spacecraft,anomaly_sequences,class,num_values\n"
        'P-1,SMAP,"[[5, 9], [20, 30]]","[point, contextual]",40\n'
        'E-2,SMAP,"[[0, 3]]",[point],40\n'
        'M-9,MSL,"[[1, 2]]",[point],40\n'
    )


def test_load_telemanom(tmp_path: Path) -> None:
    _telemanom(tmp_path)
    data = load_telemanom(tmp_path, freq="1s")
    assert data.frame.height == 2 * 70
    p1 = data.frame.filter(pl.col("sensor_id") == "P-1")
    parts = [np.load(tmp_path / part / "P-1.npy")[:, 0] for part in ("train", "test")]
    expected = np.concatenate(parts)
    assert np.allclose(p1["value"].to_numpy(), expected)
    assert p1["split"].to_list() == ["train"] * 30 + ["test"] * 40
    labels = data.labels.filter(pl.col("sensor_id") == "P-1").sort("start")
    assert labels["rows"].to_list() == [5, 11]
    first = p1.row(30 + 5, named=True)["timestamp"]
    assert labels["start"][0] == first
    assert set(data.labels["sensor_id"]) == {"P-1", "E-2"}
    assert sf.scan(data.frame).collect().height == 140
    only = load_telemanom(tmp_path, channels=["E-2"])
    assert set(only.frame["sensor_id"]) == {"E-2"}


def test_load_telemanom_freq_uses_the_one_duration_grammar(tmp_path: Path) -> None:
    _telemanom(tmp_path)
    for freq in ("1h30m", "90min", timedelta(minutes=90)):
        times = load_telemanom(tmp_path, channels=["P-1"], freq=freq).frame["timestamp"]
        assert times.diff().drop_nulls().unique().to_list() == [timedelta(minutes=90)]


def test_load_telemanom_errors(tmp_path: Path) -> None:
    with pytest.raises(sf.SourceError, match="Telemanom layout"):
        load_telemanom(tmp_path)
    _telemanom(tmp_path)
    with pytest.raises(sf.SourceError, match="channel file not found"):
        load_telemanom(tmp_path, channels=["X-1"])
