"""The original ``DVCManager``: dataset versions, lineage and model links, on a Delta store."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sensorframe as sf
from sensorframe.compat._common import read_file
from sensorframe.errors import InvalidParameterError, InvalidTypeError

__all__ = ["DVCManager", "DVCVersion", "delta_version", "version_label"]

_LABEL = re.compile(r"^v([1-9]\d*)$")


def version_label(delta: int) -> str:
    """
    Return the original's label of a Delta version: ``"v1"`` is Delta version 0.

    Examples
    --------
    >>> from sensorframe.compat._dvc import version_label
    >>> version_label(0)
    'v1'
    """
    return f"v{delta + 1}"


def delta_version(label: str) -> int:
    """
    Return the Delta version of a label ``"v<N>"`` (N >= 1): N - 1.

    Raises
    ------
    InvalidParameterError
        If `label` is not such a label.

    Examples
    --------
    >>> from sensorframe.compat._dvc import delta_version
    >>> delta_version("v3")
    2
    """
    found = _LABEL.match(label) if isinstance(label, str) else None
    if found is None:
        msg = f"a dataset version is a label 'v1', 'v2', ..., got {label!r}"
        raise InvalidParameterError(msg)
    return int(found.group(1)) - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class DVCVersion:
    """
    One version of a dataset as the original described it, from a Delta commit.

    ``details`` is sensorframe's :class:`sensorframe.DatasetVersion`; ``file_path``
    and ``file_size`` are those of the file that was versioned (empty and 0 for a
    version not made by :meth:`DVCManager.version_dataset`).

    Examples
    --------
    >>> import tempfile
    >>> from sensorframe.compat import DVCManager
    >>> root = tempfile.mkdtemp()
    >>> path = f"{root}/x.npy"
    >>> np.save(path, np.arange(5.0))
    >>> v = DVCManager(repo_root=root).version_dataset(path, dataset_id="S", sensor_ids=["S"])
    >>> v.version, v.num_samples, v.parent_version
    ('v1', 5, None)
    """

    dataset_id: str
    version: str
    data_hash: str
    file_path: str
    file_size: int
    num_samples: int
    sensor_ids: list[str]
    created_at: datetime
    tags: list[str]
    description: str
    parent_version: str | None
    details: sf.DatasetVersion


def _record(v: sf.DatasetVersion, tags: Sequence[str]) -> DVCVersion:
    props = dict(v.properties)
    same = [n for d, n in v.parents if d == v.dataset]
    return DVCVersion(
        dataset_id=v.dataset,
        version=version_label(v.version),
        data_hash=v.data_hash,
        file_path=props.get("file_path", ""),
        file_size=int(props.get("file_size", "0")),
        num_samples=v.rows,
        sensor_ids=list(v.sensors),
        created_at=v.created_at,
        tags=list(tags),
        description=v.description,
        parent_version=version_label(same[0]) if same else None,
        details=v,
    )


class DVCManager:
    """
    The original DVC manager, with a :class:`sensorframe.DatasetStore` in place of DVC.

    Every :meth:`version_dataset` reads the file into a sensor frame and commits it
    as one Delta commit of the dataset ``dataset_id``; the label ``"v<N>"`` is Delta
    version N - 1. There is no separate cache and remote: the Delta tables live at
    ``dvc_remote`` when it is given (a folder or ``s3://...`` URI, with
    ``storage_options``), otherwise in ``<repo_root>/<data_dir>/.sensorframe``, so a
    commit is already "pushed".

    Parameters
    ----------
    repo_root, data_dir
        The repository and its data folder (relative to it).
    dvc_remote
        Where the versions are kept, if not under the data folder.
    storage_options
        Object-store options for an ``s3://`` remote.

    Examples
    --------
    >>> import tempfile
    >>> from sensorframe.compat import DVCManager
    >>> dvc = DVCManager(repo_root=tempfile.mkdtemp(), data_dir="data")
    >>> dvc.initialize_dvc()
    True
    """

    def __init__(
        self,
        repo_root: str | Path = ".",
        data_dir: str | Path = "data",
        dvc_remote: str | None = None,
        storage_options: dict[str, str] | None = None,
    ) -> None:
        self.repo_root = Path(repo_root)
        self.data_dir = self.repo_root / data_dir
        self.dvc_remote = dvc_remote
        root = dvc_remote if dvc_remote is not None else str(self.data_dir / ".sensorframe")
        self.store = sf.DatasetStore(root, storage_options=storage_options)

    def initialize_dvc(self) -> bool:
        """Create the data folder; the store creates its tables on first commit."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return True

    def version_dataset(
        self,
        file_path: str | Path,
        dataset_id: str,
        description: str = "",
        tags: Sequence[str] = (),
        sensor_ids: Sequence[str] | None = None,
        *,
        push_to_remote: bool = True,
        parent_version: str | None = None,
    ) -> DVCVersion:
        """
        Read a ``.npy``, ``.parquet`` or ``.csv`` file and commit it as a new version.

        A ``.npy`` file holds one sensor's values (``sensor_ids`` names it) and gets
        the regular index of :mod:`sensorframe.compat`. The parent is
        `parent_version`, or else the dataset's previous version, so lineage runs back
        through the versions. `push_to_remote` changes nothing: the commit already
        lands where the versions are kept.

        Returns
        -------
        DVCVersion
            The new version; its ``data_hash`` is :func:`sensorframe.content_hash` of
            the file's rows.
        """
        if not isinstance(push_to_remote, bool):
            msg = f"`push_to_remote` must be True or False, got {push_to_remote!r}"
            raise InvalidTypeError(msg)
        frame = read_file(file_path, sensor_ids)
        if parent_version is not None:
            parents = [(dataset_id, delta_version(parent_version))]
        elif dataset_id in self.store.datasets():
            parents = [(dataset_id, self.store.latest(dataset_id).version)]
        else:
            parents = []
        v = self.store.commit(
            dataset_id,
            frame,
            description=description,
            tags=list(tags),
            parents=parents,
            properties={
                "file_path": str(file_path),
                "file_size": str(Path(file_path).stat().st_size),
            },
        )
        return _record(v, tags)

    def get_dataset_version(self, dataset_id: str, version: str | None = None) -> DVCVersion:
        """
        Return the latest version of a dataset, or the one labelled `version` (``"v2"``).

        Raises
        ------
        DatasetNotFoundError, VersionNotFoundError
            If there is no such dataset or version (the original returned None).
        """
        if version is None:
            v = self.store.latest(dataset_id)
        else:
            v = self.store.version(dataset_id, delta_version(version))
        return _record(v, self._tags(dataset_id, v.version))

    def get_dataset_lineage(self, dataset_id: str, version: str) -> list[DVCVersion]:
        """
        Return the version and its ancestors, nearest first (``[v3, v2, v1]``).

        Examples
        --------
        >>> import tempfile
        >>> from sensorframe.compat import DVCManager
        >>> root = tempfile.mkdtemp()
        >>> dvc = DVCManager(repo_root=root)
        >>> for k in range(3):
        ...     np.save(f"{root}/x.npy", np.arange(k + 2.0))
        ...     _ = dvc.version_dataset(f"{root}/x.npy", dataset_id="S", sensor_ids=["S"])
        >>> [v.version for v in dvc.get_dataset_lineage("S", "v3")]
        ['v3', 'v2', 'v1']
        """
        start = self.get_dataset_version(dataset_id, version)
        edges = self.store.lineage(dataset_id, delta_version(version))
        ancestors = [
            self.get_dataset_version(d, version_label(n))
            for d, n in edges.select("parent_dataset", "parent_version").iter_rows()
        ]
        return [start, *ancestors]

    def link_dataset_to_model(
        self, dataset_id: str, dataset_version: str, model_id: str, model_version: str
    ) -> None:
        """
        Record that `model_id` / `model_version` was trained on a dataset version.

        The link also keeps that version from being vacuumed.
        """
        self.store.link_model(
            dataset_id,
            version=delta_version(dataset_version),
            model_id=model_id,
            model_version=model_version,
        )

    def _tags(self, dataset_id: str, delta: int) -> list[str]:
        table = self.store.tags(dataset_id)
        return sorted(table.filter(version=delta)["tag"].to_list())

    def load_dataset(self, dataset_id: str, version: str | None = None) -> Any:
        """Return the rows of a version as a ``pl.LazyFrame`` (the latest one by default)."""
        n = None if version is None else delta_version(version)
        return self.store.read(dataset_id, version=n)
