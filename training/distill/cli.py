"""``aligncot demos``, ``aligncot sft`` and ``aligncot self-refine``: the distillation commands.

``demos`` builds the training set (:mod:`training.distill.demos`). The trainers' commands both read a recipe the same way (``--recipe FILE``, then ``KEY=VALUE`` / ``--set KEY=VALUE``
overrides), check its paths from the YAML alone -- a wrong one is reported before trl's slow
import -- and then train with :func:`training.distill.sft.main` or
:func:`training.distill.self_refine.main`, imported only when the command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from training.cli import Command, check_output_dir
from training.data_split import read_keys
from training.distill import demos, model_loading, recipe_file

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


@click.command("demos", cls=Command)
@click.argument("dirs", nargs=-1, required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output directory.")
@click.option(
    "--kind",
    type=click.Choice(demos.KINDS),
    default="truthful",
    show_default=True,
    help="All answers, only correct ones, or only incorrect ones.",
)
@click.option(
    "--style",
    type=click.Choice(demos.STYLES),
    default="cot",
    show_default=True,
    help="Rationale + answer, or the answer alone (vanilla fine-tuning).",
)
@click.option(
    "--balance",
    type=click.IntRange(min=0),
    help=f"Class-balanced sample of N rows (default {demos.MC_BALANCE} for multiple choice; 0: all).",
)
@click.option(
    "--fraction",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    show_default=True,
    help="Keep this fraction of the training rows (0.25/0.5/0.75: nested subsets).",
)
@click.option(
    "--val-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.05,
    show_default=True,
    help="Share of the dataset's questions held out for validation (of the sampled rows' questions with --balance).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--drop-contaminated",
    is_flag=True,
    help="Leave out questions found in the evaluation split (and count them) instead of refusing.",
)
@click.option(
    "--exclude-questions",
    "exclude_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Leave out, before sampling, the questions whose keys this file lists (repeatable): "
    "`aligncot data tuning-split`'s tuning_questions.txt, or another demos run's questions.txt.",
)
def demos_command(
    dirs: tuple[Path, ...],
    out: Path,
    kind: demos.Kind,
    style: demos.Style,
    balance: int | None,
    fraction: float,
    val_fraction: float,
    seed: int,
    drop_contaminated: bool,
    exclude_files: tuple[Path, ...],
) -> None:
    """Build the students' training set from annotation directories DIRS.

    Refuses when a demonstration's question (normalised, with its options) is in its
    task's evaluation split.
    """
    check_output_dir(out, "--out")
    exclude: set[str] = set().union(*(read_keys(f) for f in exclude_files))
    train, validation, stats = demos.build(
        list(dirs), kind, style, balance, fraction, val_fraction, seed, drop_contaminated, exclude
    )
    manifest = {
        "sources": [str(d) for d in dirs],
        "exclude_questions": [str(f) for f in exclude_files],
        "kind": kind,
        "style": style,
        "fraction": fraction,
        "val_fraction": val_fraction,
        "seed": seed,
        **stats,
    }
    demos.save(out, train, validation, manifest)
    excluded = f"; excluded {stats['excluded']} annotations of listed questions" if exclude_files else ""
    click.echo(
        f"{out}: train {len(train)}, validation {len(validation)} ({kind}/{style}); "
        f"labels {stats['train_labels']}{excluded}"
    )
    labels = stats["train_labels"]
    if stats["balance"] and len(labels) > 1 and max(labels.values()) - min(labels.values()) > 1:
        # --balance deals the letters round-robin; once one runs out the rest continue unevenly.
        short = min(labels, key=labels.get)
        click.echo(
            f"warning: --balance {stats['balance']}: only {labels[short]} rows answer {short}, "
            f"so the training rows are not class-balanced: {labels}",
            err=True,
        )
