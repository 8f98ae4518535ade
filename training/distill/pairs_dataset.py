"""One round's training rows: the student answers, the pairs (or correct answers) are built and saved as a dataset.

The kind is the recipe's ``pairs`` (training/distill/preference_pairs.py for
``cot_vs_direct``, training/distill/pairs_sampled.py for ``correct_vs_incorrect``,
training/distill/correct_samples.py for ``correct_samples``, rows without a rejected answer); prompts are
plain or chat-templated (``chat_template``). The student answers with the batched HF path, or
vLLM for greedy answers on GPU machines (training/generation/student.py), one call per token
budget. Sampled answers are seeded by the recipe's ``seed`` and the round, so a rerun samples
the same answers, and they are kept beside the starting adapter for the next variant that samples
with the same adapter and seed (training/distill/samples_cache.py). The dataset and its counts (``pair_stats.json``) are published atomically
and reused when present.
"""

from __future__ import annotations

import functools
import json
import logging
import typing
from pathlib import Path

from aligncot_tasks import suite
from training import atomic
from training.distill import chat_format, correct_samples, pairs_sampled, preference_pairs, samples_cache, train_data
from training.distill.model_loading import fingerprint
from training.distill.recipe_checks import SAMPLED_KINDS
from training.errors import UserError
from training.generation import student as student_generation

if typing.TYPE_CHECKING:
    from training.distill.recipes import DPORecipe, StudentModel
    from training.distill.refine_rounds import Round

log = logging.getLogger(__name__)
#: Counts of questions, kept pairs and correct answers per split, saved beside the pairs.
PAIR_STATS = "pair_stats.json"


def sampling(recipe: DPORecipe) -> bool:
    """Whether the pair kind samples answers (else greedy, as lm-eval decodes)."""
    return recipe.pairs in SAMPLED_KINDS


def columns(recipe: DPORecipe) -> tuple[str, ...]:
    """The columns the round's trainer reads: a preference pair's, or a prompt and its completion."""
    return correct_samples.ROW_COLUMNS if recipe.pairs == "correct_samples" else preference_pairs.PAIR_COLUMNS


def generator(recipe: DPORecipe, model_args: StudentModel, model, tokenizer, backend: str, rnd: Round):
    """``generate(prompts, budgets, desc)`` with the round's starting adapter (loaded in ``model``)."""
    temperature = recipe.temperature if sampling(recipe) else 0.0
    seed = recipe.seed + rnd.index if sampling(recipe) else None

    def generate(prompts, budgets, desc):
        if backend == "vllm":  # greedy only: recipes.check_self_refine refuses vLLM for sampling
            rank = lora_rank(rnd.start_adapter)
            return student_generation.generate_vllm(
                model_args.base_model, rnd.start_adapter, prompts, budgets, max_lora_rank=rank
            )
        out = [""] * len(prompts)
        for budget in sorted(set(budgets)):  # one generate() call per token budget
            idx = [i for i, b in enumerate(budgets) if b == budget]
            texts = student_generation.generate_hf(
                model,
                tokenizer,
                [prompts[i] for i in idx],
                budget,
                recipe.generation_batch_size,
                desc,
                temperature=temperature,
                seed=seed,
            )
            for i, text in zip(idx, texts):
                out[i] = text
        return out

    where = samples_cache.cache_dir(rnd.start_adapter) if sampling(recipe) and backend == "hf" else None
    if where is None:
        return generate
    identity = {
        "adapter": samples_cache.adapter_hash(Path(rnd.start_adapter)),
        "base": fingerprint(model.config),
        "temperature": temperature,
        "seed": seed,
        "batch_size": recipe.generation_batch_size,
    }
    # Variants sampling from the same adapter with the same seed share the answers (samples_cache.py).
    return samples_cache.cached(generate, where, identity)


def build(recipe: DPORecipe, rows, generate, render, split: str, rnd: Round) -> tuple[list[dict], dict]:
    """The pairs of one split of demonstration ``rows`` (validation questions capped by ``max_eval_pairs``)."""
    qs = preference_pairs.questions(rows, render)
    if split == "validation" and recipe.max_eval_pairs:
        qs = qs[: recipe.max_eval_pairs]  # each question gives at least one pair or none: no more are useful
    if recipe.pairs == "correct_samples":
        return correct_samples.build_correct_samples(qs, generate, recipe.samples_per_question, recipe.max_new_tokens)
    if sampling(recipe):
        return pairs_sampled.build_sampled_pairs(
            qs,
            generate,
            recipe.samples_per_question,
            recipe.max_pairs_per_question,
            recipe.seed + rnd.index,
            recipe.max_new_tokens,
        )
    return preference_pairs.build_pairs(qs, generate, recipe.keep_correct_only, recipe.max_new_tokens)


def make_pairs(recipe: DPORecipe, model_args: StudentModel, model, tokenizer, demos, backend: str, rnd: Round):
    """Generate, build and save one round's preference pairs (main process only); returns the DatasetDict."""
    import datasets

    generate = generator(recipe, model_args, model, tokenizer, backend, rnd)
    render = functools.partial(chat_format.chat_prompt, tokenizer) if recipe.chat_template else suite.render_prompt
    splits, all_stats = {}, {}
    for split in train_data.SPLITS:
        pairs, stats = build(recipe, demos[split], generate, render, split, rnd)
        log.info("round %d %s pairs: %s", rnd.index, split, stats)
        all_stats[split] = stats
        if not pairs and split != "train":
            # Validation only picks the best checkpoint: without it the round trains and keeps its last step.
            log.warning("round %d: no %s preference pairs (%s); training without evaluation", rnd.index, split, stats)
        elif not pairs:
            hint = "sample more answers per question" if sampling(recipe) else "set keep_correct_only=false"
            raise UserError(f"no {split} preference pairs survive ({stats}); {hint} or train the SFT student longer")
        # An empty (validation) split still has the pair columns the trainer selects.
        splits[split] = (
            datasets.Dataset.from_list(pairs) if pairs else datasets.Dataset.from_dict({c: [] for c in columns(recipe)})
        )
    if backend == "vllm":
        student_generation.release_vllm()
    ds = datasets.DatasetDict(splits)

    def write(tmp: Path) -> None:
        ds.save_to_disk(str(tmp))
        atomic.write_json(tmp / PAIR_STATS, all_stats)

    rnd.pairs.parent.mkdir(parents=True, exist_ok=True)
    atomic.publish_dir(rnd.pairs, write)
    return ds


def pair_stats(path: Path) -> dict:
    """The saved counts of a pairs directory."""
    return json.loads((path / PAIR_STATS).read_text(encoding="utf-8"))


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
