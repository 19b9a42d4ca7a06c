"""
:func:`bench_families`: each feature family timed on the user's data, against pandas.

What ``sensorframe bench SOURCE`` runs: the benchmark harness users point at their own
data, with the same-run ratio to the same features in pandas (``groupby`` + ``rolling``
/ ``shift`` / ``ewm``, :mod:`sensorframe.explore._pandas`) when pandas is installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import polars as pl

from sensorframe.explore._pandas import NO_PANDAS, pandas_family
from sensorframe.explore.exploration import _compute, _sample, family
from sensorframe.features.config import FeatureConfig, feature_names
from sensorframe.frame import SENSOR, TIME, VALUE, scan

if TYPE_CHECKING:
    from sensorframe._typing import FrameInput

__all__ = ["bench_families", "best_of"]


def best_of(fn: Callable[[], object], *, repeat: int) -> float:
    """
    Return the best wall time of `repeat` calls of `fn`, after one untimed warm-up call.

    Examples
    --------
    >>> from sensorframe.explore.bench import best_of
    >>> best_of(lambda: sum(range(100)), repeat=2) >= 0
    True
    """
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_families(
    frame: FrameInput,
    config: FeatureConfig | None = None,
    *,
    sample_sensors: int | None = None,
    repeat: int = 3,
) -> tuple[pl.DataFrame, str]:
    """
    Time every family of `config` on `frame`, with sensorframe and with pandas.

    The data is read once and sorted by (sensor, time) for both engines (sampled as
    :func:`~sensorframe.explore_features` samples it: whole sensors beyond a million
    rows, or `sample_sensors` of them); each family is computed alone, best of `repeat`
    after a warm-up.

    Returns
    -------
    tuple
        The table (``family``, ``features``, ``rows``, ``sensorframe_s``, ``pandas_s``
        and ``speedup`` = pandas / sensorframe, null where pandas has no equivalent or
        is not installed) and a line saying what was measured.

    Examples
    --------
    >>> from sensorframe.explore.bench import bench_families
    >>> data = sf.datasets.synthetic(n_sensors=2, n_points=400, seed=1).frame
    >>> table, note = bench_families(data, sf.FeatureConfig(lags=[1]), repeat=1)
    >>> table.columns
    ['family', 'features', 'rows', 'sensorframe_s', 'pandas_s', 'speedup']
    """
    cfg = config if config is not None else FeatureConfig.default()
    rows = scan(frame).select(SENSOR, TIME, VALUE).collect()
    sample, total = _sample(rows, sample_sensors, 0)
    try:
        import pandas  # noqa: F401  (only to know whether it is there)

        df = sample.to_pandas()
        anchor = "pandas"
    except ImportError:
        df = None
        anchor = "pandas is not installed (pip install pandas): sensorframe times only"
    groups: dict[str, list[str]] = {}
    for name in feature_names(cfg):
        groups.setdefault(family(name), []).append(name)
    out = []
    for fam, names in groups.items():
        ours = best_of(partial(_compute, sample, cfg, names), repeat=repeat)
        theirs = None
        if df is not None and fam not in NO_PANDAS:
            theirs = best_of(pandas_family(df, cfg, names), repeat=repeat)
        out.append((fam, len(names), sample.height, ours, theirs))
    table = pl.DataFrame(
        out,
        schema={
            "family": pl.String,
            "features": pl.Int64,
            "rows": pl.Int64,
            "sensorframe_s": pl.Float64,
            "pandas_s": pl.Float64,
        },
        orient="row",
    ).with_columns(speedup=pl.col("pandas_s") / pl.col("sensorframe_s"))
    sensors = sample.get_column(SENSOR).n_unique()
    scope = (
        f"{sensors:,} of {total:,} sensors (sampled)" if sensors < total else f"{total:,} sensors"
    )
    note = (
        f"{sample.height:,} rows of {scope}, best of {repeat} after a warm-up; "
        f"anchor: {anchor}" + ("; spectral has no pandas equivalent" if df is not None else "")
    )
    return table, note
