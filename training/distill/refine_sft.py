"""The trainer of a ``correct_samples`` self-refine round: SFT on the student's own correct answers.

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

if typing.TYPE_CHECKING:
    from datasets import Dataset
    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase, Trainer
    from trl import SFTConfig

    from training.distill.recipes import DPORecipe


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
    """trl's ``SFTTrainer`` (with the compact output layer, as the SFT stage uses) on prompt/completion rows."""
    from training.distill.completion_logits import CompletionLogitsSFTTrainer

    return CompletionLogitsSFTTrainer(
        model=model,
        args=sft_config(args),
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
    )
