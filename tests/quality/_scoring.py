"""Recall and false-positive rate of a check's flags against labelled rows (shared by the
synthetic-fault and real-data tests)."""

from __future__ import annotations

from typing import NamedTuple

import polars as pl

__all__ = ["Rates", "row_rates"]


class Rates(NamedTuple):
    """How well one flag column matches one label column."""

    positives: int
    """Labelled rows scored (not ignored)."""
    recall: float
    """Share of labelled rows flagged (NaN without any)."""
    false_positives: int
    """Flagged rows among the unlabelled ones."""
    fp_rate: float
    """``false_positives`` over the unlabelled rows scored."""


def row_rates(frame: pl.DataFrame, flag: str, label: str, *, ignore: str | None = None) -> Rates:
    """
    Row-level recall and false-positive rate of boolean column `flag` against `label`.

    Rows where the boolean column `ignore` is true count neither way (the edges of a
    fault, or labelled rows a check is not meant to find); a null flag is no flag.
    """
    rows = frame if ignore is None else frame.filter(~pl.col(ignore))
    hit = rows[flag].fill_null(False)
    truth = rows[label]
    positives, negatives = int(truth.sum()), int((~truth).sum())
    found, false = int((hit & truth).sum()), int((hit & ~truth).sum())
    return Rates(
        positives,
        found / positives if positives else float("nan"),
        false,
        false / negatives if negatives else float("nan"),
    )
