"""Read a Delta table version into Spark through deltalake (no delta-spark jars needed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deltalake import DeltaTable

from sensorframe.errors import InvalidTypeError, VersioningError
from sensorframe.spark._arrow import spark_schema

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from sensorframe.store import DatasetStore

__all__ = ["read_dataset", "read_delta"]


def read_delta(
    spark: SparkSession,
    uri: str,
    *,
    version: int | None = None,
    storage_options: dict[str, str] | None = None,
) -> DataFrame:
    """
    Read one version of a Delta table as a Spark DataFrame.

    deltalake resolves the version's data files (``DeltaTable.file_uris()``) and Spark
    reads exactly those Parquet files, so a Spark job sees the rows a local
    ``sf.scan(uri)`` of that version sees.

    Parameters
    ----------
    spark
        The session to read with.
    uri
        The table's folder or URI.
    version
        The version to read; the latest when None.
    storage_options
        deltalake's options for object stores (Spark needs its own Hadoop settings).

    Returns
    -------
    pyspark.sql.DataFrame
        The version's rows (no rows, in the table's schema, for a version without files).

    Raises
    ------
    VersioningError
        If there is no Delta table at `uri` or no such version.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> sfs.read_delta(spark, "lake/readings", version=3).count()  # doctest: +SKIP
    1200000
    """
    try:
        table = DeltaTable(uri, version=version, storage_options=storage_options)
    except Exception as exc:
        at = "the latest version" if version is None else f"version {version}"
        msg = f"cannot open {at} of the Delta table at {uri!r}: {exc}"
        raise VersioningError(msg) from exc
    files = table.file_uris()
    if not files:
        import polars as pl

        empty = pl.from_arrow(table.schema().to_arrow().empty_table())
        assert isinstance(empty, pl.DataFrame)
        return spark.createDataFrame([], spark_schema(empty.schema))
    return spark.read.parquet(*files)


def read_dataset(
    spark: SparkSession,
    store: DatasetStore,
    dataset: str,
    *,
    version: int | None = None,
    tag: str | None = None,
) -> DataFrame:
    """
    Read a version of a dataset of a :class:`~sensorframe.DatasetStore` into Spark.

    The version is resolved by the store (:meth:`DatasetStore.resolve`), so it is the
    one ``store.read(dataset, version=..., tag=...)`` reads locally.

    Parameters
    ----------
    spark
        The session to read with.
    store
        The store holding the dataset.
    dataset
        The dataset's name.
    version, tag
        The version to read, by number or tag; the latest when both are None.

    Returns
    -------
    pyspark.sql.DataFrame
        The version's rows.

    Raises
    ------
    DatasetNotFoundError, VersionNotFoundError, TagNotFoundError
        As :meth:`DatasetStore.resolve`.

    Examples
    --------
    >>> import sensorframe.spark as sfs
    >>> sfs.read_dataset(spark, sf.DatasetStore("lake"), "processed").count()  # doctest: +SKIP
    1200000
    """
    from sensorframe.store import DatasetStore

    if not isinstance(store, DatasetStore):
        msg = f"`store` must be a DatasetStore, got {type(store).__name__}"
        raise InvalidTypeError(msg)
    number = store.resolve(dataset, version=version, tag=tag)
    uri = f"{store.root}/{dataset}"
    return read_delta(spark, uri, version=number, storage_options=store.storage_options)
