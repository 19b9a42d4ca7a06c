"""
Ordered string enums: the grades of quality and drift reports.

A member's value is its name in lowercase (``"good"``, ``"high"``), so it compares equal
to that text and prints as it; ``<``, ``>``, ``max`` and ``sorted`` follow the order of
definition (severity), not the alphabet. Report tables hold these grades as a Polars
``Enum`` column (:meth:`OrderedStrEnum.dtype`) in the same order, so sorting a table by
its grade sorts by severity.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

import polars as pl

from sensorframe.errors import InvalidParameterError

__all__ = ["OrderedStrEnum"]


class OrderedStrEnum(StrEnum):
    """
    A string enum ordered by severity: members compare with ``<`` in definition order.

    Members are looked up by value (``"good"``) or by name (``"GOOD"``, the values of earlier
    releases). Comparing with text compares with the member it names;
    unknown text raises :class:`~sensorframe.errors.InvalidParameterError`.

    Examples
    --------
    >>> from sensorframe._enums import OrderedStrEnum
    >>> class Level(OrderedStrEnum):
    ...     LOW = "low"
    ...     HIGH = "high"
    >>> Level.HIGH > Level.LOW, Level.LOW == "low", Level("HIGH"), Level.HIGH.rank
    (True, True, <Level.HIGH: 'high'>, 1)
    >>> sorted(["high", "low"], key=Level), max(Level.HIGH, "low")
    (['low', 'high'], <Level.HIGH: 'high'>)
    >>> Level.dtype()
    Enum(categories=['low', 'high'])
    """

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            return cls.__members__.get(value)
        return None

    @classmethod
    def dtype(cls) -> pl.Enum:
        """Return the Polars ``Enum`` of the values, in order of severity."""
        return pl.Enum([m.value for m in cls])

    @property
    def rank(self) -> int:
        """Position in the order: 0 for the mildest member."""
        return type(self)._member_names_.index(self.name)

    @classmethod
    def _rank_of(cls, other: object) -> int | None:
        """Return the rank of the member `other` names, or None if it does not compare."""
        if isinstance(other, cls):
            return other.rank
        if not isinstance(other, str) or isinstance(other, OrderedStrEnum):
            return None  # another kind of grade does not compare either
        try:
            return cls(other).rank
        except ValueError:
            msg = (
                f"{other!r} is not a {cls.__name__}; "
                f"the values are {', '.join(m.value for m in cls)}"
            )
            raise InvalidParameterError(msg) from None

    def __lt__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._rank_of(other)
        return NotImplemented if rank is None else self.rank >= rank
