"""``aligncot sft``: (Q)LoRA instruction-tuning of a student on CoT demonstrations.

Recipe -> :class:`training.distill.recipes.SFTRecipe` (a ``trl.SFTConfig``) -> :func:`main`: trl ``SFTTrainer`` on
prompt/completion rows, loss on the completion only, packed padding-free batches (no pad
token is processed and attention stops at example boundaries), validation loss each
epoch, checkpoints in ``<output_dir>.run`` (``--resume`` continues from the last one),
and the adapter + tokenizer + model card published atomically at the end.

Runs under ``accelerate launch`` unchanged (see the README, "Scale: accelerate launch").
"""

from __future__ import annotations

import logging
import typing
from pathlib import Path

from training.device import cuda_available
from training.distill import artifacts, model_card, model_loading, train_data

if typing.TYPE_CHECKING:  # recipes import trl (slow): `aligncot --help` must not
    from datasets import DatasetDict
    from transformers import PreTrainedTokenizerBase, Trainer

    from training.distill.recipes import SFTRecipe, StudentModel

log = logging.getLogger(__name__)


def attention(args: SFTRecipe, model_args: StudentModel, cuda: bool) -> str | None:
    """The attention implementation to load the base with: the recipe's, else per-example SDPA for
    packed rows on CPU, else transformers' default (None).

    On CPU there is no flash-attn, and transformers' SDPA computes each packed row's whole
    ``L x L`` attention under a block-diagonal mask; ``sdpa_varlen`` computes the same values
    per example (tests/benchmarks/bench_packing.py measures both). On CUDA the default is left
    to the recipe (``flash_attention_2`` where installed).

    >>> from training.distill.recipes import SFTRecipe, load_recipe
    >>> args, model_args = load_recipe(SFTRecipe, None, ["base_model=b", "data=d", "output_dir=o", "packing=true"])
    >>> attention(args, model_args, cuda=False), attention(args, model_args, cuda=True)
    ('sdpa_varlen', None)
    """
    if model_args.attn_implementation:
        return model_args.attn_implementation
    return "sdpa_varlen" if args.packing and not cuda else None


def main(args: SFTRecipe, model_args: StudentModel, resume: bool = False) -> Path | None:
    """Train and publish an SFT adapter.

    Args:
        args: Validated SFT recipe (the ``SFTConfig`` the trainer gets).
        model_args: Base model, LoRA and quantization (trl's ``ModelConfig``).
        resume: Continue from the last checkpoint in ``args.run_dir``.

    Returns:
        The adapter directory (on the main process; None on the others).

    Raises:
        UserError: Bad data, output exists, nothing to resume, base not loadable.
    """
    from trl import SFTTrainer, get_peft_config

    from training.distill.completion_logits import CompletionLogitsSFTTrainer

    model_loading.silence_library_deprecations()
    output_dir = args.adapter_path
    checkpoint = artifacts.prepare_run(output_dir, args.run_dir, resume)
    model_loading.init_distributed()
    columns = train_data.SFT_COLUMNS + (train_data.SELF_REFINE_COLUMNS if args.chat_template else ())
    demos = train_data.load_demos(args.data, columns)
    cuda = cuda_available()
    model_args, precision = model_loading.resolve_precision(model_args, cuda)
    log.info("precision: %s", precision.reason)
    tokenizer = model_loading.load_tokenizer(model_args.base_model, args.trust_remote_code)
    data = _training_rows(args, demos, tokenizer)
    attn = attention(args, model_args, cuda)
    log.info("attention: %s", attn or "transformers' default")
    model = model_loading.load_base(model_args, args.trust_remote_code, attn)
    trainer_class = CompletionLogitsSFTTrainer if args.completion_logits_only else SFTTrainer
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )
    if checkpoint is not None:
        log.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    details = {
        "data": str(args.data),
        "data_sha256": train_data.data_hash(data),
        "n_train": len(data["train"]),
        "n_validation": len(data["validation"]),
        "final_metrics": {k: round(v, 6) for k, v in final_eval(trainer).items() if isinstance(v, float)},
    }
    meta = model_card.meta("sft", args, model_args, model, precision, trainer, details)
    return artifacts.save_adapter(trainer, tokenizer, output_dir, meta)


def final_eval(trainer: Trainer) -> dict:
    """Validation metrics after the last step, for the model card.

    The trainer's own evaluation when its schedule (``eval_strategy``) ended on the last step:
    one more ``evaluate()`` would recompute the same numbers (33 s of the demo's 430 s SFT stage).
    The log entry is what ``evaluate()`` returns (``eval_*`` and ``epoch``) plus the ``step``.
    """
    last = next((h for h in reversed(trainer.state.log_history) if "eval_loss" in h), None)
    if last is not None and last.get("step") == trainer.state.global_step:
        return {k: v for k, v in last.items() if k != "step"}
    return trainer.evaluate()


def _training_rows(args: SFTRecipe, demos: DatasetDict, tokenizer: PreTrainedTokenizerBase) -> DatasetDict:
    """The demonstrations as the trainer's prompt/completion rows (chat-formatted prompts under
    ``chat_template``)."""
    if args.chat_template:
        from training.distill.chat_format import with_chat_prompts

        demos = with_chat_prompts(demos, tokenizer)
    return train_data.sft_view(demos)
