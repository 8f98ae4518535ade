"""``aligncot self-refine``: DPO of the SFT student on preference pairs of its own answers, in rounds.

Recipe -> :class:`training.distill.recipes.DPORecipe` (a ``trl.DPOConfig``) -> :func:`main`; each
round (training/distill/refine_rounds.py: layout, resume) does:

1. base + the round's starting adapter (round 1: the SFT adapter; round i: round i-1's) answers
   every demonstration question (training/distill/pairs_dataset.py); the recipe's ``pairs`` kind
   -- ``cot_vs_direct`` (its CoT answer over its zero-shot one), ``correct_vs_incorrect`` (a
   correct over an incorrect sampled CoT answer) or ``correct_samples`` (the correct sampled
   answers alone) -- builds the round's rows, saved and reused when present;
2. trl ``DPOTrainer`` continues the starting adapter with ``ref_model=None``: for a PEFT model
   that already carries an adapter, trl 1.16 adds a frozen copy of it named ``ref`` and computes
   the reference log-probabilities with that adapter active, so the reference is the round's
   starting policy (the SFT policy in round 1), not the base model. With
   ``precompute_ref_log_probs`` they are computed once per round before training (and once for
   the validation pairs) instead of at every step, and kept beside the starting adapter for the
   next run on the same pairs or a selection of them (training/distill/ref_logps_cache.py). ``loss_type: [sigmoid, sft]`` with
   ``loss_weights`` adds the NLL term on the chosen answer. It evaluates every ``eval_steps`` on
   at most ``max_eval_pairs`` pairs and keeps the checkpoint with the lowest validation loss.
   A round whose loss is the NLL alone trains with trl's ``SFTTrainer`` instead, on the same
   schedule and cadence, with no reference: the ``correct_samples`` kind (every distinct correct
   sampled answer, no rejected one: STaR / rejection-sampling fine-tuning), and pairs with
   ``loss_type: [sft]``, whose chosen answers are its rows (training/distill/refine_sft.py);
3. the round's adapter is published atomically; after the last round, ``output_dir`` is that
   one PEFT adapter (``adapter_config.json`` names the base model), its card listing each round.
"""

from __future__ import annotations

import copy
import json
import logging
import time
import typing
from pathlib import Path

from training.device import cuda_available, free_memory
from training.distill import (
    artifacts,
    model_card,
    model_loading,
    pair_selection,
    pairs_dataset,
    ref_logps_cache,
    refine_rounds,
    refine_sft,
    train_data,
)
from training.generation import student as student_generation

if typing.TYPE_CHECKING:  # recipes import trl (slow): `aligncot --help` must not
    from accelerate import PartialState
    from datasets import DatasetDict
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase, Trainer

    from training.distill.model_loading import Precision
    from training.distill.recipes import DPORecipe, StudentModel
    from training.distill.refine_rounds import Round

log = logging.getLogger(__name__)


def main(recipe: DPORecipe, model_args: StudentModel, resume: bool = False) -> Path | None:
    """Run every self-refine round not finished yet; publish the last round's adapter.

    Args:
        recipe: Validated DPO recipe (the ``DPOConfig`` the trainer gets).
        model_args: Base model and quantization (trl's ``ModelConfig``; the LoRA shape is the SFT adapter's).
        resume: Continue the unfinished round from the last checkpoint in ``recipe.run_dir``.

    Returns:
        The adapter directory on the main process, None on the others.

    Raises:
        UserError: Bad data, adapter/base mismatch, no pairs, output exists, nothing to resume.
    """
    model_loading.silence_library_deprecations()
    output_dir = recipe.adapter_path
    rounds = refine_rounds.plan(output_dir, recipe.sft_adapter, recipe.pairs_path, recipe.rounds)
    first, checkpoint = refine_rounds.prepare(output_dir, recipe.run_dir, rounds, resume)
    for rnd in rounds[:first]:
        log.info("round %d/%d finished before: reusing %s", rnd.index, rnd.total, rnd.adapter)
    demos = train_data.load_demos(recipe.data, train_data.SELF_REFINE_COLUMNS)
    model_loading.check_adapter_matches(recipe.sft_adapter, model_loading.base_config(model_args.base_model))
    model_args, precision = model_loading.resolve_precision(model_args, cuda_available())
    log.info("precision: %s", precision.reason)
    tokenizer = model_loading.load_tokenizer(model_args.base_model, recipe.trust_remote_code)
    state = model_loading.init_distributed()
    out = None
    for rnd in rounds[first:]:
        out = train_round(recipe, model_args, precision, tokenizer, demos, rnd, checkpoint, state)
        checkpoint = None  # only the round that was interrupted resumes
    if len(rounds) == 1:
        return out
    if not state.is_main_process:
        return None
    meta = json.loads((rounds[-1].adapter / model_loading.META_FILE).read_text(encoding="utf-8"))
    return refine_rounds.publish_final(rounds, output_dir, meta)


