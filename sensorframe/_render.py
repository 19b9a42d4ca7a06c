"""Tables for a terminal: the one rendering used by the command line and the demo."""

from __future__ import annotations

import polars as pl

__all__ = ["render"]


def render(table: pl.DataFrame, *, max_rows: int = 40) -> str:
    """
    Render a table for a terminal: all columns, at most ``max_rows`` rows, no shape line.

    Examples
    --------
    >>> from sensorframe._render import render
    >>> print(render(pl.DataFrame({"sensor_id": ["a"], "psi": [0.123456]})))
    ┌───────────┬────────┐
    │ sensor_id ┆ psi    │
    │ ---       ┆ ---    │
    │ str       ┆ f64    │
    ╞═══════════╪════════╡
    │ a         ┆ 0.1235 │
    └───────────┴────────┘
    """
    with pl.Config(
        tbl_rows=max_rows,
        tbl_cols=-1,
        tbl_width_chars=200,
        fmt_str_lengths=60,
        fmt_table_cell_list_len=3,
        tbl_hide_dataframe_shape=True,
        float_precision=4,
    ):
        return str(table)
