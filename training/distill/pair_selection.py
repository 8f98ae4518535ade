"""Which of a round's saved pairs it trains on: the train pairs as sampled, less what the recipe leaves out.

Both selections run when a round trains, not when its pairs are sampled, so the saved pairs stay
as sampled and variants that differ only in these keys reuse one set of them (the experiment
scripts' ``pairs_from``). In order:

1. ``min_correct_samples`` (``correct_vs_incorrect``): only pairs of questions with at least this
   many correct answers among their ``samples_per_question`` samples. A chosen answer is correct
   by its final letter alone; on a question the student answers right once in four samples that
   letter may be a lucky draw whose reasoning does not support it, and DPO then prefers it anyway.
   A question answered right twice or more is likelier one the student can reason through. 1 keeps
   every pair (a pair has a correct answer).
2. ``balance_pairs``: by option letter (training/distill/pair_balance.py).

The validation pairs are not selected: they only pick a checkpoint, and variants on the same
pairs then compare on the same validation loss.
"""

from __future__ import annotations

import typing
from collections import Counter
from pathlib import Path

from training.distill import pair_balance
from training.errors import UserError

if typing.TYPE_CHECKING:
    from datasets import Dataset, DatasetDict

    from training.distill.recipes import DPORecipe

#: The per-question count each sampled pair carries (training/distill/pairs_sampled.py).
COUNT_COLUMN = "question_correct"


def confident(pairs: Dataset, min_correct: int) -> tuple[Dataset, dict]:
    """The pairs of questions with at least ``min_correct`` correct samples, and the counts.

    Args:
        pairs: Sampled preference pairs with a ``question_correct`` column.
        min_correct: The least number of correct samples a question's pairs need.

    Returns:
        The kept pairs, in their order, and ``{"min_correct", "before", "after",
        "pairs_by_correct"}`` (pairs per number of correct samples, before selecting).

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"prompt": ["p", "p", "q"], "question_correct": [1, 1, 3]})
    >>> kept, stats = confident(ds, 2)
    >>> list(kept["prompt"]), stats
    (['q'], {'min_correct': 2, 'before': 3, 'after': 1, 'pairs_by_correct': {'1': 2, '3': 1}})
    """
    counts = pairs[COUNT_COLUMN]
    kept = [i for i, n in enumerate(counts) if n >= min_correct]
    stats = {
        "min_correct": min_correct,
        "before": len(counts),
        "after": len(kept),
        "pairs_by_correct": {str(n): c for n, c in sorted(Counter(counts).items())},
    }
    return pairs.select(kept), stats


def train_pairs(recipe: DPORecipe, pairs: DatasetDict, seed: int, where: Path | None) -> tuple[DatasetDict, dict]:
    """The round's pairs with its train split selected as the recipe says (module docstring).

    Args:
        recipe: The DPO recipe (``min_correct_samples``, ``balance_pairs``).
        pairs: The round's saved pairs (``train`` and ``validation``).
        seed: Seeds which pairs a letter balance keeps.
        where: The saved pairs' directory, named in errors.

    Returns:
        The pairs, and ``{"min_correct_samples": counts, "pair_balance": counts}`` for the
        selections that ran (empty when none did).

    Raises:
        UserError: The pairs carry no per-question counts, or a selection keeps no train pair.
    """
    import datasets

    train, selected = pairs["train"], {}
    if recipe.min_correct_samples > 1:
        if COUNT_COLUMN not in train.column_names:
            raise UserError(
                f"min_correct_samples needs each pair's count of correct samples, which the pairs at {where} "
                "were saved without: delete them to sample again"
            )
        train, selected["min_correct_samples"] = confident(train, recipe.min_correct_samples)
        _nonempty(train, f"min_correct_samples={recipe.min_correct_samples}", selected["min_correct_samples"])
    if recipe.balance_pairs != "none":
        train, selected["pair_balance"] = pair_balance.balance(train, recipe.balance_pairs, seed)
        _nonempty(train, f"balance_pairs={recipe.balance_pairs}", selected["pair_balance"])
    return datasets.DatasetDict({**pairs, "train": train}), selected


def _nonempty(train: Dataset, what: str, counts: dict) -> None:
    """Refuse a selection that left no train pair (the sampled ones stay saved for another try)."""
    if len(train) == 0:
        # what there was to select from: the counts after a selection that kept nothing are all empty
        detail = {k: v for k, v in counts.items() if k not in ("before", "after", "how") and not k.endswith("_after")}
        raise UserError(
            f"{what} keeps none of the {counts['before']} train pairs ({detail}); select fewer or sample more questions"
        )
