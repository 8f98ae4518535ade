"""A recipe file as plain data: the YAML mapping with ``key=value`` overrides on top.

Reading a recipe needs only YAML, not trl: the commands check its paths with these values
(:func:`training.distill.model_loading.check_paths`) before trl's slow import, and
:mod:`training.distill.recipes` parses the same values into trl's config classes.
"""

from __future__ import annotations

import typing
from pathlib import Path

from training.yaml_mapping import load_mapping, parse_override


def recipe_values(path: str | Path | None, overrides: typing.Sequence[str] = ()) -> dict[str, typing.Any]:
    """The recipe file's mapping with the ``key=value`` overrides (values read as YAML) applied on top.

    >>> recipe_values(None, ["learning_rate=3e-4", "report_to=[none]"])
    {'learning_rate': '3e-4', 'report_to': ['none']}
    """
    values = load_mapping(path) if path is not None else {}
    values.update(parse_override(text) for text in overrides)
    return values
