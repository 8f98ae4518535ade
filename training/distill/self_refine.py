"""``aligncot self-refine``: DPO of the SFT student on its own CoT-vs-plain answers.

Recipe -> :class:`training.distill.recipes.DPORecipe` (a ``trl.DPOConfig``) -> :func:`main`:

1. base + SFT adapter (trainable) answers every demonstration question with the zero-shot
   and the CoT prompt (batched HF generation; vLLM when installed on a GPU machine);
2. preference pairs (see :mod:`training.distill.preference_pairs`) are saved as a dataset in
   ``<output_dir>.pairs`` (reused when present);
3. trl ``DPOTrainer`` continues the SFT adapter against a frozen copy of it (trl's ``ref``
   adapter: the reference is the SFT policy), evaluates every ``eval_steps``, keeps the
   checkpoint with the lowest validation loss and publishes that one adapter atomically.
"""

from __future__ import annotations

import json
import logging
import typing
from pathlib import Path

from training import atomic
from training.distill import artifacts, model_loading, preference_pairs, train_data
from training.distill.sft import recipe_command, train_and_report
from training.errors import UserError
from training.generation import student as student_generation

if typing.TYPE_CHECKING:  # recipes import trl (slow): `aligncot --help` must not
    from training.distill.recipes import DPORecipe, StudentModel

log = logging.getLogger("aligncot.self_refine")
#: Counts of questions, kept pairs and correct answers per split, saved beside the pairs.
PAIR_STATS = "pair_stats.json"


def make_pairs(recipe: DPORecipe, model_args: StudentModel, model, tokenizer, demos, backend: str):
    """Generate, build and save the preference pairs (main process only); returns the DatasetDict."""
    import datasets

    def generate(prompts, budgets, desc):
        if backend == "vllm":
            return student_generation.generate_vllm(
                model_args.base_model, recipe.sft_adapter, prompts, budgets, max_lora_rank=lora_rank(recipe.sft_adapter)
            )
        out = [""] * len(prompts)
        for budget in sorted(set(budgets)):  # one generate() call per token budget
            idx = [i for i, b in enumerate(budgets) if b == budget]
            texts = student_generation.generate_hf(
                model, tokenizer, [prompts[i] for i in idx], budget, recipe.generation_batch_size, desc
            )
            for i, text in zip(idx, texts):
                out[i] = text
        return out

    splits, all_stats = {}, {}
    for split in train_data.SPLITS:
        qs = preference_pairs.questions(demos[split])
        pairs, stats = preference_pairs.build_pairs(qs, generate, recipe.keep_correct_only, recipe.max_new_tokens)
        log.warning("%s pairs: %s", split, stats)
        all_stats[split] = stats
        if not pairs:
            raise UserError(
                f"no {split} preference pairs survive ({stats}); "
                "set keep_correct_only=false or train the SFT student longer"
            )
        splits[split] = datasets.Dataset.from_list(pairs)
    if backend == "vllm":
        student_generation.release_vllm()
    ds = datasets.DatasetDict(splits)

    def write(tmp: Path) -> None:
        ds.save_to_disk(str(tmp))
        (tmp / PAIR_STATS).write_text(json.dumps(all_stats, indent=1), encoding="utf-8")

    recipe.pairs_path.parent.mkdir(parents=True, exist_ok=True)
    atomic.publish_dir(recipe.pairs_path, write)
    return ds


def lora_rank(adapter_dir: str) -> int:
    """The rank of a saved LoRA adapter (vLLM must be told the largest rank it serves)."""
    config = json.loads((Path(adapter_dir) / "adapter_config.json").read_text(encoding="utf-8"))
    return int(config["r"])


def load_pairs(path: Path):
    import datasets

    try:
        return datasets.load_from_disk(str(path))
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read preference pairs at {path} ({e}); delete them to regenerate") from None


