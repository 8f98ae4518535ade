"""Preference pairs balanced by the gold option letter of their question (``balance_pairs``).

A correct-vs-incorrect pair's chosen answer is a correct one, so it names its question's gold
letter, and a question gives pairs only where the student sometimes samples the right letter.
A student that leans to one letter is right mostly on the questions whose gold is that letter,
so its pairs mostly prefer that letter, and DPO can lower its loss by learning the letter instead
of the reasoning: the results page's Domains section shows a student that collapsed onto (A)
this way. Keeping, per task, as many pairs per gold letter as the rarest letter has takes that
signal out of the chosen side only: the rejected answers still lean to the student's letter, so
DPO can still learn a letter, now away from its habit and onto another (the tuning log's Phase 4
names a trial where it did). Balancing both sides is not done here.

Balancing is applied when a round trains (the saved pairs stay as sampled), so a variant can
reuse another variant's pairs and differ only in this key. Open-answer pairs (no options) are
kept as they are; a letter without any pair does not count as the rarest one.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aligncot_tasks import suite

if TYPE_CHECKING:
    from datasets import Dataset


def gold_key(task: str, doc_json: str) -> tuple[str, str] | None:
    """``(task, letter)`` of a multiple-choice pair's question, None for an open-answer one.

    >>> doc = {"question": "q", "choices": {"label": ["A", "B"], "text": ["x", "y"]}, "answerKey": "B"}
    >>> gold_key("aligncot_csqa_cot", json.dumps(doc))
    ('aligncot_csqa_cot', 'B')
    """
    item = suite.item(task, json.loads(doc_json))
    return (task, item.gold) if item.options else None


def balanced_indices(keys: Sequence[tuple[str, str] | None], seed: int) -> list[int]:
    """Indices kept, in their order: per task, each gold letter keeps as many as its rarest letter.

    Which pairs of a larger letter stay is a seeded draw; ``None`` keys (open answers) all stay.

    >>> balanced_indices([("t", "A"), ("t", "A"), ("t", "A"), ("t", "B"), None, ("u", "C")], seed=0)
    [1, 3, 4, 5]
    >>> keys = [("t", "A"), ("t", "B"), ("t", "B")]
    >>> balanced_indices(keys, seed=0) == balanced_indices(keys, seed=0)
    True
    """
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key is not None:
            groups[key].append(i)
    rarest: dict[str, int] = {}
    for (task, _), idx in groups.items():
        rarest[task] = min(rarest.get(task, len(idx)), len(idx))
    rng = random.Random(seed)
    kept = {i for i, key in enumerate(keys) if key is None}
    for key in sorted(groups):
        kept.update(rng.sample(groups[key], rarest[key[0]]))
    return sorted(kept)


def balance(pairs: Dataset, seed: int) -> tuple[Dataset, dict]:
    """The pairs balanced by gold letter, and the counts before and after.

    Args:
        pairs: Preference pairs with ``task`` and ``doc`` (JSON) columns.
        seed: Seeds which pairs of the larger letters stay.

    Returns:
        The kept pairs and ``{"before": n, "after": m, "gold_before": {...}, "gold_after": {...}}``
        (gold counts keyed ``task:letter``).
    """
    keys = [gold_key(t, d) for t, d in zip(pairs["task"], pairs["doc"])]
    kept = balanced_indices(keys, seed)
    count = lambda ks: {f"{t}:{g}": n for (t, g), n in sorted(Counter(k for k in ks if k is not None).items())}  # noqa: E731
    stats = {
        "before": len(keys),
        "after": len(kept),
        "gold_before": count(keys),
        "gold_after": count(keys[i] for i in kept),
    }
    return pairs.select(kept), stats
