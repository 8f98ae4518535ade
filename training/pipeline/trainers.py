"""A pipeline recipe's ``sft:`` and ``self_refine:`` sections: a published trainer recipe plus overrides.

A section's ``recipe`` key names a trainer recipe (``harness_configs/recipes/<student>/sft.yaml``,
the file ``aligncot sft --recipe`` reads); every other key overrides one of its fields. The
stage runs ``aligncot sft --recipe FILE KEY=VALUE ...``, so the pipeline and the published
recipe are one file and cannot drift. Without ``recipe`` the section gives every field itself.

:func:`check_section` validates a section when the pipeline recipe loads, through the
trainers' own loader (:func:`training.distill.recipes.load_recipe`, ``TrlParser`` into
:class:`~training.distill.recipes.SFTRecipe` / ``DPORecipe``), so an unknown key, a wrong
type or an out-of-range value is one line naming ``sft.<key>`` before any stage runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from training.errors import RecipeError, UserError

#: The key of a section that names the published trainer recipe.
RECIPE_KEY = "recipe"
#: Trainer recipe paths are tried as given (relative to the working directory), then here.
ROOT = Path(__file__).resolve().parents[2]
#: Per section: the trainer's config class (in training.distill.recipes), and the keys each
#: stage sets itself (a section giving one is refused: the stage would silently replace it).
SECTIONS = {
    "sft": ("SFTRecipe", ("base_model", "data", "output_dir")),
    "self_refine": ("DPORecipe", ("base_model", "data", "output_dir", "sft_adapter")),
}


def trainer_file(section: dict) -> Path | None:
    """The published trainer recipe a section names (absolute), or None.

    >>> trainer_file({"recipe": "harness_configs/recipes/smollm2-135m-instruct/sft.yaml"}).is_file()
    True
    """
    name = section.get(RECIPE_KEY)
    if name is None:
        return None
    path = Path(str(name)).expanduser()
    if not path.is_file() and not path.is_absolute() and (ROOT / path).is_file():
        path = ROOT / path
    return path.resolve()


def overrides(section: dict) -> dict:
    """The section's fields besides ``recipe``.

    >>> overrides({"recipe": "x.yaml", "num_train_epochs": 2})
    {'num_train_epochs': 2}
    """
    return {k: v for k, v in section.items() if k != RECIPE_KEY}


def as_args(fields: dict) -> list[str]:
    """``KEY=VALUE`` arguments of a trainer command (values as JSON, which YAML reads back).

    >>> as_args({"report_to": ["none"], "lr_scheduler_type": "cosine", "num_train_epochs": 2})
    ['report_to=["none"]', 'lr_scheduler_type=cosine', 'num_train_epochs=2']
    """
    return [f"{k}={v}" if isinstance(v, str) else f"{k}={json.dumps(v)}" for k, v in fields.items()]


def name_key(section: str, message: str) -> str:
    """Rewrite the trainer loader's message to name the pipeline key (``sft.<key>``).

    >>> name_key("sft", "command line: unknown recipe key 'learnin_rate' for SFTRecipe")
    "unknown key 'sft.learnin_rate' for SFTRecipe"
    >>> name_key("sft", "command line: recipe key 'num_train_epochs': must be >= 0, got -1")
    "key 'sft.num_train_epochs': must be >= 0, got -1"
    >>> name_key("self_refine", "command line: bad value")
    'self_refine: bad value'
    """
    message = message.removeprefix("command line: ")
    named = re.sub(r"(unknown )?recipe key '([\w.-]+)'", lambda m: f"{m[1] or ''}key '{section}.{m[2]}'", message)
    return named if named != message else f"{section}: {message}"


def check_section(name: str, section: dict, where: str) -> None:
    """Validate one section into its trainer's config class, as its stage will.

    Args:
        name: ``sft`` or ``self_refine``.
        section: The section's mapping (``recipe`` and overrides).
        where: The pipeline recipe, for the message.

    Raises:
        RecipeError: One line naming ``<name>.<key>``: a missing recipe file, a key the stage
            sets itself, an unknown key, a wrong type or an out-of-range value.
    """
    from training.distill import recipes  # trl: imported only when a recipe is checked

    cls_name, stage_keys = SECTIONS[name]
    path = trainer_file(section)
    if path is not None and not path.is_file():
        raise RecipeError(f"{where}: {name}.{RECIPE_KEY}: {section[RECIPE_KEY]!r}: no such file")
    fields = overrides(section)
    if taken := [k for k in fields if k in stage_keys]:
        raise RecipeError(f"{where}: {name}.{taken[0]}: set by the pipeline for its stage; remove it")
    # The stage-set keys get placeholders: the check is of the recipe, not of paths that do not exist yet.
    placeholders = {k: f"<{k} set by the stage>" for k in stage_keys}
    try:
        recipes.load_recipe(getattr(recipes, cls_name), None, as_args({**file_values(path), **fields, **placeholders}))
    except UserError as e:
        key = re.search(r"recipe key '([\w.-]+)'", str(e))
        in_file = key is not None and key[1] not in fields and key[1] in file_values(path)
        origin = f" (in {path})" if in_file else ""
        raise RecipeError(f"{where}: {name_key(name, str(e))}{origin}") from None


def file_values(path: Path | None) -> dict:
    """The published recipe's mapping ({} without one), read by the trainers' own reader."""
    from training.distill.recipe_file import recipe_values

    return recipe_values(path) if path is not None else {}
