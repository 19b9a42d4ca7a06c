"""The drift report's layout: one list of table columns behind the table and the records."""

from __future__ import annotations

import numpy as np
import polars as pl

from sensorframe.drift import detect_drift
from sensorframe.drift.report import FLOAT_COLUMNS, QUANTILE_SHIFTS, TESTS
from tests.drift.helpers import frame


def test_the_table_and_the_records_share_one_layout() -> None:
    g = np.random.default_rng(3)
    report = detect_drift(frame({"P-1": g.normal(size=300)}), frame({"P-1": g.normal(size=300)}))
    floats = [c for c, dtype in report.table.schema.items() if dtype == pl.Float64]
    assert floats == list(FLOAT_COLUMNS)
    rec = report["P-1"]
    row = report.table.row(0, named=True)
    for name, (stat, pvalue) in TESTS.items():
        want = {"statistic": row[stat], "p_value": row[pvalue], "p_value_raw": row[f"{pvalue}_raw"]}
        assert rec.statistical_tests[name] == want
    assert rec.metrics["quantile_shifts"] == {q: row[c] for q, c in QUANTILE_SHIFTS.items()}
    assert list(QUANTILE_SHIFTS) == ["q05", "q25", "q50", "q75", "q95"]
    assert rec.metrics["psi"] == row["psi"]
    assert rec.metrics["n_ref"] == rec.metrics["n_cur"] == 300
