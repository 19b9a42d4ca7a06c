"""
Training-data preparation: chronological splits, per-sensor normalization, content hash.

* :func:`split` cuts every sensor's readings in time order into train / validation /
  test parts, by ratios or at explicit timestamps.
* :class:`Normalizer` learns per-sensor scaling parameters (z-score, min-max, robust)
  in one query and applies them as a lazy join; it saves and loads readable JSON.
* :func:`content_hash` is a SHA-256 of a frame's content that does not depend on row
  order or chunking. :func:`canonical_hash` (of a frame already validated),
  :func:`canonical_type` and :func:`as_type` (the types it hashes in) are exposed for
  the dataset store, which stores frames in exactly those types. The hash combines
  per-sensor digests (:func:`sensor_digests`, :func:`combine_digests`; scheme
  :data:`HASH_SCHEME`), so batches of whole sensors and Spark partitions hash apart
  and combine to the hash of the whole.
* :func:`prepare_training_data` does all of it (plus a quality report) in one call.

The exact definitions are in ``docs/definitions.md`` ("Training-data preparation").
"""

from sensorframe.prepare._hash import (
    DIGEST_SCHEMA,
    HASH_SCHEME,
    as_type,
    canonical_hash,
    canonical_type,
    canonical_types,
    combine_digests,
    content_hash,
    sensor_digests,
)
from sensorframe.prepare._normalizer import Normalizer, UnknownPolicy
from sensorframe.prepare._split import Split, TimeLike, split
from sensorframe.prepare._training import TrainingData, prepare_training_data

__all__ = [
    "DIGEST_SCHEMA",
    "HASH_SCHEME",
    "Normalizer",
    "Split",
    "TimeLike",
    "TrainingData",
    "UnknownPolicy",
    "as_type",
    "canonical_hash",
    "canonical_type",
    "canonical_types",
    "combine_digests",
    "content_hash",
    "prepare_training_data",
    "sensor_digests",
    "split",
]
