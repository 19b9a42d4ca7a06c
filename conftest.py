"""Doctest namespace: docstring examples may use `pl`, `np` and `sf` (as polars injects `pl`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

import sensorframe as sf


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace.update(pl=pl, np=np, sf=sf)
    pl.Config.set_tbl_width_chars(120)
