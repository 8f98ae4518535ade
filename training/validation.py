"""The one validation mechanism for configs: pydantic dataclasses with ``extra="forbid"``.

Config classes are declared ``@dataclass(frozen=True, config=STRICT)`` (unknown keys refused, booleans
must be YAML booleans) and typed fields with bounds; :func:`build` turns a mapping into one
and reports the first problem in one line, naming the key, so a bad config fails before any
stage or model runs.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import ConfigDict, ValidationError

from training.errors import UserError

#: Config of every validated config dataclass.
STRICT = ConfigDict(extra="forbid")


#: Names pydantic puts in an error's location for the member of a union that failed.
UNION_MEMBERS = frozenset({"int", "float", "str", "bool", "none", "list", "dict", "tuple"})


def _path(loc: tuple) -> str:
    """``('models', 0, 'name')`` -> ``models[0].name``, without union-member tags.

    >>> _path(("models", 0, "name"))
    'models[0].name'
    >>> _path(("limit", "constrained-int"))
    'limit'
    """
    out = ""
    for part in loc:
        if isinstance(part, str) and (not part.isidentifier() or part in UNION_MEMBERS):
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _known(cls: Any, loc: tuple) -> list[str]:
    """Field names of the (nested) config class that ``loc`` points into."""
    for part in loc:
        if isinstance(part, int) or not dataclasses.is_dataclass(cls):
            continue
        hint = typing.get_type_hints(cls).get(part)
        inner = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        cls = inner[0] if inner else hint
    return sorted(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else []


def one_line(error: ValidationError, cls: type, where: str) -> str:
    """The first problem of a pydantic ``ValidationError``, as one line naming the key."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    if first["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        parent = f"{_path(loc[:-1])}: " if loc[:-1] else ""
        known = ", ".join(_known(cls, loc[:-1]))
        return f"{where}: {parent}unknown key {loc[-1]!r} (known: {known})"
    if first["type"] in ("missing_argument", "missing"):
        return f"{where}: {_path(loc)}: required key missing"
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {_path(loc)}: {message}, got {first.get('input')!r}"


T = typing.TypeVar("T")


def build(cls: type[T], raw: Any, where: str, error: type[UserError] = UserError) -> T:
    """Validate mapping ``raw`` into config class ``cls``.

    Raises:
        UserError: (as ``error``) ``raw`` is not a mapping, or a key is unknown, missing or
            of the wrong type or range; the message names it.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise error(f"{where}: expected a mapping, got {type(raw).__name__}")
    try:
        return cls(**raw)
    except ValidationError as e:
        raise error(one_line(e, cls, where)) from None
