"""One local[2] SparkSession for every Spark test (starting one costs about 15 s here)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import warnings
from collections.abc import Iterator

import pytest

_MISSING = [
    what
    for what, ok in (
        ("pyspark", importlib.util.find_spec("pyspark") is not None),
        ("java", shutil.which("java") is not None),
    )
    if not ok
]
if _MISSING and not os.environ.get("CI"):
    pytest.skip(
        f"the Spark tests need {' and '.join(_MISSING)} (pip install 'sensorframe[spark]', "
        "a Java runtime); CI has both and fails instead of skipping",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from sensorframe.spark import local_session

    # pyspark 4 warns that it does not fully support pandas 3 (a FutureWarning per UDF)
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    session = local_session("local[2]", conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()
