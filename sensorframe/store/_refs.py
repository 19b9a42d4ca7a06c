"""
Tags, lineage and model links of the dataset store (derived from append-only events).

Also :func:`resolve` (a version, a time or a tag, or nothing: the latest, to a number)
and :func:`read` (the rows of the version it resolves to).
Public behaviour is documented on :class:`~sensorframe.store.DatasetStore`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import polars as pl
from polars.io.plugins import register_io_source

from sensorframe._utils import preview
from sensorframe.errors import (
    InvalidParameterError,
    InvalidTypeError,
    TagNotFoundError,
    VersionNotFoundError,
)
from sensorframe.store._core import StoreCore
from sensorframe.store._model import DatasetVersion, check_name, check_text, to_utc
from sensorframe.store._timing import now
from sensorframe.store._translate import SCAN_FAILURES, damaged_as_integrity_error

__all__ = [
    "check_not_vacuumed",
    "lineage",
    "lineage_graph",
    "link_model",
    "model_datasets",
    "models",
    "read",
    "resolve",
    "tag",
    "tags",
]

_TS = pl.Datetime("us", "UTC")
TAG_SCHEMA = pl.Schema(
    {"dataset": pl.String(), "tag": pl.String(), "version": pl.Int64(), "at": _TS}
)
LINK_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "version": pl.Int64(),
        "model_id": pl.String(),
        "model_version": pl.String(),
        "at": _TS,
    }
)
LINEAGE_SCHEMA = pl.Schema(
    {
        "dataset": pl.String(),
        "version": pl.Int64(),
        "parent_dataset": pl.String(),
        "parent_version": pl.Int64(),
        "depth": pl.Int64(),
    }
)


def resolve(
    core: StoreCore,
    dataset: str,
    *,
    version: int | None = None,
    as_known_at: datetime | None = None,
    tag: str | None = None,
) -> int:
    """Turn a version, time or tag (or nothing: the latest) into a readable version number."""
    given = sum(x is not None for x in (version, as_known_at, tag))
    if given > 1:
        msg = "give at most one of `version`, `as_known_at` and `tag`"
        raise InvalidParameterError(msg)
    if as_known_at is not None:
        if not isinstance(as_known_at, datetime):
            msg = (
                f"`as_known_at` must be a datetime, got {as_known_at!r}; for a string use "
                "datetime.fromisoformat(...)"
            )
            raise InvalidTypeError(msg)
        when = to_utc(as_known_at)
        history = core.history(dataset)
        before = [v.version for v in history if v.created_at <= when]
        if not before:
            first = f"; the first is version {history[0].version} at {history[0].created_at}"
            msg = f"dataset {dataset!r} has no version at or before {when}" + (
                first if history else ""
            )
            raise VersionNotFoundError(msg)
        return core.readable(dataset, before[-1])
    if tag is not None:
        if not isinstance(tag, str):
            msg = f"`tag` must be a string, got {tag!r}"
            raise InvalidTypeError(msg)
        return core.readable(dataset, _tag_version(core, dataset, tag))
    if version is not None:
        return core.readable(dataset, version)
    return core.readable(dataset, core.latest(dataset).version)


# ------------------------------------------------------------------ tags
def tag(core: StoreCore, dataset: str, version: int, name: str) -> None:
    """Put tag ``name`` on a version (an event in ``_sensorframe/tags``)."""
    check_text(name, "a tag")
    core.readable(dataset, version)
    row = {"dataset": [dataset], "tag": [name], "version": [version], "at": [now()]}
    core.append_event("tags", pl.DataFrame(row, schema=TAG_SCHEMA))
    check_not_vacuumed(core, dataset, version, f"tag {name!r}")


def check_not_vacuumed(core: StoreCore, dataset: str, version: int, what: str) -> None:
    """
    Raise if a vacuum removed ``version`` while ``what`` was being recorded.

    Vacuum reads the tags and links right before it deletes files; one that
    landed after that read cannot protect the version, so it is refused here,
    after it was written (the vacuum's record of what it removed comes after).
    """
    if version in core.vacuumed(dataset).get_column("version").to_list():
        msg = (
            f"version {version} of dataset {dataset!r} was removed by a vacuum "
            f"running at the same time; {what} does not protect it"
        )
        raise VersionNotFoundError(msg)


def tags(core: StoreCore, dataset: str | None = None) -> pl.DataFrame:
    """Return the current tags: the newest assignment of each (dataset, tag)."""
    names = [check_name(dataset)] if dataset is not None else core.datasets()
    from_commits = [
        {"dataset": v.dataset, "tag": t, "version": v.version, "at": v.created_at, "seq": 0}
        for name in names
        for v in core.history(name)
        for t in v.tags
    ]
    events = [pl.DataFrame(from_commits, schema={**TAG_SCHEMA, "seq": pl.Int8})]
    logged = core.events("tags")
    if logged is not None:
        if dataset is not None:
            logged = logged.filter(pl.col("dataset") == dataset)
        events.append(logged.select(*TAG_SCHEMA).with_columns(seq=pl.lit(1, pl.Int8)))
    return (
        pl.concat(events)
        .sort("at", "seq", maintain_order=True)
        .unique(["dataset", "tag"], keep="last", maintain_order=True)
        .drop("seq")
        .sort("dataset", "tag")
    )


def _tag_version(core: StoreCore, dataset: str, tag: str) -> int:
    current = tags(core, dataset)
    hit = current.filter(pl.col("tag") == tag)
    if hit.height == 0:
        msg = (
            f"dataset {dataset!r} has no tag {tag!r}; "
            f"tags: {preview(current.get_column('tag').to_list())}"
        )
        raise TagNotFoundError(msg)
    return int(hit.item(0, "version"))


# ------------------------------------------------------------------ lineage
def lineage(core: StoreCore, dataset: str, version: int) -> pl.DataFrame:
    """Return the ancestry of a version, one row per parent edge, breadth first."""
    graph = lineage_graph(core, dataset, version)
    rows: list[tuple[str, int, str, int, int]] = []
    depth = {(dataset, version): 0}
    queue = [(dataset, version)]
    while queue:
        node = queue.pop(0)
        for parent in graph.get(node, ()):
            rows.append((*node, *parent, depth[node] + 1))
            if parent not in depth:
                depth[parent] = depth[node] + 1
                queue.append(parent)
    return pl.DataFrame(rows, schema=LINEAGE_SCHEMA, orient="row")


def lineage_graph(
    core: StoreCore, dataset: str, version: int
) -> dict[tuple[str, int], tuple[tuple[str, int], ...]]:
    """Return the ancestry as a mapping ``(dataset, version) -> parents``."""
    core.version(dataset, version)
    cache: dict[str, dict[int, DatasetVersion]] = {}
    graph: dict[tuple[str, int], tuple[tuple[str, int], ...]] = {}
    stack = [(dataset, version)]
    while stack:
        node = stack.pop()
        if node in graph:
            continue
        name, n = node
        if name not in cache:
            try:
                cache[name] = {v.version: v for v in core.history(name)}
            except KeyError:  # DatasetNotFoundError: a parent dataset was deleted
                cache[name] = {}
        found = cache[name].get(n)
        graph[node] = found.parents if found is not None else ()
        stack.extend(graph[node])
    return graph


# ------------------------------------------------------------------ models
def link_model(
    core: StoreCore, dataset: str, version: int, *, model_id: str, model_version: str
) -> None:
    """Record that a model (id and version) was trained or evaluated on a version."""
    check_text(model_id, "`model_id`")
    check_text(model_version, "`model_version`")
    core.readable(dataset, version)
    row = {
        "dataset": [dataset],
        "version": [version],
        "model_id": [model_id],
        "model_version": [model_version],
        "at": [now()],
    }
    core.append_event("model_links", pl.DataFrame(row, schema=LINK_SCHEMA))
    check_not_vacuumed(core, dataset, version, f"the link to model {model_id!r}")


def _links(core: StoreCore) -> pl.DataFrame:
    links = core.events("model_links")
    if links is None:
        links = pl.DataFrame(schema=LINK_SCHEMA)
    return (
        links.select(*LINK_SCHEMA)
        .sort("at")
        .unique(["dataset", "version", "model_id", "model_version"], keep="first")
        .rename({"at": "linked_at"})
    )


def models(core: StoreCore, dataset: str, version: int) -> pl.DataFrame:
    """List the models linked to a version: ``model_id``, ``model_version``, ``linked_at``."""
    core.version(dataset, version)
    return (
        _links(core)
        .filter(pl.col("dataset") == dataset, pl.col("version") == version)
        .select("model_id", "model_version", "linked_at")
        .sort("model_id", "model_version")
    )


def model_datasets(core: StoreCore, model_id: str, model_version: str | None) -> pl.DataFrame:
    """List the dataset versions linked to a model (all its versions unless one is given)."""
    check_text(model_id, "`model_id`")
    if model_version is not None:
        check_text(model_version, "`model_version`")
    links = _links(core).filter(pl.col("model_id") == model_id)
    if model_version is not None:
        links = links.filter(pl.col("model_version") == model_version)
    return links.select("dataset", "version", "model_id", "model_version", "linked_at").sort(
        "dataset", "version", "model_version"
    )


# ------------------------------------------------------------------ reading
def read(
    core: StoreCore,
    dataset: str,
    *,
    version: int | None,
    as_known_at: datetime | None,
    tag: str | None,
) -> pl.LazyFrame:
    """Scan a resolved version, as an IO source whose damage is an ``IntegrityError``."""
    n = resolve(core, dataset, version=version, as_known_at=as_known_at, tag=tag)
    try:
        scan = core.scan(dataset, n)
        schema = scan.collect_schema()
    except SCAN_FAILURES as exc:
        raise core.damage(dataset, exc) from exc

    def source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        query = scan if with_columns is None else scan.select(with_columns)
        query = query if predicate is None else query.filter(predicate)
        query = query if n_rows is None else query.head(n_rows)
        with damaged_as_integrity_error(
            f"a data file of version {n} of dataset {dataset!r}",
            hint="; store.verify() reports which versions are intact",
        ):
            rows = query.collect()
        yield rows

    return register_io_source(source, schema=schema)
