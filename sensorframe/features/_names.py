"""Names users pass to the features: one name or a sequence of names, each once."""

from __future__ import annotations

from collections.abc import Iterable

from sensorframe._utils import preview
from sensorframe.errors import InvalidParameterError, InvalidTypeError

__all__ = ["unique_names"]


def unique_names(param: str, value: object, *, what: str) -> list[str]:
    """
    Return `value`, one name or an iterable of names, as a list; refuse a name given twice.

    `param` is the parameter's name and `what` the kind of name, for messages.

    Examples
    --------
    >>> from sensorframe.features._names import unique_names
    >>> unique_names("select", "lag_1", what="column")
    ['lag_1']
    >>> unique_names("select", ["lag_1", "lag_1"], what="column")
    Traceback (most recent call last):
    ...
    sensorframe.errors.InvalidParameterError: `select` names ['lag_1'] twice or more; ...
    """
    names = (
        [value] if isinstance(value, str) else list(value) if isinstance(value, Iterable) else None
    )
    if names is None or not all(isinstance(name, str) for name in names):
        msg = f"`{param}` must hold {what} names (str), got {value!r}"
        raise InvalidTypeError(msg)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        msg = f"`{param}` names {preview(twice)} twice or more; name each {what} once"
        raise InvalidParameterError(msg)
    return names
