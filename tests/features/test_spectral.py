from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sensorframe.errors import InvalidParameterError
from sensorframe.features import spectral_features, spectral_summary, spectral_window_features
from tests.conftest import readings, tied_readings
from tests.features._reference import spectral_rows

NAMES = [
    "fft_freq_1",
    "fft_amp_1",
    "fft_freq_2",
    "fft_amp_2",
    "spectral_energy",
    "spectral_entropy",
]


def _as_nan(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@given(
    x=st.lists(readings | tied_readings, max_size=40).map(
        lambda v: np.array([np.nan if e is None else e for e in v], dtype=float)
    ),
    window=st.integers(4, 9),
    step=st.integers(1, 4),
    chunk=st.integers(1, 7),
    threads=st.sampled_from([None, 1, 2]),
)
def test_window_features_match_numpy_fft(
    x: np.ndarray, window: int, step: int, chunk: int, threads: int | None
) -> None:
    got = spectral_window_features(
        x, np.arange(x.size), window=window, top_k=2, step=step, chunk_rows=chunk, threads=threads
    )
    want = spectral_rows(x, window, 2, step)
    scale = float(np.nanmax(np.abs(x), initial=1.0)) + 1.0
    for name in NAMES:
        ref = _as_nan(want[name])
        np.testing.assert_array_equal(np.isnan(got[name]), np.isnan(ref), err_msg=name)
        atol = 1e-9 * scale * (scale if name == "spectral_energy" else 1.0)
        np.testing.assert_allclose(got[name], ref, rtol=1e-9, atol=atol, err_msg=name)


def test_windows_never_cross_sensors() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=20), rng.normal(size=15)
    both = np.concatenate([a, b])
    rn = np.concatenate([np.arange(20), np.arange(15)])
    got = spectral_window_features(both, rn, window=8, top_k=2)
    alone_a = spectral_window_features(a, np.arange(20), window=8, top_k=2)
    alone_b = spectral_window_features(b, np.arange(15), window=8, top_k=2)
    for name in NAMES:
        np.testing.assert_array_equal(got[name], np.concatenate([alone_a[name], alone_b[name]]))
    assert np.isnan(got["spectral_energy"][20:27]).all()


def test_sine_is_found_with_its_amplitude() -> None:
    n, w = 200, 64
    t = np.arange(n)
    x = 3.0 * np.sin(2 * np.pi * 8 * t / w) + 0.5 * np.cos(2 * np.pi * 2 * t / w) + 10
    got = spectral_window_features(x, t, window=w, top_k=2)
    full = slice(w - 1, None)
    np.testing.assert_allclose(got["fft_freq_1"][full], 8 / w)
    np.testing.assert_allclose(got["fft_amp_1"][full], 3.0, rtol=1e-9)
    np.testing.assert_allclose(got["fft_freq_2"][full], 2 / w)
    np.testing.assert_allclose(got["fft_amp_2"][full], 0.5, rtol=1e-9)
    # the Nyquist bin has no factor 2: an alternating series of amplitude 1
    nyq = spectral_window_features(np.tile([1.0, -1.0], 4), np.arange(8), window=8, top_k=1)
    assert nyq["fft_freq_1"][-1] == 0.5
    assert nyq["fft_amp_1"][-1] == pytest.approx(1.0)
    assert nyq["spectral_entropy"][-1] == pytest.approx(0.0, abs=1e-12)


def test_flat_window_and_nulls() -> None:
    x = np.array([2.0] * 6 + [np.nan] + [1.0, 2.0, 3.0, 4.0])
    got = spectral_window_features(x, np.arange(x.size), window=4, top_k=1)
    assert got["spectral_energy"][3:6].tolist() == [0.0, 0.0, 0.0]
    assert got["spectral_entropy"][3:6].tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(got["fft_freq_1"][3:6]).all()  # no dominant frequency
    assert got["fft_amp_1"][3:6].tolist() == [0.0, 0.0, 0.0]
    assert np.isnan(got["spectral_energy"][6:10]).all()  # windows holding the null
    assert not np.isnan(got["spectral_energy"][10])