def main(recipe: DPORecipe, model_args: StudentModel, resume: bool = False) -> Path | None:
    """Build pairs, run DPO from the SFT adapter, publish the best adapter.

    Args:
        recipe: Validated DPO recipe (the ``DPOConfig`` the trainer gets).
        model_args: Base model and quantization (trl's ``ModelConfig``; the LoRA shape is the SFT adapter's).
        resume: Continue from the last checkpoint in ``recipe.run_dir``.

    Returns:
        The adapter directory on the main process, None on the others.

    Raises:
        UserError: Bad data, adapter/base mismatch, no pairs, output exists, nothing to resume.
    """
    from trl import DPOTrainer

    model_loading.silence_library_deprecations()
    output_dir = Path(recipe.adapter_dir)
    checkpoint = artifacts.prepare_run(output_dir, recipe.run_dir, resume)
    demos = train_data.load_demos(recipe.data, train_data.SELF_REFINE_COLUMNS)
    model_loading.check_adapter_matches(recipe.sft_adapter, model_loading.base_config(model_args.base_model))
    model_args, precision = model_loading.resolve_precision(model_args, model_loading.cuda_available())
    log.warning("precision: %s", precision.reason)
    tokenizer = model_loading.load_tokenizer(model_args.base_model, recipe.trust_remote_code)
    base = model_loading.load_base(model_args, recipe.trust_remote_code)
    model = model_loading.load_trainable_adapter(base, recipe.sft_adapter)
    state = model_loading.init_distributed()
    with state.main_process_first():  # the main process generates; the others then read its pairs
        pairs = _pairs(recipe, model_args, model, tokenizer, demos)
    tokenizer.padding_side = "right"
    columns = list(preference_pairs.PAIR_COLUMNS)
    trainer = DPOTrainer(
        model=model,
        ref_model=None,
        args=recipe,
        train_dataset=pairs["train"].select_columns(columns),
        eval_dataset=pairs["validation"].select_columns(columns),
        processing_class=tokenizer,
    )
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    meta = _model_card(recipe, model_args, base, precision, pairs, trainer)
    return artifacts.save_adapter(trainer, tokenizer, output_dir, meta)


def _pairs(recipe: DPORecipe, model_args: StudentModel, model, tokenizer, demos):
    """The preference pairs: the saved ones when present, else generated and saved now."""
    if recipe.pairs_path.exists():
        log.warning("reusing preference pairs in %s", recipe.pairs_path)
        return load_pairs(recipe.pairs_path)
    backend = student_generation.choose_backend(recipe.generation_backend, model_loading.cuda_available())
    return make_pairs(recipe, model_args, model, tokenizer, demos, backend)


def _model_card(recipe: DPORecipe, model_args: StudentModel, base, precision, pairs, trainer) -> dict:
    """The metadata saved with the adapter: what was trained on which pairs, how, and the best checkpoint."""
    from training.distill import recipes

    return {
        "stage": "dpo",
        "base_model": model_args.base_model,
        "base_fingerprint": model_loading.fingerprint(base.config),
        "sft_adapter": recipe.sft_adapter,
        "data": str(recipe.pairs_path),
        "data_sha256": train_data.data_hash(pairs, preference_pairs.PAIR_COLUMNS),
        "demonstrations": str(recipe.data),
        "n_train": len(pairs["train"]),
        "n_validation": len(pairs["validation"]),
        "pair_stats": json.loads((recipe.pairs_path / PAIR_STATS).read_text(encoding="utf-8")),
        "precision": precision.reason,
        "train_steps": trainer.state.global_step,
        "world_size": trainer.accelerator.num_processes,
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "final_metrics": {"best_eval_loss": trainer.state.best_metric},
        "aligncot_version": artifacts.aligncot_version(),
        "recipe": recipes.to_dict(recipe, model_args),
    }


@recipe_command(
    "Self-refine: DPO of the SFT student, its CoT answers preferred to its plain ones.\n\n"
    "The student answers every demonstration question with the zero-shot and the CoT prompt; pairs "
    "(kept only when the CoT answer is correct, by default) go to <output_dir>.pairs; DPO continues the "
    "SFT adapter and the best validation-loss checkpoint is published as one adapter.\n\n"
    "Example: aligncot self-refine --recipe harness_configs/recipes/llama-2-7b-chat/dpo.yaml "
    "sft_adapter=out/sft data=out/demos output_dir=out/dpo"
)
def self_refine_command(recipe: Path | None, sets: tuple[str, ...], overrides: tuple[str, ...], resume: bool) -> None:
    train_and_report(main, "DPORecipe", recipe, [*overrides, *sets], resume)
