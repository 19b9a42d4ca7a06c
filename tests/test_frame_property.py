"""Generated malformed frames: `scan` raises a SensorFrameError or returns a canonical frame."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import sensorframe as sf
from sensorframe.frame import CANONICAL_SCHEMA

INT64 = st.integers(-(2**63), 2**63 - 1)
odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "inf",
            "-Infinity",
            "1e309",
            "0x1F",
            "1,5",
            "１２",
            "2022-01-02",
            "2022-01-02T03:04:05.123456789+05:45",
            "2022-10-30 02:30",
            "2022-03-27 02:30",
            "1/2/2022 0:00",
            "0000-01-01",
            "9999-12-31T23:59:59-23:59",
            "2022-02-30",
            "\x00",
        ]
    ),
)


@st.composite
def columns(draw: st.DrawFn, n: int) -> pl.Series:
    """One column of `n` rows of any Polars type, with nulls and extreme values."""
    maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
    kind = draw(
        st.sampled_from(
            [
                "str", "i8", "i64", "u64", "i128", "f32", "f64", "bool", "null", "binary",
                "decimal", "date", "datetime", "duration", "time", "list", "struct", "array",
                "categorical", "enum", "object",
            ]
        )
    )  # fmt: skip
    rows = lambda s: draw(st.lists(maybe(s), min_size=n, max_size=n))  # noqa: E731
    if kind == "str":
        return pl.Series(rows(odd_text), dtype=pl.String)
    if kind == "i8":
        return pl.Series(rows(st.integers(-128, 127)), dtype=pl.Int8)
    if kind == "i64":
        return pl.Series(rows(INT64), dtype=pl.Int64)
    if kind == "u64":
        return pl.Series(rows(st.integers(0, 2**64 - 1)), dtype=pl.UInt64)
    if kind == "i128":
        return pl.Series(rows(st.integers(-(2**127), 2**127 - 1)), dtype=pl.Int128)
    if kind == "f32":
        return pl.Series(rows(st.floats(width=32)), dtype=pl.Float32)
    if kind == "f64":
        return pl.Series(rows(st.floats()), dtype=pl.Float64)
    if kind == "bool":
        return pl.Series(rows(st.booleans()), dtype=pl.Boolean)
    if kind == "null":
        return pl.Series([None] * n, dtype=pl.Null)
    if kind == "binary":
        return pl.Series(rows(st.binary(max_size=4)), dtype=pl.Binary)
    if kind == "decimal":
        digits = st.integers(-(10**20), 10**20).map(lambda i: Decimal(i).scaleb(-3))
        return pl.Series(rows(digits), dtype=pl.Decimal(24, 3))
    if kind == "date":
        return pl.Series(rows(st.integers(-(2**31), 2**31 - 1)), dtype=pl.Int32).cast(pl.Date)
    if kind == "datetime":
        unit = draw(st.sampled_from(["ms", "us", "ns"]))
        zone = draw(st.sampled_from([None, "UTC", "Europe/Berlin", "Asia/Kathmandu"]))
        return pl.Series(rows(INT64), dtype=pl.Int64).cast(pl.Datetime(unit, zone))
    if kind == "duration":
        unit = draw(st.sampled_from(["ms", "us", "ns"]))
        return pl.Series(rows(INT64), dtype=pl.Int64).cast(pl.Duration(unit))
    if kind == "time":
        return pl.Series(rows(st.times()), dtype=pl.Time)
    if kind == "list":
        return pl.Series(rows(st.lists(st.integers(-5, 5), max_size=3)), dtype=pl.List(pl.Int64))
    if kind == "struct":
        return pl.Series(rows(st.fixed_dictionaries({"a": st.integers(0, 9)})))
    if kind == "array":
        items = st.lists(st.floats(), min_size=2, max_size=2)
        return pl.Series(
            draw(st.lists(items, min_size=n, max_size=n)), dtype=pl.Array(pl.Float64, 2)
        )
    if kind == "categorical":
        return pl.Series(rows(st.sampled_from(["a", "b", ""])), dtype=pl.Categorical)
    if kind == "enum":
        return pl.Series(rows(st.sampled_from(["a", "b"])), dtype=pl.Enum(["a", "b"]))
    return pl.Series(
        draw(st.lists(st.sampled_from([1, "x", None, date(2022, 1, 1)]), min_size=n, max_size=n)),
        dtype=pl.Object,
    )


def _keys(n: int) -> dict[str, st.SearchStrategy[pl.Series]]:
    """Key columns that are usually right, so the data checks (not only the schema) run."""
    base = datetime(2022, 10, 29)
    good_sensor = st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n).map(
        lambda v: pl.Series(v, dtype=pl.String)
    )
    good_time = st.lists(
        st.integers(0, 3 * 24 * 60).map(lambda m: base + timedelta(minutes=m)),
        min_size=n,
        max_size=n,
    ).map(lambda v: pl.Series(v, dtype=pl.Datetime("us")))
    iso_time = good_time.map(lambda s: s.dt.to_string("%Y-%m-%dT%H:%M:%S"))
    good_value = st.lists(st.one_of(st.none(), st.floats()), min_size=n, max_size=n).map(
        lambda v: pl.Series(v, dtype=pl.Float64)
    )
    return {
        "sensor_id": st.one_of(good_sensor, columns(n)),
        "timestamp": st.one_of(good_time, iso_time, columns(n)),
        "value": st.one_of(good_value, columns(n)),
    }


@st.composite
def malformed_frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(0, 6))
    data = {name: draw(strategy).alias(name) for name, strategy in _keys(n).items()}
    for i in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from([f"extra_{i}", f"__sf_{i}", "sensor", "__sf_key"]))
        data[name] = draw(columns(n)).alias(name)
    frame = pl.DataFrame(list(data.values()))
    dropped = draw(st.sets(st.sampled_from(list(data)), max_size=1))
    return frame.drop(*dropped) if draw(st.integers(0, 9)) == 0 else frame


options = st.fixed_dictionaries(
    {
        "timezone": st.sampled_from([None, "Europe/Berlin", "America/New_York"]),
        "ambiguous": st.sampled_from(["raise", "earliest", "latest"]),
        "time_format": st.sampled_from([None, None, "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M"]),
    }
)


@given(frame=malformed_frames(), opts=options)
def test_scan_raises_a_sensorframe_error_or_returns_a_canonical_frame(
    frame: pl.DataFrame, opts: dict[str, object]
) -> None:
    try:
        out = sf.scan(frame, **opts).collect()  # type: ignore[arg-type]
    except sf.SensorFrameError:
        return
    # Anything else escaping (a raw Polars error, a PanicException) fails the test.
    assert list(out.schema.items())[:3] == list(CANONICAL_SCHEMA.items())
    assert out.height == frame.height
    extras = [c for c in frame.columns if c not in CANONICAL_SCHEMA]
    assert out.columns == [*CANONICAL_SCHEMA, *extras]
    assert not any(c.startswith("__sf_") for c in out.columns)
    for name in extras:
        assert out.schema[name] == frame.schema[name]
    assert out["sensor_id"].null_count() == 0
    assert (out["sensor_id"] != "").all()
    assert out["timestamp"].null_count() == 0
    assert out["value"].is_nan().sum() == 0
    assert out["value"].is_infinite().sum() == 0
    if frame.schema["value"] == pl.Float64:
        finite = frame["value"].is_finite().fill_null(False)
        expected = pl.select(pl.when(finite).then(frame["value"])).to_series()
        assert out["value"].to_list() == expected.to_list()
    years = out["timestamp"].dt.year()
    assert years.is_between(1, 9999).all()
    # The result converts to Python objects (no time beyond datetime's range).
    out.select("sensor_id", "timestamp", "value").rows()


def test_hand_picked_malformed_frames() -> None:
    cases = [
        pl.DataFrame(schema=CANONICAL_SCHEMA),
        pl.DataFrame({"sensor_id": [], "timestamp": [], "value": []}),
        pl.DataFrame({"sensor_id": ["a"], "timestamp": [time(1, 2)], "value": [1.0]}),
        pl.DataFrame(
            {"sensor_id": ["a"], "timestamp": ["2022-01-01"], "value": [Decimal("1e-30")]}
        ),
    ]
    for frame in cases:
        try:
            out = sf.scan(frame).collect()
        except sf.SensorFrameError:
            continue
        assert list(out.schema.items())[:3] == list(CANONICAL_SCHEMA.items())
