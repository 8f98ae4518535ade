"""``aligncot sft``: (Q)LoRA instruction-tuning of a student on CoT demonstrations.

Recipe -> :class:`training.distill.recipes.SFTRecipe` -> :func:`main`: trl ``SFTTrainer`` on
prompt/completion rows, loss on the completion only, packed padding-free batches (no pad
token is processed and attention stops at example boundaries), validation loss each
epoch, checkpoints in ``<output_dir>.run`` (``--resume`` continues from the last one),
and the adapter + tokenizer + model card published atomically at the end.

Runs under ``accelerate launch`` unchanged (see the README, "Scale: accelerate launch").
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from training.cli import Command
from training.distill import artifacts, model_loading, train_data
from training.distill.recipes import SFTRecipe, TrainRecipe, load_recipe, to_dict

log = logging.getLogger("aligncot.sft")


def warmup(recipe: TrainRecipe) -> float:
    """Trainer ``warmup_steps``: the step count if given, else the ratio (transformers reads <1 as a ratio).

    >>> from training.distill.recipes import SFTRecipe
    >>> warmup(SFTRecipe(base_model="b", data="d", output_dir="o"))
    0.03
    """
    return recipe.warmup_steps if recipe.warmup_steps > 0 else recipe.warmup_ratio


def trainer_arguments(recipe: TrainRecipe, precision: model_loading.Precision) -> dict:
    """Keyword arguments shared by ``SFTConfig`` and ``DPOConfig``."""
    return {
        "output_dir": str(recipe.run_dir),
        "num_train_epochs": recipe.num_train_epochs,
        "max_steps": recipe.max_steps,
        "learning_rate": recipe.learning_rate,
        "weight_decay": recipe.weight_decay,
        "lr_scheduler_type": recipe.lr_scheduler_type,
        "warmup_steps": warmup(recipe),
        "per_device_train_batch_size": recipe.per_device_train_batch_size,
        "per_device_eval_batch_size": recipe.per_device_eval_batch_size,
        "gradient_accumulation_steps": recipe.gradient_accumulation_steps,
        # transformers 5 renamed it; the recipe key keeps the familiar name.
        "activation_checkpointing": recipe.gradient_checkpointing,
        "max_length": recipe.max_length,
        "logging_steps": recipe.logging_steps,
        "save_total_limit": recipe.save_total_limit,
        "report_to": recipe.report_to,
        "seed": recipe.seed,
        "use_cpu": not model_loading.cuda_available(),
        "bf16": precision.dtype == "bfloat16" and (precision.load_in_4bit or model_loading.cuda_available()),
    }


def attention(recipe: SFTRecipe, cuda: bool) -> str | None:
    """The attention implementation to load the base with: the recipe's, else per-example SDPA for
    packed rows on CPU, else transformers' default (None).

    On CPU there is no flash-attn, and transformers' SDPA computes each packed row's whole
    ``L x L`` attention under a block-diagonal mask; ``sdpa_varlen`` computes the same values
    per example (tests/benchmarks/bench_packing.py measures both). On CUDA the default is left
    to the recipe (``flash_attention_2`` where installed).

    >>> r = SFTRecipe(base_model="b", data="d", output_dir="o")
    >>> attention(r, cuda=False), attention(r, cuda=True)
    ('sdpa_varlen', None)
    >>> attention(SFTRecipe(base_model="b", data="d", output_dir="o", packing=False), cuda=False) is None
    True
    """
    if recipe.attn_implementation:
        return recipe.attn_implementation
    return "sdpa_varlen" if recipe.packing and not cuda else None


def sft_config(recipe: SFTRecipe, precision: model_loading.Precision):
    """trl ``SFTConfig``: completion-only loss, packing, evaluation and a checkpoint each epoch."""
    from trl import SFTConfig

    return SFTConfig(
        **trainer_arguments(recipe, precision),
        completion_only_loss=True,
        packing=recipe.packing,
        packing_strategy="bfd",
        eval_strategy="epoch",
        save_strategy="epoch",
    )


def main(recipe: SFTRecipe, resume: bool = False) -> Path | None:
    """Train and publish an SFT adapter.

    Args:
        recipe: Validated SFT recipe.
        resume: Continue from the last checkpoint in ``recipe.run_dir``.

    Returns:
        The adapter directory (on the main process; None on the others).

    Raises:
        UserError: Bad data, output exists, nothing to resume, base not loadable.
    """
    from trl import SFTTrainer

    model_loading.silence_library_deprecations()
    output_dir = Path(recipe.output_dir)
    checkpoint = artifacts.prepare_run(output_dir, recipe.run_dir, resume)
    model_loading.init_distributed()
    columns = train_data.SFT_COLUMNS + (train_data.SELF_REFINE_COLUMNS if recipe.chat_template else ())
    demos = train_data.load_demos(recipe.data, columns)
    precision = model_loading.choose_precision(recipe.quantization, recipe.cpu_dtype, model_loading.cuda_available())
    log.warning("precision: %s", precision.reason)
    tokenizer = model_loading.load_tokenizer(recipe.base_model, recipe.trust_remote_code)
    if recipe.chat_template:
        from training.distill.chat_format import with_chat_prompts

        demos = with_chat_prompts(demos, tokenizer)
    data = train_data.sft_view(demos)
    attn = attention(recipe, model_loading.cuda_available())
    log.warning("attention: %s", attn or "transformers' default")
    model = model_loading.load_base(recipe.base_model, precision, recipe.trust_remote_code, attn)
    trainer = SFTTrainer(
        model=model,
        args=sft_config(recipe, precision),
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        processing_class=tokenizer,
        peft_config=model_loading.lora_config(recipe),
    )
    if checkpoint is not None:
        log.warning("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    metrics = trainer.evaluate()
    meta = {
        "stage": "sft",
        "base_model": recipe.base_model,
        "base_fingerprint": model_loading.fingerprint(model.config),
        "data": str(recipe.data),
        "data_sha256": train_data.data_hash(data),
        "n_train": len(data["train"]),
        "n_validation": len(data["validation"]),
        "precision": precision.reason,
        "train_steps": trainer.state.global_step,
        "world_size": trainer.accelerator.num_processes,
        "final_metrics": {k: round(v, 6) for k, v in metrics.items() if isinstance(v, float)},
        "aligncot_version": artifacts.aligncot_version(),
        "recipe": to_dict(recipe),
    }
    return artifacts.save_adapter(trainer, tokenizer, output_dir, meta)


def recipe_command(help_text: str):
    """Decorate a click command with ``--recipe``, ``--set`` and positional ``KEY=VALUE`` overrides."""

    def decorate(fn):
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
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in <output_dir>.run.")
def sft_command(recipe: Path | None, sets: tuple[str, ...], overrides: tuple[str, ...], resume: bool) -> None:
    out = main(load_recipe(SFTRecipe, recipe, [*overrides, *sets]), resume=resume)
    if out is not None:
        click.echo(f"adapter written to {out}")
