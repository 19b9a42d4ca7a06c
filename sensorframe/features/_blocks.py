"""
Trailing row-count windows of a whole sorted column without running state.

The rolling kernels keep running sums along the column, so on a column holding many
sensors one after another, the last bits of a sensor's rolling mean or std would depend
on the previous sensor's readings; ``.over`` avoids that but costs a group pass per
expression and runs the groups one after another.

Here every window is assembled from blocks of 2**b rows instead: the block of 2n rows
ending at row t combines the n-row blocks ending at t and at t - n, and a window of w
rows combines the blocks of its binary decomposition (24 = 16 + 8). Each block carries
its sum, its sum of squared deviations from its own mean (combined as Chan, Golub and
LeVeque do, which is pairwise and stable: no ``E[x^2] - E[x]^2`` cancellation), its min
and its max. So a window's result is a fixed arithmetic tree over the window's own
readings, computed with elementwise expressions that Polars runs in parallel: it
depends on nothing outside the window, and rows whose window would reach into the
previous sensor are then set to null, as are windows holding a null reading (as
``min_samples = window`` does). The median uses the rolling kernel on the null-free
column: its result is exact, so it too depends on the window's readings only.

Divisions by a constant are written as multiplications by its reciprocal: Polars
evaluates ``x / 3.0`` either way depending on the plan, and the choice must not let the
last bit depend on what else is in the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["BLOCK_STATS", "block_windows"]

BLOCK_STATS = frozenset({"mean", "std", "min", "max", "range", "median"})
"""The statistics :func:`block_windows` computes."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Parts:
    """Expressions for one block or window: count, sum, squared deviations, min, max."""

    n: int
    total: pl.Expr
    sq: pl.Expr | None
    lo: pl.Expr | None
    hi: pl.Expr | None

    def shifted(self, rows: int) -> _Parts:
        """Shift the block back by `rows` rows, filling the head with neutral values."""
        if rows == 0:
            return self

        def back(e: pl.Expr | None, fill: float) -> pl.Expr | None:
            return None if e is None else e.shift(rows, fill_value=fill)

        return _Parts(
            n=self.n,
            total=self.total.shift(rows, fill_value=0.0),
            sq=back(self.sq, 0.0),
            lo=back(self.lo, math.inf),
            hi=back(self.hi, -math.inf),
        )

    def combine(self, older: _Parts) -> _Parts:
        """Merge with the block just before this one (Chan et al. for `sq`)."""
        sq = None
        if self.sq is not None and older.sq is not None:
            if self.n == older.n:  # (difference of means)^2 * n / 2, one product fewer
                delta = self.total - older.total
                weight = 1.0 / (2 * self.n)
            else:
                delta = self.total * (1.0 / self.n) - older.total * (1.0 / older.n)
                weight = self.n * older.n / (self.n + older.n)
            sq = delta * delta * weight
            for part in (self, older):
                if part.n > 1 and part.sq is not None:  # a single reading has no deviation
                    sq = part.sq + sq
        return _Parts(
            n=self.n + older.n,
            total=self.total + older.total,
            sq=sq,
            lo=None if self.lo is None else pl.min_horizontal(self.lo, older.lo),
            hi=None if self.hi is None else pl.max_horizontal(self.hi, older.hi),
        )


def _block(prefix: str, n: int, *, sq: bool, lo: bool, hi: bool) -> _Parts:
    return _Parts(
        n=n,
        total=pl.col(f"{prefix}s{n}"),
        sq=pl.col(f"{prefix}q{n}") if sq else None,
        lo=pl.col(f"{prefix}lo{n}") if lo else None,
        hi=pl.col(f"{prefix}hi{n}") if hi else None,
    )


def _named(parts: _Parts, prefix: str) -> list[pl.Expr]:
    n = parts.n
    out = [parts.total.alias(f"{prefix}s{n}")]
    for expr, name in ((parts.sq, "q"), (parts.lo, "lo"), (parts.hi, "hi")):
        if expr is not None:
            out.append(expr.alias(f"{prefix}{name}{n}"))
    return out


def _powers(w: int) -> list[int]:
    """Binary decomposition of `w`, largest first (24 -> [16, 8])."""
    return [1 << b for b in range(w.bit_length() - 1, -1, -1) if w >> b & 1]


