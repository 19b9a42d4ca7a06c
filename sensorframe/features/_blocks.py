"""
Trailing row-count windows of a whole sorted column without running state.

The rolling kernels keep running sums along the column, so on a column holding many
sensors one after another, the last bits of a sensor's rolling mean or std would depend
on the previous sensor's readings; ``.over`` avoids that but costs a group pass per
expression and runs the groups one after another.

Here every window is a block assembled from two smaller ones instead: the block of
n + m rows ending at row t combines the n-row block ending at t with the m-row block
ending at t - n, halving down to single readings (24 = 12 + 12, 12 = 6 + 6, 6 = 3 + 3,
3 = 2 + 1, 2 = 1 + 1), so the windows 3, 6, 12 and 24 take five combinations where
powers of two took eight (2, 4, 8, 16, then 3 = 2 + 1, 6 = 4 + 2, ...). Each block
carries its sum, its sum of squared deviations from its own mean (combined as Chan,
Golub and LeVeque do, which is pairwise and stable: no ``E[x^2] - E[x]^2``
cancellation), its min and its max. So a window's result is a fixed arithmetic tree
over the window's own readings, computed with elementwise expressions that Polars runs
in parallel: it depends on nothing outside the window, and rows whose window would
reach into the previous sensor are then set to null, as are windows holding a null
reading (as ``min_samples = window`` does). The median uses the rolling kernel on the
null-free column (a comparison network for 3 rows): its result is exact, so it too
depends on the window's readings only.

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


def _plan(windows: Iterable[int]) -> dict[int, tuple[int, int]]:
    """
    Plan the blocks to build, smallest first: size -> (newer part, older part).

    Examples
    --------
    >>> from sensorframe.features._blocks import _plan
    >>> _plan([3, 6, 12, 24])
    {2: (1, 1), 3: (2, 1), 6: (3, 3), 12: (6, 6), 24: (12, 12)}
    """
    plan: dict[int, tuple[int, int]] = {}
    todo = [w for w in windows if w > 1]
    while todo:
        size = todo.pop()
        if size not in plan:
            plan[size] = ((size + 1) // 2, size // 2)
            todo += [p for p in plan[size] if p > 1]
    return dict(sorted(plan.items()))


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
    x = pl.col(column)
    # Blocks hold no nulls (a null reading counts as 0 in sums, +-inf in min / max),
    # which makes every elementwise step several times faster; a window is valid
    # when the count of nulls up to its end minus that before its start is zero.
    nulls = f"{prefix}nulls"
    lf = lf.with_columns(x.is_null().cum_sum().alias(nulls))
    blocks: dict[int, _Parts] = {
        1: _Parts(
            n=1,
            total=x.fill_null(0.0),
            sq=pl.lit(0.0, dtype=pl.Float64) if want_sq else None,
            lo=x.fill_null(math.inf) if want_lo else None,
            hi=x.fill_null(-math.inf) if want_hi else None,
        )
    }
    plan = _plan(w for _, w, _ in reqs)
    last_use = {part: size for size, parts in plan.items() for part in parts}  # ascending
    columns: dict[int, list[str]] = {}  # temporary columns of each block size
    for size, (newer, older) in plan.items():
        built = _named(blocks[newer].combine(blocks[older].shifted(newer)), prefix)
        lf = lf.with_columns(built)
        columns[size] = [e.meta.output_name() for e in built]
        blocks[size] = _block(prefix, size, sq=want_sq, lo=want_lo, hi=want_hi)
        ready = [r for r in reqs if r[1] == size]
        if ready:
            lf = _add_windows(lf, blocks[size], ready, column=column, row=row, nulls=nulls)
        # drop blocks no later block reads, so only a few are held at once
        dead = [p for p in columns if last_use.get(p, 0) <= size]
        if dead:
            lf = lf.drop([c for p in dead for c in columns.pop(p)])
    return lf.drop(nulls, *(c for names in columns.values() for c in names))


def _add_windows(
    lf: pl.LazyFrame,
    block: _Parts,
    requests: list[tuple[str, int, str]],
    *,
    column: str,
    row: str,
    nulls: str,
) -> pl.LazyFrame:
    """Add the requested statistics of one window size, null where it is not full."""
    w = block.n
    count = pl.col(nulls)
    full = (pl.col(row) >= w - 1) & (count == count.shift(w, fill_value=0))
    stats = []
    for name, _, stat in requests:
        if stat == "mean":
            value = block.total * (1.0 / w)
        elif stat == "std":
            value = (_part(block.sq) * (1.0 / (w - 1))).sqrt()
        elif stat == "min":
            value = _part(block.lo)
        elif stat == "max":
            value = _part(block.hi)
        elif stat == "range":
            value = _part(block.hi) - _part(block.lo)
        elif w == 3:  # the middle of three by a comparison network (~1.7x the kernel)
            a, b, c = (pl.col(column).fill_null(0.0).shift(k) for k in range(3))
            low, high = pl.min_horizontal(a, b), pl.max_horizontal(a, b)
            value = pl.max_horizontal(low, pl.min_horizontal(high, c))
        else:  # the median kernel is exact (no running sums); null-free it is ~3x faster
            value = pl.col(column).fill_null(0.0).rolling_median(w)
        stats.append(pl.when(full).then(value).alias(name))
    return lf.with_columns(stats)


def _part(expr: pl.Expr | None) -> pl.Expr:
    if expr is None:  # pragma: no cover (block_windows builds every part a stat needs)
        msg = "a block part was not computed"
        raise RuntimeError(msg)
    return expr
