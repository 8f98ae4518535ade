"""The model card of a trained adapter: ``aligncot_meta.json`` (machine-readable) and README.md.

Both trainers (``aligncot sft``, ``aligncot self-refine``) describe their adapter with
:func:`meta` -- base model and its fingerprint, precision, steps, processes, version, the full
recipe -- plus what only their stage knows (data, pairs, rounds, metrics); :func:`write` puts
it beside the weights.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from training.distill.model_loading import META_FILE, fingerprint

if typing.TYPE_CHECKING:
    from transformers import PreTrainedModel, Trainer

    from training.distill.model_loading import Precision
    from training.distill.recipes import DPORecipe, SFTRecipe, StudentModel


def meta(
    stage: str,
    recipe: SFTRecipe | DPORecipe,
    model_args: StudentModel,
    base: PreTrainedModel,
    precision: Precision,
    trainer: Trainer,
    details: dict[str, Any],
) -> dict[str, Any]:
    """What was trained from which base, how, on what: the adapter's metadata.

    Args:
        stage: ``sft`` or ``dpo``.
        recipe: The trainer's config, as it trained.
        model_args: Base model, LoRA and quantization.
        base: The loaded base model (its config is fingerprinted: an adapter fits only its architecture).
        precision: How the base was loaded.
        trainer: The trainer, after training.
        details: The stage's own entries (data, its hash and sizes, metrics, ...).
    """
    return {
        "stage": stage,
        "base_model": model_args.base_model,
        "base_fingerprint": fingerprint(base.config),
        **details,
        "precision": precision.reason,
        "train_steps": trainer.state.global_step,
        "world_size": trainer.accelerator.num_processes,
        "aligncot_version": aligncot_version(),
        "recipe": recipe_dict(recipe, model_args),
    }


def recipe_dict(train: SFTRecipe | DPORecipe, model: StudentModel) -> dict[str, Any]:
    """The full configuration as plain data."""
    return {**dataclasses.asdict(model), **train.to_dict()}


def readme(meta: dict[str, Any]) -> str:
    """README.md of an adapter: YAML front matter for the hub, then what produced it.

    >>> print(readme({"base_model": "b", "stage": "sft", "data": "d", "data_sha256": "h",
    ...               "aligncot_version": "0", "recipe": {"lr": 1}}).splitlines()[1])
    base_model: b
    """
    lines = [
        "---",
        f"base_model: {meta['base_model']}",
        "library_name: peft",
        "tags: [aligncot, " + meta["stage"] + ", lora]",
        "---",
        f"# aligncot {meta['stage']} adapter",
        "",
        f"- Base model: `{meta['base_model']}`",
        f"- Stage: {meta['stage']}",
        f"- Data: `{meta['data']}` (sha256 `{meta['data_sha256']}`)",
        f"- aligncot version: {meta['aligncot_version']}",
    ]
    for key in ("precision", "world_size", "train_steps", "pair_stats", "final_metrics", "rounds"):
        if key in meta:
            lines.append(f"- {key.replace('_', ' ').capitalize()}: {meta[key]}")
    lines += [
        "",
        "## Hyper-parameters (recipe)",
        "",
        "```json",
        json.dumps(meta["recipe"], indent=2),
        "```",
        "",
        "Evaluate with:",
        "",
        "```",
        "lm_eval --model hf --model_args pretrained=BASE,peft=THIS_DIR "
        "--include_path $(aligncot tasks --path) --tasks aligncot_zs",
        "```",
        "",
    ]
    return "\n".join(lines)


def write(directory: Path, meta: dict[str, Any]) -> None:
    """Write README.md and the machine-readable ``aligncot_meta.json``."""
    (directory / "README.md").write_text(readme(meta), encoding="utf-8")
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")


def aligncot_version() -> str:
    """The installed aligncot's version."""
    from aligncot_tasks import __version__

    return __version__
