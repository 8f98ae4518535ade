"""User-given settings: a YAML file holding a mapping, and ``KEY=VALUE`` overrides on top.

Every config aligncot reads from a file (pipeline recipes, trainer recipes, eval configs) is
read by :func:`load_mapping`, and every ``KEY=VALUE`` given on a command line is split by
:func:`split_pair` (its value read as YAML by :func:`parse_override`), so a bad file or a bad
pair is reported the same way everywhere: one :class:`~training.errors.UserError` line (of the
caller's subclass) that starts with the file or the option.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from training.errors import UserError


def load_mapping(path: str | os.PathLike[str], error: type[UserError] = UserError) -> dict[str, Any]:
    """The mapping in YAML file ``path`` (an empty file is an empty mapping).

    Args:
        path: The file.
        error: The :class:`UserError` subclass to raise (the caller's own).

    Raises:
        UserError: (as ``error``) No such file, not valid YAML, or not a mapping at the top level.

    >>> import tempfile; f = Path(tempfile.mkdtemp()) / "r.yaml"; _ = f.write_text("- a")
    >>> try:
    ...     load_mapping(f)
    ... except UserError as e:
    ...     print(str(e).removeprefix(str(f)))
    : expected a mapping at the top level, got a list
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise error(f"{path}: not valid YAML ({_first_line(e)})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise error(f"{path}: expected a mapping at the top level, got a {type(loaded).__name__}")
    return loaded


def split_pair(text: str, option: str, form: str = "KEY=VALUE", error: type[UserError] = UserError) -> tuple[str, str]:
    """``KEY=VALUE`` -> the key (stripped) and the value as written (split at the first ``=``).

    Args:
        text: What the user gave.
        option: The option or place it came from, first in the message (``--set``).
        form: How the message spells the expected form (``OLD=NEW``).
        error: The :class:`UserError` subclass to raise.

    >>> split_pair("a=b=c", "--rename", "OLD=NEW")
    ('a', 'b=c')
    >>> split_pair("learning_rate", "override")
    Traceback (most recent call last):
    training.errors.UserError: override 'learning_rate': expected KEY=VALUE
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise error(f"{option} {text!r}: expected {form}")
    return key.strip(), value


def parse_override(text: str, option: str = "override", error: type[UserError] = UserError) -> tuple[str, Any]:
    """A ``KEY=VALUE`` override whose value is read as YAML (``VALUE`` empty: None, as in a file).

    >>> parse_override("report_to=[none]"), parse_override("learning_rate=1e-4"), parse_override("limit=")
    (('report_to', ['none']), ('learning_rate', '1e-4'), ('limit', None))
    """
    key, value = split_pair(text, option, error=error)
    try:
        return key, yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise error(f"{option} {text!r}: value not valid YAML ({_first_line(e)})") from None


def _first_line(e: yaml.YAMLError) -> str:
    return str(e).splitlines()[0]
