"""
Spectral features: dominant frequencies, amplitudes, energy and entropy.

For a window of W readings ``x`` (mean removed), ``X = rfft(x)`` and the power of bin k
is ``p_k = |X_k|^2`` for k = 1 .. W // 2 (the DC bin is dropped). Reported:

* ``fft_freq_{i}``: frequency of the i-th strongest bin, ``k / W`` in cycles per row
  (bins whose powers agree to 1e-9 of the largest are ties, won by the lower
  frequency); null for a flat window;
* ``fft_amp_{i}``: amplitude of a sinusoid at that bin, ``2 |X_k| / W``
  (``|X_k| / W`` at the Nyquist bin of an even W), so ``A sin(...)`` gives ``A``;
* ``spectral_energy = sum(p) / W``;
* ``spectral_entropy = -sum(q ln q) / ln(W // 2)`` with ``q = p / sum(p)``: 0 for a
  flat window (and for W < 4, where there is a single bin), 1 for white noise.

The trailing-window version is computed in batches: the windows of all rows of all
sensors are cut from one sorted column with ``sliding_window_view`` and transformed
``chunk_rows`` at a time, so memory stays bounded and no Python code runs per row or per
sensor; the batches run on a thread per core (NumPy releases the GIL). A
window that reaches back past the sensor's first reading, or holds a null reading,
gives null features.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from sensorframe._utils import parse_into_expr
from sensorframe.errors import InvalidParameterError
from sensorframe.features.config import MAX_TOP_K, check_count, check_spectral, spectral_names
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput, IntoExpr

__all__ = ["spectral_features", "spectral_summary", "spectral_window_features"]

_CHUNK_CELLS = 1 << 19
"""Readings per batch of windows: 8,192 windows of the default 64 rows (~20 MB of work)."""
_REGULAR_TOLERANCE = 0.01


class _Scratch(threading.local):
    """
    Work arrays of one thread, reused from batch to batch.

    A batch's intermediates are tens of MB; allocated afresh every time, they cost
    more in page faults than the FFT itself (the kernel's time was about a third of
    the spectral features' run time before these arrays were kept).
    """

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        """Return an uninitialised array, valid until the next `get` of `name`."""
        arr = self.arrays.get(name)
        if arr is None or arr.shape[0] < shape[0] or arr.shape[1:] != shape[1:]:
            arr = self.arrays[name] = np.empty(shape, dtype)
        return arr[: shape[0]]


_SCRATCH = _Scratch()


def _spectrum(windows: np.ndarray, top_k: int) -> dict[str, np.ndarray]:
    """
    Spectral features of each row of a 2-D block of finite windows.

    Readings beyond ~1e154 overflow the power ``|X_k|^2``; the few windows whose
    energy is not finite are computed again divided by their largest magnitude (the
    spectrum is linear, so frequencies and entropy do not change, and amplitudes and
    energy are scaled back). Their energy may then be inf: the true value exceeds
    float64. Other windows pay only the check of their energy.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = _unscaled_spectrum(windows, top_k)
        again = np.flatnonzero(~np.isfinite(out["spectral_energy"]))
        if again.size:
            scale = np.abs(windows[again]).max(axis=1)
            fixed = _unscaled_spectrum(windows[again] / scale[:, None], top_k)
            for name, values in fixed.items():
                if name.startswith("fft_amp"):
                    values *= scale
                elif name == "spectral_energy":
                    values *= scale * scale
                out[name][again] = values
    return out


def _unscaled_spectrum(windows: np.ndarray, top_k: int) -> dict[str, np.ndarray]:
    rows, width = windows.shape
    n_bins = width // 2
    bins = (rows, n_bins)
    get = _SCRATCH.get
    flat = (windows.max(axis=1) - windows.min(axis=1)) == 0  # np.ptp: NaN for inf windows
    centred = get("centred", (rows, width), np.float64)
    np.subtract(windows, windows.mean(axis=1, keepdims=True), out=centred)
    spectrum = get("spectrum", (rows, width // 2 + 1), np.complex128)
    np.fft.rfft(centred, axis=-1, out=spectrum)
    magnitude = np.abs(spectrum[:, 1 : n_bins + 1], out=get("magnitude", bins, np.float64))
    power = np.multiply(magnitude, magnitude, out=get("power", bins, np.float64))
    total = power.sum(axis=1)
    flat |= total == 0
    # Bins whose powers agree to 1e-9 of the window's largest count as tied, so that
    # rounding noise never reorders them; the lower frequency ranks first.
    # Adding the reversed bin index makes every key distinct, so taking the largest
    # key K times (then removing it) gives the order a full sort would, at a fraction
    # of argpartition's cost for the usual K of 3 out of 32 bins.
    peak = power.max(axis=1, keepdims=True)
    work = np.divide(power, np.where(peak > 0, peak, 1.0), out=get("work", bins, np.float64))
    work *= 1e9
    key = get("key", bins, np.int64)
    np.copyto(key, np.round(work, out=work), casting="unsafe")
    key *= n_bins
    key += np.arange(n_bins - 1, -1, -1)
    order = np.empty((rows, min(top_k, n_bins)), dtype=np.intp)
    every = np.arange(rows)
    for i in range(order.shape[1]):
        order[:, i] = key.argmax(axis=1)
        key[every, order[:, i]] = np.iinfo(np.int64).min
    out: dict[str, np.ndarray] = {}
    scale = np.full(n_bins, 2.0 / width)
    if width % 2 == 0:
        scale[-1] = 1.0 / width
    for i in range(top_k):
        if i < n_bins:
            k = order[:, i]
            freq = (k + 1) / width
            amp = np.take_along_axis(magnitude, k[:, None], axis=1)[:, 0] * scale[k]
            out[f"fft_freq_{i + 1}"] = np.where(flat, np.nan, freq)
            out[f"fft_amp_{i + 1}"] = np.where(flat, 0.0, amp)
        else:
            out[f"fft_freq_{i + 1}"] = np.full(rows, np.nan)
            out[f"fft_amp_{i + 1}"] = np.full(rows, np.nan)
    out["spectral_energy"] = np.where(flat, 0.0, total / width)
    if n_bins > 1:
        # -sum(q ln q) with q = p / S equals ln S - sum(p ln p) / S (0 ln 0 = 0)
        safe = np.where(flat, 1.0, total)
        np.copyto(work, power)
        work[~(power > 0)] = 1.0  # 0 ln 0 = 0
        np.log(work, out=work)
        p_log_p = np.multiply(work, power, out=work).sum(axis=1)
        entropy = (np.log(safe) - p_log_p / safe) / np.log(n_bins)
        out["spectral_entropy"] = np.where(flat, 0.0, np.clip(entropy, 0.0, 1.0))
    else:
        out["spectral_entropy"] = np.zeros(rows)
    return out


def spectral_window_features(
    values: np.ndarray,
    row_in_sensor: np.ndarray,
    *,
    window: int = 64,
    top_k: int = 3,
    step: int = 1,
    chunk_rows: int | None = None,
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """
    Trailing-window spectral features of every row of a sorted column of many sensors.

    Parameters
    ----------
    values
        Readings sorted by (sensor, time), NaN where missing.
    row_in_sensor
        Position of each row within its sensor (0 at a sensor's first row).
    window
        Rows per window, W (4 to :data:`~sensorframe.features.config.MAX_SPECTRAL_WINDOW`).
    top_k
        Number of dominant bins reported (at most ``W // 2`` and
        :data:`~sensorframe.features.config.MAX_TOP_K`).
    step
        Compute every `step`-th row of a sensor (counting from its first full window)
        and carry the result forward to the rows in between.
    chunk_rows
        Windows transformed per batch; bounds memory at about ``chunk_rows * W * 40``
        bytes per thread. By default ``2**19 // W`` (8,192 windows of 64 rows), so
        the memory stays about 20 MB per thread whatever the window.
    threads
        Threads transforming batches at once; None for one per core. A caller that
        already runs on a thread per core passes 1: the batches then run in its own
        thread, which keeps its work arrays from call to call.

    Returns
    -------
    dict of str to ndarray
        One float array per feature name, NaN where the feature is absent.

    Examples
    --------
    >>> from sensorframe.features.spectral import spectral_window_features
    >>> x = np.sin(2 * np.pi * np.arange(6) / 4)
    >>> out = spectral_window_features(x, np.arange(6), window=4, top_k=1)
    >>> out["fft_freq_1"].tolist()
    [nan, nan, nan, 0.25, 0.25, 0.25]
    """
    check_spectral(window, top_k, step)
    for name, knob in (("chunk_rows", chunk_rows), ("threads", threads)):
        if knob is not None:
            check_count(name, knob)
    rows_per_batch = chunk_rows or max(1, _CHUNK_CELLS // window)
    values = np.asarray(values, dtype=np.float64)
    rn = np.asarray(row_in_sensor, dtype=np.int64)
    n = values.shape[0]
    names = spectral_names(top_k)
    out = {name: np.full(n, np.nan) for name in names}
    if n < window:
        return out
    full = rn >= window - 1
    since = rn - (window - 1)
    computed = np.flatnonzero(full & (since % step == 0))
    views = sliding_window_view(values, window)  # views[i - W + 1] ends at row i
    nans = np.concatenate([[0], np.cumsum(np.isnan(values))])  # NaNs before each row

    def transform(rows: np.ndarray) -> None:  # writes only its own rows of `out`
        rows = rows[nans[rows + 1] == nans[rows + 1 - window]]  # windows without NaN
        if rows.size:
            feats = _spectrum(views[rows - (window - 1)], top_k)
            for name in names:
                out[name][rows] = feats[name]

    chunks = [computed[i : i + rows_per_batch] for i in range(0, computed.size, rows_per_batch)]
    workers = min(len(chunks), threads or os.cpu_count() or 1)
    if workers <= 1:
        for chunk in chunks:
            transform(chunk)
    else:  # NumPy releases the GIL, so chunks run in parallel on threads
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(transform, chunks))
    if step > 1:
        source = np.flatnonzero(full)
        origin = source - since[source] % step
        for name in names:
            out[name][source] = out[name][origin]
    return out


def _struct_dtype(top_k: int) -> pl.Struct:
    return pl.Struct(dict.fromkeys(spectral_names(top_k), pl.Float64))


def spectral_block(
    values: pl.Series,
    row_in_sensor: pl.Series,
    *,
    window: int,
    top_k: int,
    step: int,
    threads: int | None = None,
) -> pl.Series:
    """Run :func:`spectral_window_features` on Series and return a struct Series."""
    feats = spectral_window_features(
        values.to_numpy(allow_copy=True).astype(np.float64, copy=False),
        row_in_sensor.to_numpy(allow_copy=True),
        window=window,
        top_k=top_k,
        step=step,
        threads=threads,
    )
    frame = pl.DataFrame({k: pl.Series(k, v, nan_to_null=True) for k, v in feats.items()})
    return frame.to_struct("spectral")


def spectral_features(
    column: IntoExpr, *, window: int = 64, top_k: int = 3, step: int = 1
) -> pl.Expr:
    """
    Trailing-window spectral features of a column in row order, as one struct expression.

    Use ``.over("sensor_id")`` on a frame sorted by (sensor, time) for many sensors and
    ``.struct.unnest()`` to get the columns (see the module docstring for definitions).
    :func:`engineer_features` computes the same without a Python call per sensor.

    Notes
    -----
    Computed over the rows in the frame's order: sort by time within each sensor first
    (on unsorted rows the result is silently wrong); :func:`sensorframe.engineer_features`
    sorts for you.

    Examples
    --------
    >>> df = pl.DataFrame({"value": [0.0, 1.0, 0.0, -1.0, 0.0]})
    >>> out = df.select(sf.features.spectral_features("value", window=4, top_k=1).struct.unnest())
    >>> out["fft_freq_1"].to_list(), out["fft_amp_1"].round(6).to_list()
    ([None, None, None, 0.25, 0.25], [None, None, None, 1.0, 1.0])
    """
    check_spectral(window, top_k, step)
    x = parse_into_expr(column).cast(pl.Float64)

    def run(s: pl.Series) -> pl.Series:
        values = s.struct.field("x")
        return spectral_block(
            values,
            pl.Series(np.arange(len(values))),
            window=window,
            top_k=top_k,
            step=step,
        )

    return pl.struct(x.alias("x")).map_batches(run, return_dtype=_struct_dtype(top_k))


def spectral_summary(frame: FrameInput, *, top_k: int = 3) -> pl.DataFrame:
    """
    Whole-series spectrum of each sensor: dominant frequencies, amplitudes, energy, entropy.

    The non-null readings of a sensor, in time order, form one window (W = their
    count) and get the same features as the trailing-window version. Where a sensor is
    sampled regularly (every step within 1 % of the median step) its frequencies are
    also given in Hz.

    Parameters
    ----------
    frame
        Anything :func:`sensorframe.scan` accepts.
    top_k
        Number of dominant bins reported, 1 to
        :data:`~sensorframe.features.config.MAX_TOP_K` (64); null where a sensor has
        fewer bins.

    Returns
    -------
    DataFrame
        One row per sensor: ``sensor_id``, ``n_points``, ``sample_interval_s`` (null if
        irregular), then per rank i ``fft_freq_{i}`` (cycles per sample),
        ``fft_freq_hz_{i}`` (null if irregular) and ``fft_amp_{i}``, then
        ``spectral_energy`` and ``spectral_entropy`` (null for fewer than 2 readings).

    Examples
    --------
    >>> from datetime import datetime, timedelta
    >>> t = [datetime(2026, 1, 1) + timedelta(seconds=s) for s in range(4)]
    >>> df = pl.DataFrame({"sensor_id": "a", "timestamp": t, "value": [1.0, -1.0, 1.0, -1.0]})
    >>> sf.features.spectral_summary(df, top_k=1).select("fft_freq_hz_1", "fft_amp_1").row(0)
    (0.5, 1.0)
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        msg = f"`top_k` must be an int from 1 to {MAX_TOP_K}, got {top_k!r}"
        raise InvalidParameterError(msg)
    data = (
        scan(frame)
        .select(SENSOR, TIME, VALUE)
        .filter(pl.col(VALUE).is_not_null())
        .sort(SENSOR, TIME, maintain_order=True)
        .collect()
    )
    per_sensor = (
        data.lazy()
        .group_by(SENSOR, maintain_order=True)
        .agg(
            n_points=pl.len(),
            _step=pl.col(TIME).diff().dt.total_microseconds().drop_nulls(),
        )
        .with_columns(
            _median=pl.col("_step").list.median(),
            _dev=(
                pl.col("_step")
                .list.eval(pl.element() - pl.element().median())
                .list.eval(pl.element().abs())
            ).list.max(),
        )
        .with_columns(
            sample_interval_s=pl.when(
                (pl.col("_median") > 0) & (pl.col("_dev") <= _REGULAR_TOLERANCE * pl.col("_median"))
            ).then(pl.col("_median") / 1e6)
        )
        .drop("_step", "_median", "_dev")
        .collect()
    )
    feats = _whole_series(data[VALUE].to_numpy(), per_sensor["n_points"].to_numpy(), top_k)
    out = per_sensor.with_columns(
        pl.Series(name, values, nan_to_null=True) for name, values in feats.items()
    )
    hz = [
        (pl.col(f"fft_freq_{i}") / pl.col("sample_interval_s")).alias(f"fft_freq_hz_{i}")
        for i in range(1, top_k + 1)
    ]
    order: list[Any] = [SENSOR, "n_points", "sample_interval_s"]
    for i in range(1, top_k + 1):
        order += [f"fft_freq_{i}", f"fft_freq_hz_{i}", f"fft_amp_{i}"]
    return out.with_columns(hz).select(*order, "spectral_energy", "spectral_entropy")


def _whole_series(values: np.ndarray, lengths: np.ndarray, top_k: int) -> dict[str, np.ndarray]:
    """Spectra of consecutive series of the given lengths, batched by length."""
    names = spectral_names(top_k)
    out = {name: np.full(lengths.size, np.nan) for name in names}
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    for length in np.unique(lengths):
        if length < 2:
            continue
        sensors = np.flatnonzero(lengths == length)
        block = values[starts[sensors][:, None] + np.arange(length)[None, :]]
        feats = _spectrum(block, top_k)
        for name in names:
            out[name][sensors] = feats[name]
    return out