def test_white_noise_entropy_near_one_and_step_carries() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=4_000)
    got = spectral_window_features(x, np.arange(x.size), window=64, top_k=3, step=5)
    assert 0.8 < np.nanmean(got["spectral_entropy"]) < 1.0
    every = spectral_window_features(x, np.arange(x.size), window=64, top_k=3)
    computed = np.arange(63, x.size, 5)
    np.testing.assert_array_equal(
        got["spectral_energy"][computed], every["spectral_energy"][computed]
    )
    np.testing.assert_array_equal(got["spectral_energy"][64:68], every["spectral_energy"][[63] * 4])


def test_parameter_errors() -> None:
    with pytest.raises(InvalidParameterError, match="window"):
        spectral_window_features(np.zeros(3), np.arange(3), window=1)
    with pytest.raises(InvalidParameterError, match="step"):
        spectral_window_features(np.zeros(3), np.arange(3), step=0)
    with pytest.raises(InvalidParameterError, match="top_k"):
        spectral_summary(pl.DataFrame({"sensor_id": [], "timestamp": [], "value": []}), top_k=0)


def test_expression_over_sensors_matches_batched() -> None:
    rng = np.random.default_rng(2)
    frame = pl.DataFrame({"sensor_id": ["a"] * 12 + ["b"] * 9, "value": rng.normal(size=21)})
    got = frame.select(
        spectral_features("value", window=4, top_k=2).over("sensor_id").struct.unnest()
    )
    rn = np.concatenate([np.arange(12), np.arange(9)])
    want = spectral_window_features(frame["value"].to_numpy(), rn, window=4, top_k=2)
    for name in NAMES:
        np.testing.assert_array_equal(got[name].fill_null(np.nan).to_numpy(), want[name])


def _frame(times: dict[str, list[datetime]], values: dict[str, np.ndarray]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": [s for s in times for _ in times[s]],
            "timestamp": [t for s in times for t in times[s]],
            "value": np.concatenate([values[s] for s in times]),
        }
    )


def test_summary_matches_numpy_and_gives_hz_when_regular() -> None:
    rng = np.random.default_rng(3)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    n = 100
    regular = [t0 + timedelta(seconds=10 * i) for i in range(n)]
    irregular = [t0 + timedelta(seconds=float(s)) for s in np.cumsum(rng.integers(1, 30, n))]
    short = [t0]
    sig = 2.0 * np.sin(2 * np.pi * 5 * np.arange(n) / n) + rng.normal(0, 0.1, n)
    values = {"reg": sig, "irr": rng.normal(size=n), "one": np.array([1.0])}
    frame = _frame({"reg": regular, "irr": irregular, "one": short}, values)
    out = spectral_summary(frame.sample(fraction=1.0, shuffle=True, seed=1), top_k=2)
    rows = {r["sensor_id"]: r for r in out.iter_rows(named=True)}
    assert rows["reg"]["sample_interval_s"] == 10.0
    assert rows["reg"]["fft_freq_1"] == pytest.approx(5 / n)
    assert rows["reg"]["fft_freq_hz_1"] == pytest.approx(5 / n / 10.0)
    assert rows["reg"]["fft_amp_1"] == pytest.approx(2.0, rel=0.05)
    assert rows["irr"]["sample_interval_s"] is None
    assert rows["irr"]["fft_freq_hz_1"] is None
    assert rows["irr"]["fft_freq_1"] is not None
    assert rows["one"]["spectral_energy"] is None
    for sid in ("reg", "irr"):
        ref = spectral_rows(values[sid], n, 2, 1)
        for name in NAMES:
            assert rows[sid][name] == pytest.approx(ref[name][-1], rel=1e-9, abs=1e-12), (sid, name)


def test_summary_skips_nulls_and_handles_different_lengths() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = {
        s: [t0 + timedelta(minutes=i) for i in range(n)]
        for s, n in (("a", 9), ("b", 16), ("c", 16))
    }
    rng = np.random.default_rng(5)
    values = {s: rng.normal(size=len(times[s])) for s in times}
    values["a"][4] = np.nan
    frame = _frame(times, values).with_columns(pl.col("value").fill_nan(None))
    out = spectral_summary(frame, top_k=1)
    assert out["sensor_id"].to_list() == ["a", "b", "c"]
    assert out["n_points"].to_list() == [8, 16, 16]
    ref_a = spectral_rows(values["a"][~np.isnan(values["a"])], 8, 1, 1)
    assert out["spectral_entropy"][0] == pytest.approx(ref_a["spectral_entropy"][-1])
    assert out["sample_interval_s"][0] is None  # the null leaves a two-minute step
    assert out["sample_interval_s"][1] == 60.0
