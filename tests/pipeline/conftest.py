"""The loopback S3 server of the store tests, for the pipeline's kill test on S3."""

from __future__ import annotations

from tests.store.conftest import s3_endpoint

__all__ = ["s3_endpoint"]
