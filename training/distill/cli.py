"""``aligncot sft`` and ``aligncot self-refine``: the trainers' commands.

Both read a recipe the same way (``--recipe FILE``, then ``KEY=VALUE`` / ``--set KEY=VALUE``
overrides), check its paths from the YAML alone -- a wrong one is reported before trl's slow
import -- and then train with :func:`training.distill.sft.main` or
:func:`training.distill.self_refine.main`, imported only when the command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from training.cli import Command
from training.distill import model_loading, recipe_file

F = TypeVar("F", bound=Callable[..., Any])


def train_and_report(
    train: Callable[..., Path | None], recipe_class: str, recipe: Path | None, overrides: list[str], resume: bool
) -> None:
    """The body of a recipe command: load ``recipes.<recipe_class>``, train with ``train``, name the adapter."""
    where = str(recipe) if recipe is not None else "command line"
    model_loading.check_paths(recipe_file.recipe_values(recipe, overrides), where, recipe_class == "DPORecipe")
    model_loading.silence_offline_kernel_hub()
    from training.distill import recipes

    out = train(*recipes.load_recipe(getattr(recipes, recipe_class), recipe, overrides), resume=resume)
    if out is not None:
        click.echo(f"adapter written to {out}")


def recipe_command(help_text: str) -> Callable[[F], click.Command]:
    """Decorate a click command with ``--recipe``, ``--set``, positional ``KEY=VALUE`` overrides and ``--resume``."""

    def decorate(fn: F) -> click.Command:
        fn = click.option("--resume", is_flag=True, help="Continue from the last checkpoint in <output_dir>.run.")(fn)
        fn = click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")(fn)
        fn = click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a recipe field (repeatable); same as a positional KEY=VALUE.",
        )(fn)
        fn = click.option(
            "--recipe",
            type=click.Path(path_type=Path),
            default=None,
            help="YAML recipe (harness_configs/recipes/...); omit to give every field as KEY=VALUE.",
        )(fn)
        return click.command(cls=Command, help=help_text)(fn)

    return decorate


@recipe_command(
    "QLoRA instruction-tuning of a student on demonstrations (`aligncot demos` output).\n\n"
    "Loss on the completion only, packed padding-free batches, validation loss each epoch; the adapter, "
    "tokenizer and model card appear in output_dir only when training ends.\n\n"
    "Example: aligncot sft --recipe harness_configs/recipes/llama-2-7b-chat/sft.yaml "
    "data=out/demos output_dir=out/sft"
)
def sft_command(recipe: Path | None, sets: tuple[str, ...], overrides: tuple[str, ...], resume: bool) -> None:
    from training.distill import sft

    train_and_report(sft.main, "SFTRecipe", recipe, [*overrides, *sets], resume)


@recipe_command(
    "Self-refine: DPO of the SFT student on preference pairs of its own answers, in rounds.\n\n"
    "pairs=cot_vs_direct (default): its CoT answer preferred to its plain one (kept only when the CoT answer "
    "is correct, by default); pairs=correct_vs_incorrect: a correct over an incorrect sampled CoT answer. "
    "Pairs go to <output_dir>.pairs (<output_dir>.rounds/round-<i>/ with rounds > 1); DPO continues the "
    "SFT adapter and the best validation-loss checkpoint is published as one adapter.\n\n"
    "Example: aligncot self-refine --recipe harness_configs/recipes/llama-2-7b-chat/dpo.yaml "
    "sft_adapter=out/sft data=out/demos output_dir=out/dpo"
)
def self_refine_command(recipe: Path | None, sets: tuple[str, ...], overrides: tuple[str, ...], resume: bool) -> None:
    from training.distill import self_refine

    train_and_report(self_refine.main, "DPORecipe", recipe, [*overrides, *sets], resume)
