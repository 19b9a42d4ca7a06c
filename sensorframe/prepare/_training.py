"""Everything at once: hash, quality report, split and normalization."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from sensorframe._typing import NormalizeMethod
from sensorframe._utils import checked_config
from sensorframe.errors import InvalidTypeError
from sensorframe.frame import require_rows, scan
from sensorframe.prepare._hash import hash_and_sort
from sensorframe.prepare._normalizer import Normalizer, _scale
from sensorframe.prepare._split import _DEFAULT_RATIOS, _PART, _check_ratios, _rank_labels
from sensorframe.quality.config import QualityConfig

if TYPE_CHECKING:
    from sensorframe.quality import QualityReport
    from sensorframe.store import DatasetVersion

__all__ = ["TrainingData", "prepare_training_data"]


# -- the whole preparation -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingData:
    """
    Model-ready data: normalized train / validation / test frames and their provenance.

    Attributes
    ----------
    train, val, test
        Normalized frames, sorted by ``sensor_id`` and ``timestamp`` (rows that tie
        on both in the canonical order of :func:`content_hash`).
    normalizer
        The :class:`Normalizer`, fitted on ``train`` only.
    quality
        The quality report of the whole input, or None when not assessed.
    data_hash
        :func:`content_hash` of the input.
    version
        The ``"training"`` dataset version holding the three frames, when
        :meth:`Pipeline.prepare_training_data <sensorframe.Pipeline.prepare_training_data>`
        committed them; ``None`` from :func:`prepare_training_data`.

    Notes
    -----
    .. versionchanged:: 0.2
        ``Pipeline.prepare_training_data`` returns a ``TrainingData`` (with ``version``)
        where it returned a tuple ``(data, version)``; unpacking it as that tuple
        still works, with a ``DeprecationWarning``.
    """

    train: pl.DataFrame
    val: pl.DataFrame
    test: pl.DataFrame
    normalizer: Normalizer
    quality: QualityReport | None
    data_hash: str
    version: DatasetVersion | None = None

    def __iter__(self) -> Iterator[Any]:
        """Unpack as the old ``(data, version)`` tuple, with a ``DeprecationWarning``."""
        msg = (
            "unpacking TrainingData as (data, version) is deprecated: "
            "Pipeline.prepare_training_data returns the TrainingData; use `.version`"
        )
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return iter((self, self.version))


def prepare_training_data(
    frame: Any,
    ratios: Sequence[float] = _DEFAULT_RATIOS,
    *,
    normalize: NormalizeMethod = "zscore",
    assess_quality: bool = True,
    quality_config: QualityConfig | None = None,
) -> TrainingData:
    """
    Split, normalize and fingerprint a frame for training, in one call.

    Eager: the frame is read once (collected), hashed (:func:`content_hash`), optionally assessed
    (:func:`sensorframe.quality.assess_quality`), split chronologically per sensor
    (:func:`split`, so every sensor with rows has training rows), and normalized with a
    :class:`Normalizer` fitted on the training part only.

    Parameters
    ----------
    frame
        Any input :func:`sensorframe.scan` accepts.
    ratios
        Train, validation and test fractions, as in :func:`split`.
    normalize : {'zscore', 'minmax', 'robust', 'none'}
        The normalization method.
    assess_quality
        Whether to compute a quality report of the whole input.
    quality_config
        Thresholds for the quality report; the defaults when None.

    Returns
    -------
    TrainingData
        Eager ``pl.DataFrame`` parts; ``version`` is ``None`` (nothing is committed).

    Raises
    ------
    EmptyFrameError
        If the frame has no rows.
    InvalidParameterError
        If the ratios or the method are invalid.
    InvalidTypeError
        If `assess_quality` is not a bool or `quality_config` not a ``QualityConfig``.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {"sensor_id": ["a"] * 5, "timestamp": [f"2026-01-0{d}" for d in range(1, 6)]}
    ... ).with_columns(value=pl.Series([1.0, 3.0, 5.0, 7.0, 9.0]))
    >>> data = sf.prepare.prepare_training_data(df, (0.6, 0.2, 0.2), assess_quality=False)
    >>> data.train["value"].to_list(), data.test["value"].to_list()
    ([-1.224744871391589, 0.0, 1.224744871391589], [3.6742346141747673])
    """
    parts_ratios = _check_ratios(ratios)
    normalizer = Normalizer(normalize)
    normalizer._check_options()
    if not isinstance(assess_quality, bool):
        msg = f"`assess_quality` must be True or False, got {assess_quality!r}"
        raise InvalidTypeError(msg)
    quality_config = checked_config(quality_config, QualityConfig)
    df = require_rows(scan(frame).collect(), "preparing training data")
    data_hash, ordered = hash_and_sort(df)
    report = None
    if assess_quality:
        from sensorframe.quality import assess_quality as _assess_quality

        report = _assess_quality(df, quality_config)  # input order: it checks ordering
    labelled = ordered.with_columns(_rank_labels(parts_ratios))
    parts = [labelled.filter(pl.col(_PART) == k).drop(_PART) for k in range(3)]
    normalizer.fit(parts[0])
    params = normalizer.params_
    train, val, test = pl.collect_all([_scale(p.lazy(), params, inverse=False) for p in parts])
    return TrainingData(
        train=train,
        val=val,
        test=test,
        normalizer=normalizer,
        quality=report,
        data_hash=data_hash,
    )
