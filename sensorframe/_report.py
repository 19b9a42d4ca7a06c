"""What every per-sensor report shares: a table, lookup by sensor, iteration, short reprs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Generic, TypeVar

import polars as pl

from sensorframe._utils import preview
from sensorframe.errors import InvalidTypeError, UnknownSensorError
from sensorframe.frame import SENSOR

__all__ = ["SensorReport", "counts"]

Item = TypeVar("Item")


def counts(values: pl.Series) -> str:
    """
    ``"2 good, 1 poor"``: how often each non-null value occurs, in the column's order.

    An ``Enum`` column counts in its order of severity, text alphabetically.

    Examples
    --------
    >>> from sensorframe._report import counts
    >>> counts(pl.Series(["poor", "good", None, "good"], dtype=sf.QualityStatus.dtype()))
    '2 good, 1 poor'
    """
    table = values.drop_nulls().value_counts(name="n").sort(values.name)
    return ", ".join(f"{n} {value}" for value, n in table.iter_rows())


class SensorReport(ABC, Generic[Item]):
    """
    Base of the reports with one table row per sensor.

    ``report[sensor_id]`` is one sensor's record (:class:`UnknownSensorError` for a
    sensor not in the table, :class:`InvalidTypeError` for an id that is not text),
    ``iter(report)`` yields the records in table order, ``len(report)`` counts the
    sensors and ``sensor_id in report`` tests for one.
    Subclasses set ``table``, build a record from a table row in :meth:`_item` and
    say what their repr shows after the sensor count in :meth:`_summary`.
    """

    __slots__ = ()
    table: pl.DataFrame
    _kind: ClassVar[str]
    """Name of the report in messages: ``"quality report"``."""

    @property
    def sensors(self) -> list[str]:
        """The sensor ids, in table order."""
        return self.table[SENSOR].to_list()

    @abstractmethod
    def _item(self, row: dict[str, Any]) -> Item:
        """Build the record of the sensor of one table row."""

    @abstractmethod
    def _summary(self) -> str:
        """Say what the repr shows after the sensor count (empty for no sensors)."""

    def __repr__(self) -> str:
        n, summary = len(self), self._summary()
        sensors = f"{n} sensor{'' if n == 1 else 's'}"
        return f"{type(self).__name__}({sensors}{': ' * bool(summary)}{summary})"

    def __getitem__(self, sensor_id: str) -> Item:
        if not isinstance(sensor_id, str):
            msg = f"a sensor id must be a string, got {type(sensor_id).__name__} {sensor_id!r}"
            raise InvalidTypeError(msg)
        rows = self.table.filter(pl.col(SENSOR) == sensor_id)
        if rows.height == 0:
            msg = (
                f"no sensor {sensor_id!r} in this {self._kind}; "
                f"known sensors: {preview(self.sensors)}"
            )
            raise UnknownSensorError(msg)
        return self._item(rows.row(0, named=True))

    def __iter__(self) -> Iterator[Item]:
        return (self._item(row) for row in self.table.iter_rows(named=True))

    def __len__(self) -> int:
        return self.table.height

    def __contains__(self, sensor_id: object) -> bool:
        return sensor_id in set(self.sensors)
