"""Grid recipes: one base pipeline recipe plus named ``variants:`` that override its keys.

A grid recipe is a pipeline recipe with two more top-level keys::

    variants:                      # a list, so that two variants with one name are an error
      - name: cot-truthful
      - name: answer-truthful
        set: {demos.style: answer}  # dotted keys of the base recipe, values as in the recipe
    reference: cot-truthful         # every variant is also compared with this one

Every variant is validated as a whole recipe (the base with its ``set`` applied) when the grid
loads, through :func:`training.pipeline.recipe.validate` (the trainers' loader included), so a
variant overriding an unknown key or giving a wrong type, two variants with one name, or a
``reference`` that names no variant is one line before any stage runs. What the grid runs
once for all variants (the student, its evaluation, the data) cannot be overridden.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path

from training.errors import RecipeError
from training.pipeline.recipe import PipelineRecipe, read_raw, validate

#: Sections every variant shares: the pulled student, its evaluation and the data run once.
SHARED = ("name", "student", "eval", "data_dir", "demo")
#: Names a variant cannot take: the grid's own directories beside the variants'.
RESERVED = ("models", "annotate", "eval", "leaderboard", "logs", "base")
#: A variant's name is a directory and a leaderboard row.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Grid:
    """A validated grid: the base recipe and one full recipe per variant.

    Attributes:
        base: The recipe without variants (its shared stages run once).
        variants: Variant name -> its recipe, in the file's order.
        reference: The variant every other is compared with, or None.
    """

    base: PipelineRecipe
    variants: dict[str, PipelineRecipe]
    reference: str | None = None

    @property
    def name(self) -> str:
        return self.base.name


def set_key(raw: dict, key: str, value: object) -> None:
    """Set a dotted key of a nested mapping in place.

    >>> raw = {"demos": {"kind": "truthful"}}
    >>> set_key(raw, "demos.kind", "all"); set_key(raw, "sft.num_train_epochs", 2); raw
    {'demos': {'kind': 'all'}, 'sft': {'num_train_epochs': 2}}
    """
    *parents, leaf = key.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise RecipeError(f"{key}: {p} is not a section")
    node[leaf] = value


def variant_entries(raw: object, where: str) -> list[tuple[str, dict]]:
    """``variants:`` as (name, {dotted key: value}) pairs; refuses bad shapes and duplicate names."""
    if not isinstance(raw, list) or not raw:
        raise RecipeError(f"{where}: variants: expected a list of {{name: ..., set: {{...}}}}")
    out: list[tuple[str, dict]] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or set(entry) - {"name", "set"} or not isinstance(entry.get("name"), str):
            raise RecipeError(f"{where}: variants[{i}]: expected {{name: NAME, set: {{KEY: VALUE}}}}")
        name, sets = entry["name"], entry.get("set") or {}
        if not NAME.fullmatch(name) or name in RESERVED:
            raise RecipeError(f"{where}: variants[{i}]: {name!r} is not a usable name (letters, digits, . _ -)")
        if name in (n for n, _ in out):
            raise RecipeError(f"{where}: variants: two variants named {name!r}")
        if not isinstance(sets, dict):
            raise RecipeError(f"{where}: variants.{name}.set: expected a mapping of KEY: VALUE")
        if shared := [k for k in sets if str(k).split(".")[0] in SHARED]:
            raise RecipeError(f"{where}: variants.{name}.set.{shared[0]}: shared by every variant (runs once)")
        out.append((name, sets))
    return out


def build_grid(raw: dict, where: str) -> Grid:
    """Validate a grid's raw mapping (``variants``/``reference`` plus the base recipe's keys)."""
    raw = dict(raw)
    entries = variant_entries(raw.pop("variants", None), where)
    reference = raw.pop("reference", None)
    names = [n for n, _ in entries]
    if reference is not None and reference not in names:
        raise RecipeError(f"{where}: reference {reference!r} is not a variant; variants: {', '.join(names)}")
    base = validate(copy.deepcopy(raw), where)
    variants = {}
    for name, sets in entries:
        variant_raw = copy.deepcopy(raw)
        for key, value in sets.items():
            set_key(variant_raw, str(key), value)
        variants[name] = validate(variant_raw, f"{where}: variants.{name}")
    return Grid(base, variants, reference)


def load(name: str | os.PathLike, overrides: tuple[str, ...] = ()) -> tuple[PipelineRecipe | Grid, Path]:
    """A recipe or a grid recipe (one with ``variants:``), validated, with its path."""
    raw, path = read_raw(name, overrides)
    if "variants" in raw or "reference" in raw:
        return build_grid(raw, str(path)), path
    return validate(raw, str(path)), path