def block_windows(
    lf: pl.LazyFrame,
    column: str,
    requests: Iterable[tuple[str, int, str]],
    *,
    row: str,
    prefix: str,
) -> pl.LazyFrame:
    """
    Add trailing-window statistics of `column` on a frame sorted by (sensor, time).

    Parameters
    ----------
    lf
        Frame sorted by (sensor, time).
    column
        Float column of readings (null where missing).
    requests
        ``(output name, window rows >= 2, stat)`` with stat in :data:`BLOCK_STATS`.
    row
        Column with each row's position in its sensor (0 at its first row).
    prefix
        Prefix of the temporary block columns (dropped before returning).

    Returns
    -------
    LazyFrame
        `lf` plus one column per request: null until the window is full, where it holds a
        null reading, and where it would reach into the previous sensor.
    """
    reqs = list(requests)
    if not reqs:
        return lf
    stats = {stat for _, _, stat in reqs}
    want_sq = "std" in stats
    want_lo = bool(stats & {"min", "range"})
    want_hi = bool(stats & {"max", "range"})
    top = max(_powers(w)[0] for _, w, _ in reqs)
    x = pl.col(column)
    # Blocks hold no nulls (a null reading counts as 0 in sums, +-inf in min / max),
    # which makes every elementwise step several times faster; a window is valid
    # when the count of nulls up to its end minus that before its start is zero.
    nulls = f"{prefix}nulls"
    lf = lf.with_columns(x.is_null().cum_sum().alias(nulls))
    one = _Parts(
        n=1,
        total=x.fill_null(0.0),
        sq=pl.lit(0.0, dtype=pl.Float64) if want_sq else None,
        lo=x.fill_null(math.inf) if want_lo else None,
        hi=x.fill_null(-math.inf) if want_hi else None,
    )
    # block size -> the last stage (block size being built) that reads it
    last_use: dict[int, int] = {}
    size = 2
    while size <= top:
        last_use[size // 2] = size
        size *= 2
    for _, w, _ in reqs:
        parts = _powers(w)
        for p in parts:
            last_use[p] = max(last_use.get(p, 0), parts[0])
    blocks: dict[int, _Parts] = {1: one}
    columns: dict[int, list[str]] = {}  # temporary columns of each block size
    size = 2
    while size <= top:
        half = blocks[size // 2]
        built = _named(half.combine(half.shifted(size // 2)), prefix)
        lf = lf.with_columns(built)
        columns[size] = [e.meta.output_name() for e in built]
        blocks[size] = _block(prefix, size, sq=want_sq, lo=want_lo, hi=want_hi)
        ready = [r for r in reqs if _powers(r[1])[0] == size]
        if ready:
            lf = _add_windows(
                lf, blocks, ready, column=column, row=row, nulls=nulls, prefix=f"{prefix}w"
            )
        # drop blocks no later stage reads, so at most a few are held at once
        dead = [p for p in columns if last_use.get(p, 0) <= size]
        if dead:
            lf = lf.drop([c for p in dead for c in columns.pop(p)])
        size *= 2
    return lf.drop(nulls)


def _add_windows(
    lf: pl.LazyFrame,
    blocks: dict[int, _Parts],
    requests: list[tuple[str, int, str]],
    *,
    column: str,
    row: str,
    nulls: str,
    prefix: str,
) -> pl.LazyFrame:
    """Add the requested windows: first each window's parts and mask, then the stats."""
    parts: dict[int, _Parts] = {}
    temporary: list[pl.Expr] = []
    for w in sorted({w for _, w, _ in requests}):
        acc = blocks[_powers(w)[0]]
        offset = acc.n
        for p in _powers(w)[1:]:
            acc = acc.combine(blocks[p].shifted(offset))
            offset += p
        named = _named(acc, prefix) if len(_powers(w)) > 1 else []
        count = pl.col(nulls)
        full = (pl.col(row) >= w - 1) & (count == count.shift(w, fill_value=0))
        temporary += [*named, full.alias(f"{prefix}ok{w}")]
        parts[w] = (
            _block(prefix, w, sq=acc.sq is not None, lo=acc.lo is not None, hi=acc.hi is not None)
            if named
            else acc
        )
    lf = lf.with_columns(temporary)
    stats = []
    for name, w, stat in requests:
        acc = parts[w]
        if stat == "mean":
            value = acc.total * (1.0 / w)
        elif stat == "std":
            value = (_part(acc.sq) * (1.0 / (w - 1))).sqrt()
        elif stat == "min":
            value = _part(acc.lo)
        elif stat == "max":
            value = _part(acc.hi)
        elif stat == "range":
            value = _part(acc.hi) - _part(acc.lo)
        else:  # the median kernel is exact (no running sums); null-free it is ~3x faster
            value = pl.col(column).fill_null(0.0).rolling_median(w)
        stats.append(pl.when(pl.col(f"{prefix}ok{w}")).then(value).alias(name))
    return lf.with_columns(stats).drop([e.meta.output_name() for e in temporary])


def _part(expr: pl.Expr | None) -> pl.Expr:
    if expr is None:  # pragma: no cover (block_windows builds every part a stat needs)
        msg = "a block part was not computed"
        raise RuntimeError(msg)
    return expr
