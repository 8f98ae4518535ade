"""The trainer of a self-refine round whose loss is the NLL alone: SFT on the student's own answers.

Two kinds of round train this way: ``correct_samples`` (its rows are prompt/completion already),
and a pair kind with ``loss_type: [sft]`` at weight 1 (the ``civ-nllonly`` variants), whose pairs
train as their ``prompt`` + ``chosen`` rows (:func:`as_rows`). trl's ``DPOTrainer`` would give the
second the same loss -- the token mean of the chosen answers' NLL, ``rejected`` and the reference
unread -- but forwards every rejected answer at each step and computes reference log-probabilities
first (``tests/benchmarks/bench_dpo.py`` times both on the same answers). The rows keep the pairs'
order, duplicates included (an answer in two pairs is trained on twice, as DPO would). One
difference: under gradient accumulation trl's SFT loss is the token mean over the whole effective
batch, DPO's the mean of each micro-batch's token means.

The recipe stays one ``DPOConfig`` (``aligncot self-refine`` reads one recipe class; the round's
sampling, rounds, resume and evaluation cap are the same for every kind), and the round hands trl's
``SFTTrainer`` an ``SFTConfig`` built from it: every ``TrainingArguments`` field as the recipe
sets it (optimiser, schedule, steps, batch, evaluation and checkpoint cadence, best-checkpoint
selection, seed, output directory), plus ``max_length`` and the SFT stage's training contract
(loss on the completion only; training/distill/sft.py). The model is the round's starting adapter,
already trainable (``PeftModel``), so no ``peft_config`` is passed and no reference model exists.
"""

from __future__ import annotations

import dataclasses
import typing

from training.distill.recipe_checks import nll_alone

if typing.TYPE_CHECKING:
    from datasets import Dataset
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase, Trainer
    from trl import SFTConfig

    from training.distill.recipes import DPORecipe


def nll_only(recipe: DPORecipe) -> bool:
    """Whether a round's loss is the NLL on the chosen (or only) answers alone (module docstring).

    >>> from types import SimpleNamespace as R
    >>> nll_only(R(pairs="correct_vs_incorrect", loss_type=["sft"], loss_weights=[1.0]))
    True
    >>> nll_only(R(pairs="correct_vs_incorrect", loss_type=["sigmoid", "sft"], loss_weights=None))
    False
    >>> nll_only(R(pairs="cot_vs_direct", loss_type=["sft"], loss_weights=[0.5]))  # gradient clipping sees the weight
    False
    """
    return recipe.pairs == "correct_samples" or nll_alone(recipe)


def as_rows(data: Dataset) -> Dataset:
    """Pairs as prompt/completion rows (``chosen`` the completion, ``rejected`` dropped); rows as they are.

    >>> from datasets import Dataset
    >>> rows = as_rows(Dataset.from_list([{"prompt": "Q:", "chosen": " A", "rejected": " B"}]))
    >>> rows.column_names, rows[0]
    (['prompt', 'completion'], {'prompt': 'Q:', 'completion': ' A'})
    """
    if "chosen" not in data.column_names:
        return data
    return data.rename_column("chosen", "completion").remove_columns("rejected")


def sft_config(recipe: DPORecipe) -> SFTConfig:
    """The ``SFTConfig`` of a ``correct_samples`` round (module docstring).

    >>> from training.distill.recipes import load_recipe, DPORecipe
    >>> r, _ = load_recipe(DPORecipe, None, ["base_model=b", "data=d", "sft_adapter=s", "output_dir=o",
    ...     "pairs=correct_samples", "loss_type=[sft]", "learning_rate=1e-4", "max_steps=7", "max_length=300"])
    >>> c = sft_config(r)
    >>> type(c).__name__, c.learning_rate, c.max_steps, c.max_length, c.completion_only_loss, c.output_dir == r.output_dir
    ('SFTConfig', 0.0001, 7, 300, True, True)
    """
    from transformers import TrainingArguments
    from trl import SFTConfig

    names = {f.name for f in dataclasses.fields(TrainingArguments) if f.init}
    values = {k: v for k, v in recipe.to_dict().items() if k in names}
    values["hub_token"] = recipe.hub_token  # to_dict hides it (trl's own conversion does the same)
    return SFTConfig(
        **values,
        max_length=recipe.max_length,
        completion_only_loss=True,
        packing=False,  # rows are short and few; an unpacked batch needs no special attention on CPU
    )


def make_trainer(
    args: DPORecipe, model: PeftModel, tokenizer: PreTrainedTokenizerBase, train: Dataset, validation: Dataset | None
) -> Trainer:
    """trl's ``SFTTrainer`` (with the compact output layer, as the SFT stage uses) on prompt/completion
    rows, or on pairs' chosen answers (:func:`as_rows`)."""
    from training.distill.completion_logits import CompletionLogitsSFTTrainer

    return CompletionLogitsSFTTrainer(
        model=model,
        args=sft_config(args),
        train_dataset=as_rows(train),
        eval_dataset=as_rows(validation) if validation is not None else None,
        processing_class=tokenizer,
    )