def train_round(
    recipe: DPORecipe,
    model_args: StudentModel,
    precision: Precision,
    tokenizer: PreTrainedTokenizerBase,
    demos: DatasetDict,
    rnd: Round,
    checkpoint: Path | None,
    state: PartialState,
) -> Path | None:
    """One round: pairs from the starting adapter, DPO from it, the round's adapter published."""
    started = time.monotonic()
    base = model_loading.load_base(model_args, recipe.trust_remote_code)
    model = model_loading.load_trainable_adapter(base, rnd.start_adapter)
    with state.main_process_first():  # the main process generates; the others then read its pairs
        pairs = _pairs(recipe, model_args, model, tokenizer, demos, rnd)
    # At training time, so the saved pairs stay as sampled for variants that select otherwise.
    pairs, selected = pair_selection.train_pairs(recipe, pairs, recipe.seed + rnd.index, rnd.pairs)
    for key, counts in selected.items():
        log.info("round %d: train pairs selected by %s: %s", rnd.index, key, counts)
    tokenizer.padding_side = "right"
    columns = list(pairs_dataset.columns(recipe))
    validation = pairs["validation"]
    if recipe.max_eval_pairs:
        validation = validation.select(range(min(len(validation), recipe.max_eval_pairs)))
    if state.is_main_process:
        refine_rounds.mark(recipe.run_dir, rnd)
    args = recipe
    if len(validation) == 0:
        # Every validation question was answered all right or all wrong (pairs_dataset warned):
        # nothing to evaluate, so the round trains without evaluation and keeps its last step.
        from transformers import IntervalStrategy

        args = copy.copy(recipe)
        args.eval_strategy, args.load_best_model_at_end = IntervalStrategy.NO, False
    train, evaluation = (
        pairs["train"].select_columns(columns),
        validation.select_columns(columns) if len(validation) else None,
    )
    sft_trainer = refine_sft.nll_only(recipe)
    if sft_trainer:  # the NLL loss alone reads no rejected answer and no reference: SFT on the answers
        trainer = refine_sft.make_trainer(args, model, tokenizer, train, evaluation)
    else:
        # Variants trained on the same pairs from the same adapter share its reference log-probs.
        cache = ref_logps_cache.cache_dir(rnd.start_adapter) if recipe.precompute_ref_log_probs else None
        trainer = ref_logps_cache.trainer_class(cache)(
            model=model,
            ref_model=None,  # trl adds the frozen 'ref' copy of the starting adapter (module docstring)
            args=args,
            train_dataset=train,
            eval_dataset=evaluation,
            processing_class=tokenizer,
        )
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    stats = round_stats(recipe, rnd, pairs, len(validation), trainer, time.monotonic() - started)
    stats.update(selected)
    details = {
        "sft_adapter": recipe.sft_adapter,
        "round": f"{rnd.index}/{rnd.total}",
        "start_adapter": rnd.start_adapter,
        "data": str(rnd.pairs),
        "data_sha256": train_data.data_hash(pairs, pairs_dataset.columns(recipe)),
        "demonstrations": str(recipe.data),
        "n_train": len(pairs["train"]),
        "n_validation": stats["n_validation"],
        "pair_stats": stats["pair_stats"],
        "pair_balance": selected.get("pair_balance"),
        "min_correct_samples": selected.get("min_correct_samples"),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "final_metrics": {"best_eval_loss": trainer.state.best_metric},
        "wall_s": stats["wall_s"],
        "trainer": "SFTTrainer (NLL alone)" if sft_trainer else "DPOTrainer",
    }
    stage = "rft" if recipe.pairs == "correct_samples" else "dpo"
    meta = model_card.meta(stage, recipe, model_args, base, precision, trainer, details)
    if state.is_main_process:
        refine_rounds.save_stats(rnd, stats)
    out = artifacts.save_adapter(trainer, tokenizer, rnd.adapter, meta)
    if state.is_main_process:
        refine_rounds.stash_run(recipe.run_dir, rnd)
    state.wait_for_everyone()
    log.info(
        "round %d/%d: %d train / %d validation pairs (%s), %d steps, best eval loss %s, %.0f s",
        rnd.index,
        rnd.total,
        stats["n_train"],
        stats["n_validation"],
        stats["pair_stats"]["train"],
        stats["train_steps"],
        stats["best_eval_loss"],
        stats["wall_s"],
    )
    del trainer, model, base
    free_memory()  # the round's model, before the next round loads its own
    return out


def round_stats(
    recipe: DPORecipe, rnd: Round, pairs: DatasetDict, n_validation: int, trainer: Trainer, wall_s: float
) -> dict:
    """What a round did: its pairs' counts, steps, losses and wall time (this process's part of it)."""
    history = trainer.state.log_history
    return {
        "round": rnd.index,
        "start_adapter": rnd.start_adapter,
        "pairs": str(rnd.pairs),
        "pair_kind": recipe.pairs,
        "pair_stats": pairs_dataset.pair_stats(rnd.pairs),
        "n_train": len(pairs["train"]),
        "n_validation": n_validation,
        "train_steps": trainer.state.global_step,
        "train_losses": [[e["step"], e["loss"]] for e in history if "loss" in e],
        "eval_losses": [[e["step"], e["eval_loss"]] for e in history if "eval_loss" in e],
        "best_eval_loss": trainer.state.best_metric,
        "wall_s": round(wall_s, 1),
    }


def _pairs(
    recipe: DPORecipe,
    model_args: StudentModel,
    model: PeftModel,
    tokenizer: PreTrainedTokenizerBase,
    demos: DatasetDict,
    rnd: Round,
) -> DatasetDict:
    """The round's preference pairs: the saved ones when present, else generated and saved now."""
    if rnd.pairs.exists():
        log.info("reusing preference pairs in %s", rnd.pairs)
        return pairs_dataset.load_pairs(rnd.pairs)
    cuda = cuda_available()
    backend = (
        "hf" if pairs_dataset.sampling(recipe) else student_generation.choose_backend(recipe.generation_backend, cuda)
    )
    return pairs_dataset.make_pairs(recipe, model_args, model, tokenizer, demos, backend, rnd)
