"""A recipe file as plain data: the YAML mapping with ``key=value`` overrides on top.

Reading a recipe needs only YAML, not trl: the commands check its paths with these values
(:func:`training.distill.model_loading.check_paths`) before trl's slow import, and
:mod:`training.distill.recipes` parses the same values into trl's config classes.
"""

from __future__ import annotations

import typing
from pathlib import Path

import yaml

from training.errors import UserError


def parse_override(text: str) -> tuple[str, object]:
    """Split a ``key=value`` override; the value is parsed as YAML.

    >>> parse_override("learning_rate=1e-4")
    ('learning_rate', '1e-4')
    >>> parse_override("report_to=[none]")
    ('report_to', ['none'])
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"override {text!r} is not of the form key=value")
    return key.strip(), yaml.safe_load(value) if value.strip() else ""


def recipe_values(path: str | Path | None, overrides: typing.Sequence[str] = ()) -> dict:
    """The recipe file's mapping with the ``key=value`` overrides applied on top."""
    values: dict = {}
    if path is not None:
        if not Path(path).is_file():
            raise UserError(f"recipe not found: {path}")
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise UserError(f"recipe {path}: not valid YAML ({str(e).splitlines()[0]})") from None
        if not isinstance(loaded, dict):
            raise UserError(f"recipe {path}: expected a mapping of key: value")
        values.update(loaded)
    values.update(parse_override(text) for text in overrides)
    return values
