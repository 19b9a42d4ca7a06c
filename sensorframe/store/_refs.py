"""Tags, lineage and model links of the dataset store (derived from append-only events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from sensorframe._utils import preview
from sensorframe.errors import TagNotFoundError, VersionNotFoundError
from sensorframe.store._model import DatasetVersion, check_name, check_text

__all__ = ["RefsMixin"]

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


class RefsMixin:
    """Tag, lineage and model-link methods of :class:`DatasetStore`."""

    if TYPE_CHECKING:

        def _history(self, dataset: str) -> list[DatasetVersion]: ...
        def _events(self, name: str) -> pl.DataFrame | None: ...
        def _append_event(self, name: str, rows: pl.DataFrame) -> int: ...
        def datasets(self) -> list[str]: ...
        def version(self, dataset: str, n: int) -> DatasetVersion: ...
        def resolve(self, dataset: str, *, version: int | None = None) -> int: ...
        def _vacuumed(self, dataset: str) -> pl.DataFrame: ...

    # ------------------------------------------------------------------ tags
    def tag(self, dataset: str, version: int, name: str) -> None:
        """
        Put tag ``name`` on a version (moving it if another version had it).

        Tags are events in ``_sensorframe/tags``; the newest assignment of a tag
        wins, whether it came from :meth:`tag` or from ``commit(tags=...)``. A tag
        protects its version from :meth:`vacuum`.

        Raises
        ------
        InvalidTypeError
            If ``version`` is not an int.
        InvalidParameterError
            If ``name`` is not a non-empty string.
        VersionNotFoundError
            If the version does not exist or was removed by vacuum, also by a vacuum
            that recorded it as removed while this tag was being placed.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df, tags=["stable"])
        >>> _ = store.commit("raw", df, mode="append")
        >>> store.tag("raw", 1, "stable")
        >>> store.tags("raw").select("tag", "version").rows()
        [('stable', 1)]
        """
        check_text(name, "a tag")
        self.resolve(dataset, version=version)
        row = {"dataset": [dataset], "tag": [name], "version": [version], "at": [_now()]}
        self._append_event("tags", pl.DataFrame(row, schema=TAG_SCHEMA))
        self._check_not_vacuumed(dataset, version, f"tag {name!r}")

    def _check_not_vacuumed(self, dataset: str, version: int, what: str) -> None:
        """
        Raise if a vacuum removed ``version`` while ``what`` was being recorded.

        Vacuum reads the tags and links right before it deletes files; one that
        landed after that read cannot protect the version, so it is refused here,
        after it was written (the vacuum's record of what it removed comes after).
        """
        if version in self._vacuumed(dataset).get_column("version").to_list():
            msg = (
                f"version {version} of dataset {dataset!r} was removed by a vacuum "
                f"running at the same time; {what} does not protect it"
            )
            raise VersionNotFoundError(msg)

    def tags(self, dataset: str | None = None) -> pl.DataFrame:
        """
        List the current tags: one row per (dataset, tag) with the version it points to.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("raw", df, tags=["raw", "first"])
        >>> store.tags().select("dataset", "tag", "version").rows()
        [('raw', 'first', 0), ('raw', 'raw', 0)]
        """
        names = [check_name(dataset)] if dataset is not None else self.datasets()
        from_commits = [
            {"dataset": v.dataset, "tag": t, "version": v.version, "at": v.created_at, "seq": 0}
            for name in names
            for v in self._history(name)
            for t in v.tags
        ]
        events = [pl.DataFrame(from_commits, schema={**TAG_SCHEMA, "seq": pl.Int8})]
        logged = self._events("tags")
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

    def _tag_version(self, dataset: str, tag: str) -> int:
        current = self.tags(dataset)
        hit = current.filter(pl.col("tag") == tag)
        if hit.height == 0:
            msg = (
                f"dataset {dataset!r} has no tag {tag!r}; "
                f"tags: {preview(current.get_column('tag').to_list())}"
            )
            raise TagNotFoundError(msg)
        return int(hit.item(0, "version"))

    # ------------------------------------------------------------------ lineage
    def lineage(self, dataset: str, version: int) -> pl.DataFrame:
        """
        Return the full ancestry of a version across datasets, one row per parent edge.

        Returns
        -------
        DataFrame
            ``dataset``, ``version`` (the child), ``parent_dataset``,
            ``parent_version`` and ``depth`` (1 for direct parents), breadth first.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> raw = store.commit("raw", df)
        >>> clean = store.commit("clean", df, parents=[raw])
        >>> feats = store.commit("features", df, parents=[clean])
        >>> store.lineage("features", 0).rows()
        [('features', 0, 'clean', 0, 1), ('clean', 0, 'raw', 0, 2)]
        """
        graph = self.lineage_graph(dataset, version)
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
        self, dataset: str, version: int
    ) -> dict[tuple[str, int], tuple[tuple[str, int], ...]]:
        """
        Return the ancestry as a mapping ``(dataset, version) -> parents``.

        Parents whose dataset was deleted appear as keys with no parents.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> raw = store.commit("raw", df)
        >>> store.lineage_graph("clean", store.commit("clean", df, parents=[raw]).version)
        {('clean', 0): (('raw', 0),), ('raw', 0): ()}
        """
        self.version(dataset, version)
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
                    cache[name] = {v.version: v for v in self._history(name)}
                except KeyError:  # DatasetNotFoundError: a parent dataset was deleted
                    cache[name] = {}
            found = cache[name].get(n)
            graph[node] = found.parents if found is not None else ()
            stack.extend(graph[node])
        return graph

    # ------------------------------------------------------------------ models
    def link_model(self, dataset: str, version: int, model_id: str, model_version: str) -> None:
        """
        Record that a model (id and version) was trained or evaluated on a version.

        A link protects its version from :meth:`vacuum`.

        Raises
        ------
        InvalidTypeError
            If ``version`` is not an int.
        InvalidParameterError
            If ``model_id`` or ``model_version`` is not a non-empty string.
        VersionNotFoundError
            If the version does not exist or was removed by vacuum.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("train", df)
        >>> store.link_model("train", 0, "telemanom_P-1", "1.2")
        >>> store.models("train", 0).select("model_id", "model_version").rows()
        [('telemanom_P-1', '1.2')]
        """
        check_text(model_id, "`model_id`")
        check_text(model_version, "`model_version`")
        self.resolve(dataset, version=version)
        row = {
            "dataset": [dataset],
            "version": [version],
            "model_id": [model_id],
            "model_version": [model_version],
            "at": [_now()],
        }
        self._append_event("model_links", pl.DataFrame(row, schema=LINK_SCHEMA))
        self._check_not_vacuumed(dataset, version, f"the link to model {model_id!r}")

    def _links(self) -> pl.DataFrame:
        links = self._events("model_links")
        if links is None:
            links = pl.DataFrame(schema=LINK_SCHEMA)
        return (
            links.select(*LINK_SCHEMA)
            .sort("at")
            .unique(["dataset", "version", "model_id", "model_version"], keep="first")
            .rename({"at": "linked_at"})
        )

    def models(self, dataset: str, version: int) -> pl.DataFrame:
        """
        List the models linked to a version: ``model_id``, ``model_version``, ``linked_at``.

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("train", df)
        >>> store.models("train", 0).height
        0
        """
        self.version(dataset, version)
        return (
            self._links()
            .filter(pl.col("dataset") == dataset, pl.col("version") == version)
            .select("model_id", "model_version", "linked_at")
            .sort("model_id", "model_version")
        )

    def model_datasets(self, model_id: str, model_version: str | None = None) -> pl.DataFrame:
        """
        List the dataset versions linked to a model (all its versions unless one is given).

        Examples
        --------
        >>> import tempfile
        >>> store = sf.store.DatasetStore(tempfile.mkdtemp())
        >>> df = pl.DataFrame({"sensor_id": ["a"], "timestamp": ["2026-01-01"], "value": [1.0]})
        >>> _ = store.commit("train", df)
        >>> store.link_model("train", 0, "m", "1")
        >>> store.model_datasets("m").select("dataset", "version", "model_version").rows()
        [('train', 0, '1')]
        """
        check_text(model_id, "`model_id`")
        if model_version is not None:
            check_text(model_version, "`model_version`")
        links = self._links().filter(pl.col("model_id") == model_id)
        if model_version is not None:
            links = links.filter(pl.col("model_version") == model_version)
        return links.select("dataset", "version", "model_id", "model_version", "linked_at").sort(
            "dataset", "version", "model_version"
        )


def _now() -> datetime:
    return datetime.now(UTC)
