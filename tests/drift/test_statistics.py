"""Drift statistics against scipy / numpy, on random data with ties, NaNs and unequal sizes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from sensorframe.drift import DriftConfig, DriftDetector, detect_drift
from sensorframe.drift.compare import DETECTION_PVALUES
from sensorframe.drift.statistics import (
    Samples,
    batches,
    benjamini_hochberg,
    ks_pvalue,
    merge_stats,
    quantiles_sorted,
    searchsorted_rows,
)
from tests.drift.helpers import frame

RTOL = 1e-9

tied = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 1.5, -2.0, 3.25]))
spread = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
values = st.one_of(st.lists(tied, max_size=40), st.lists(spread, max_size=40))
samples = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.tuples(values, values), max_size=3)


def _finite(vals: list[float | None]) -> np.ndarray:
    return np.array([v for v in vals if v is not None], dtype=np.float64)


def _close(got: float | None, want: float) -> None:
    if math.isnan(want):
        assert got is None
        return
    assert got is not None
    assert math.isclose(got, want, rel_tol=RTOL, abs_tol=1e-12), (got, want)


def _bin_counts(r: np.ndarray, c: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rc = np.diff(np.concatenate([[0], np.searchsorted(np.sort(r), edges, "right"), [len(r)]]))
    cc = np.diff(np.concatenate([[0], np.searchsorted(np.sort(c), edges, "right"), [len(c)]]))
    return rc, cc


@pytest.mark.parametrize("ks_method", ["exact", "asymp", "auto"])
@given(data=samples, n_bins=st.integers(2, 6))
@example(data={"a": ([0.0, 5.977956768526727e-221], [0.0, 0.0])}, n_bins=2)  # std underflows
def test_statistics_match_scipy(
    data: dict[str, tuple[list[float | None], list[float | None]]], n_bins: int, ks_method: str
) -> None:
    ref = frame({k: v[0] for k, v in data.items()})
    cur = frame({k: v[1] for k, v in data.items()})
    config = DriftConfig(
        min_readings=1,
        n_bins=n_bins,
        ks_method=ks_method,  # type: ignore[arg-type]
        effective_n=None,  # raw p-values, as scipy's (tests/drift/test_effective_n.py)
    )
    report = detect_drift(ref, cur, config)
    profile = DriftDetector(config).fit(ref).profile_  # the detector's own bin edges
    edges_of = dict(zip(profile["sensor_id"], profile["bin_edges"].to_list(), strict=True))
    for sid, (rv, cv) in data.items():
        r, c = _finite(rv), _finite(cv)
        rows = report.table.filter(sensor_id=sid)
        if not rv:
            assert rows.height == (1 if cv else 0)
            if cv:
                assert rows["status"].item() == "no_reference"
                assert rows["drift_detected"].item() is None
            continue
        row = rows.row(0, named=True)
        assert (row["n_ref"], row["n_cur"]) == (len(r), len(c))
        if len(r) == 0 or len(c) == 0:
            assert row["status"] == "all_missing"
            assert row["drift_detected"] is None
            assert row["severity"] is None
            assert row["ks_pvalue"] is None
            continue
        flat_now = c.min() == c.max() and r.min() != r.max()
        missing = 1 - len(c) / len(cv) >= 0.5 > 1 - len(r) / len(rv)
        fault = flat_now or missing  # tests/drift/test_detector.py: sensor faults
        assert row["status"] == (
            "sensor_fault" if fault else "constant" if r.min() == r.max() else "ok"
        )
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # auto is exact for n*m <= 10,000, which these samples always are; where the
            # exact computation fails scipy warns and switches to asymp, as we do silently
            warnings.simplefilter("ignore", RuntimeWarning)
            ks = ss.ks_2samp(r, c, method="exact" if ks_method == "auto" else ks_method)
        _close(row["ks_statistic"], float(ks.statistic))
        _close(row["ks_pvalue"], float(ks.pvalue))
        mw = ss.mannwhitneyu(r, c, method="asymptotic")
        _close(row["mw_statistic"], float(mw.statistic))
        _close(row["mw_pvalue"], float(mw.pvalue))
        edges = np.array(edges_of[sid])
        assert edges.shape == (n_bins - 1,)
        rc, cc = _bin_counts(r, c, edges)
        used = (rc + cc) > 0
        table = np.vstack([rc[used], cc[used]])
        if used.sum() > 1:
            chi = ss.chi2_contingency(table, correction=False)
            _close(row["chi2_statistic"], float(chi.statistic))
            _close(row["chi2_pvalue"], float(chi.pvalue))
        else:
            assert (row["chi2_statistic"], row["chi2_pvalue"]) == (0.0, 1.0)
        pr = np.maximum(rc / len(r), 1e-4)
        pc = np.maximum(cc / len(c), 1e-4)
        _close(row["psi"], float(np.sum((pc - pr) * np.log(pc / pr))))
        js = float(jensenshannon(rc / len(r), cc / len(c), base=2) ** 2)
        assert row["js_divergence"] == pytest.approx(js, rel=1e-9, abs=1e-12)
        if row["status"] == "ok" and len(r) > 1 and len(c) > 1:
            sr, sc = r.std(ddof=1), c.std(ddof=1)
            if sr > 0:
                _close(row["mean_shift"], abs(c.mean() - r.mean()) / sr)
                _close(row["std_ratio"], sc / sr)
                want_q = (np.quantile(c, 0.25) - np.quantile(r, 0.25)) / sr
                assert row["q25_shift"] == pytest.approx(want_q, rel=1e-9, abs=1e-12)
            else:  # distinct readings whose std underflows to 0 (subnormals): a zero
                # scale, so a change of the mean is an infinite shift (as when constant)
                assert row["mean_shift"] == (math.inf if c.mean() != r.mean() else 0.0)
                assert row["std_ratio"] == (1.0 if sc == 0 else math.inf)
        # Bonferroni over the detection tests that are defined (their scipy checks:
        # tests/drift/test_distances.py, test_location_scale.py)
        ps = [row[c] for c in DETECTION_PVALUES if row[c] is not None]
        _close(row["drift_pvalue"], min(1.0, len(ps) * min(ps)))


@given(
    a=st.lists(st.sampled_from([0.0, 1.0, 2.0, 2.5]), min_size=1, max_size=30),
    b=st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30),
)
def test_missing_rate_change(a: list[float], b: list[float]) -> None:
    ref = frame({"s": [*a, None, None]})
    cur = frame({"s": [*b, None]})
    row = detect_drift(ref, cur, DriftConfig(min_readings=1)).table.row(0, named=True)
    _close(row["missing_rate_change"], 1 / (len(b) + 1) - 2 / (len(a) + 2))


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50), st.data())
def test_quantiles_and_searchsorted_match_numpy(vals: list[float], data: st.DataObject) -> None:
    a = np.sort(np.array(vals))
    padded = np.concatenate([a, [np.inf] * 3])[None, :]
    probs = np.array([0.05, 0.1, 1 / 3, 0.5, 0.9, 0.95])
    got = quantiles_sorted(padded, np.array([len(a)]), probs)[0]
    np.testing.assert_array_equal(got, np.quantile(a, probs))
    q = np.array(data.draw(st.lists(st.sampled_from([*vals, 0.0, -1e7]), min_size=1, max_size=5)))
    for side in ("left", "right"):
        got_idx = searchsorted_rows(padded, q[None, :], side=side)[0]
        np.testing.assert_array_equal(got_idx, np.searchsorted(a, q, side=side))  # type: ignore[call-overload]


def test_samples_from_unsorted_sorts_each_segment() -> None:
    rng = np.random.default_rng(3)
    lengths = np.array([0, 5, 1, 300, 7])
    values = rng.normal(size=lengths.sum())
    s = Samples.from_unsorted(values, lengths, batch_cells=64)
    off = np.concatenate([[0], np.cumsum(lengths)])
    np.testing.assert_array_equal(s.starts, off[:-1])
    for i in range(len(lengths)):
        np.testing.assert_array_equal(
            s.values[off[i] : off[i + 1]], np.sort(values[off[i] : off[i + 1]])
        )
    # a permuted view reads the same runs
    view = s.take(np.array([3, -1, 1]))
    assert view.lengths.tolist() == [300, 0, 5]
    np.testing.assert_array_equal(
        view.concatenate(), np.concatenate([s.values[6:306], s.values[0:5]])
    )
    lo, hi = view.first_last()
    assert lo[0] == s.values[6]
    assert np.isnan(lo[1])
    assert hi[2] == s.values[4]


def test_merge_stats_do_not_depend_on_the_batches() -> None:
    # sizes from 1 to 3,000 (several merge batches, padding of different widths), ties
    rng = np.random.default_rng(5)
    lens_r, lens_c = rng.integers(1, 3000, size=(2, 40))
    ref = Samples.from_unsorted(
        rng.integers(0, 50, size=lens_r.sum()) / 4, lens_r, batch_cells=10**6
    )
    cur = Samples.concatenated(rng.normal(6, 4, size=lens_c.sum()).round(1), lens_c)
    edges = np.tile([2.0, 5.0, 8.0], (40, 1))
    rows = np.arange(40)
    one, many = (
        merge_stats(ref, cur, edges, rows, batch_cells=cells, distances=True)
        for cells in (10**9, 2_000)
    )
    for name in one.__slots__:
        a, b = getattr(one, name), getattr(many, name)
        if a.dtype == np.float64:  # NumPy's pairwise sums may round by padding width
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
    want = [
        ss.ks_2samp(ref.values[s : s + n], cur.values[t : t + m]).statistic
        for s, n, t, m in zip(ref.starts, lens_r, cur.starts, lens_c, strict=True)
    ]
    np.testing.assert_allclose(one.ks_d, want, rtol=RTOL)


def test_batches_cover_every_sensor_once() -> None:
    sizes = np.array([1, 1000, 3, 0, 64, 65, 5000, 2])
    parts = list(batches(sizes, 200))
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(sizes)))


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.random.default_rng(0).uniform(size=50) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), ss.false_discovery_control(p), rtol=1e-12)


@pytest.mark.parametrize(
    ("n", "m", "bound"),
    [(101, 100, 0.25), (200, 200, 0.2), (300, 500, 0.1), (1000, 1000, 0.1), (3000, 2000, 0.05)],
)
def test_auto_ks_error_against_exact(n: int, m: int, bound: float) -> None:
    """
    The auto KS p-value against scipy's exact one, for n*m > 10,000.

    Stated error (relative, where the exact p-value exceeds 1e-3): at most 25% for
    n, m ~ 100, 20% for n = m = 200, 10% up to 1,000 and 5% for n, m in the thousands;
    never more than 5 points worse than scipy's own "asymp" method. Equal sizes are the
    worst case (D lives on a coarse lattice there).
    """
    rng = np.random.default_rng(4)
    for shift in np.linspace(0, 0.3, 8):
        r, c = rng.normal(size=n), rng.normal(shift, 1, size=m)
        exact = ss.ks_2samp(r, c, method="exact")
        asymp = ss.ks_2samp(r, c, method="asymp")
        got = ks_pvalue(np.array([exact.statistic]), np.array([n]), np.array([m]), method="auto")
        if exact.pvalue > 1e-3:
            err = abs(got[0] / exact.pvalue - 1)
            assert err < bound
            assert err <= abs(asymp.pvalue / exact.pvalue - 1) + 0.05


def test_auto_ks_is_exact_for_small_samples() -> None:
    rng = np.random.default_rng(5)
    r, c = rng.normal(size=80), rng.normal(size=100).round(1)
    res = ss.ks_2samp(r, c, method="exact")
    got = ks_pvalue(np.array([res.statistic]), np.array([80]), np.array([100]), method="auto")
    assert got[0] == pytest.approx(res.pvalue, rel=1e-12)


def test_exact_ks_that_scipy_abandons_matches_its_fallback() -> None:
    # scipy warns "Exact calculation unsuccessful" here and falls back to asymp
    data = {"c": ([0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0])}
    test_statistics_match_scipy.hypothesis.inner_test(data=data, n_bins=2, ks_method="auto")  # type: ignore[attr-defined]
