"""Preference pairs balanced by option letter (``balance_pairs``), on one side or both.

A correct-vs-incorrect pair's chosen answer is a correct one, so it names its question's gold
letter, and a question gives pairs only where the student sometimes samples the right letter.
A student that leans to one letter is right mostly on the questions whose gold is that letter,
so its pairs mostly prefer that letter, and DPO can lower its loss by learning the letter instead
of the reasoning: the results page's Domains section shows a student that collapsed onto (A)
this way. Two balances:

- ``chosen``: per task, as many pairs per gold letter as the rarest letter has. That takes the
  signal out of the chosen side only: the rejected answers still lean to the student's letter,
  so DPO can still learn a letter, now away from its habit and onto another (the tuning log's
  Phase 4 names a trial where it did).
- ``both``: the largest set of pairs in which, per task, every letter is as often the chosen
  answer's as the rejected answer's, so no letter is pushed up or down on balance and only the
  reasoning tells a chosen answer from its rejected one. A pair is an edge from its gold letter
  to its rejected answer's letter; such a set is a circulation of that multigraph, and the
  largest one is a minimum-cost circulation (cost -1 per pair), found by cancelling negative
  cycles. A pair whose rejected answer names no letter pushes its gold letter up with nothing
  pushed down, so ``both`` drops it.

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

#: ``(task, gold letter, rejected answer's letter or None)``; None for an open-answer pair.
Key = tuple[str, str, str | None]


def pair_key(task: str, doc_json: str, rejected: str) -> Key | None:
    """The task, gold letter and rejected letter of a multiple-choice pair; None for an open answer.

    >>> doc = {"question": "q", "choices": {"label": ["A", "B"], "text": ["x", "y"]}, "answerKey": "B"}
    >>> pair_key("aligncot_csqa_cot", json.dumps(doc), "So the answer is (A).")
    ('aligncot_csqa_cot', 'B', 'A')
    """
    doc = json.loads(doc_json)
    item = suite.item(task, doc)
    if not item.options:
        return None
    return (task, item.gold, suite.score(task, doc, rejected).extracted)


def chosen_indices(keys: Sequence[Key | None], seed: int) -> list[int]:
    """Indices kept, in their order: per task, each gold letter keeps as many as its rarest letter.

    Which pairs of a larger letter stay is a seeded draw; ``None`` keys (open answers) all stay.

    >>> chosen_indices([("t", "A", "B"), ("t", "A", "C"), ("t", "A", "B"), ("t", "B", "A"), None, ("u", "C", "A")], seed=0)
    [1, 3, 4, 5]
    >>> keys = [("t", "A", "B"), ("t", "B", "A"), ("t", "B", "C")]
    >>> chosen_indices(keys, seed=0) == chosen_indices(keys, seed=0)
    True
    """
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        if key is not None:
            groups[key[:2]].append(i)
    rarest: dict[str, int] = {}
    for (task, _), idx in groups.items():
        rarest[task] = min(rarest.get(task, len(idx)), len(idx))
    rng = random.Random(seed)
    kept = {i for i, key in enumerate(keys) if key is None}
    for group in sorted(groups):
        kept.update(rng.sample(groups[group], rarest[group[0]]))
    return sorted(kept)


def max_circulation(capacity: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    """The largest flow on edges ``u -> v`` (at most ``capacity``) with inflow = outflow at every node.

    Cancels negative cycles of the residual graph (cost -1 forward, +1 backward) until none is
    left, which is optimal for a min-cost circulation; nodes are the few option letters.

    >>> max_circulation({("A", "B"): 3, ("B", "A"): 1, ("B", "C"): 2, ("C", "A"): 5})
    {('A', 'B'): 3, ('B', 'A'): 1, ('B', 'C'): 2, ('C', 'A'): 2}
    >>> max_circulation({("A", "B"): 4})
    {('A', 'B'): 0}
    """
    flow = dict.fromkeys(capacity, 0)
    nodes = sorted({n for edge in capacity for n in edge})
    while cycle := _negative_cycle(nodes, capacity, flow):
        room = min(capacity[e] - flow[e] if forward else flow[e] for e, forward in cycle)
        for e, forward in cycle:
            flow[e] += room if forward else -room
    return flow


def _negative_cycle(nodes, capacity, flow) -> list[tuple[tuple[str, str], bool]] | None:
    """A negative-cost cycle of the residual graph as ``[(edge, forward)]`` (Bellman-Ford), or None."""
    residual = [(u, v, -1, (u, v), True) for (u, v) in capacity if flow[(u, v)] < capacity[(u, v)]]
    residual += [(v, u, 1, (u, v), False) for (u, v) in capacity if flow[(u, v)] > 0]
    dist = dict.fromkeys(nodes, 0)  # every node a source: finds a cycle anywhere
    parent: dict[str, tuple] = {}
    changed: str | None = None
    for _ in range(len(nodes)):
        changed = None
        for u, v, cost, edge, forward in residual:
            if dist[u] + cost < dist[v]:
                dist[v], parent[v], changed = dist[u] + cost, (u, edge, forward), v
        if changed is None:
            return None
    if changed is None:  # no nodes
        return None
    last = changed
    for _ in range(len(nodes)):  # walk back far enough to stand on the cycle itself
        last = parent[last][0]
    cycle, node = [], last
    while True:
        u, edge, forward = parent[node]
        cycle.append((edge, forward))
        node = u
        if node == last:
            return cycle[::-1]


def both_indices(keys: Sequence[Key | None], seed: int) -> list[int]:
    """Indices kept, in their order: per task, the largest set in which each letter is as often
    chosen as rejected. Which pairs of an edge stay is a seeded draw; open answers all stay.

    >>> keys = [("t", "A", "B"), ("t", "A", "B"), ("t", "B", "A"), ("t", "A", None), None]
    >>> both_indices(keys, seed=0)
    [1, 2, 4]
    """
    edges: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, key in enumerate(keys):
        if key is not None and key[2] is not None:
            edges[key[0]][(key[1], key[2])].append(i)
    rng = random.Random(seed)
    kept = {i for i, key in enumerate(keys) if key is None}
    for task in sorted(edges):
        flow = max_circulation({e: len(idx) for e, idx in edges[task].items()})
        for edge in sorted(flow):
            kept.update(rng.sample(edges[task][edge], flow[edge]))
    return sorted(kept)


def balance(pairs: Dataset, how: str, seed: int) -> tuple[Dataset, dict]:
    """The pairs balanced by option letter, and the counts before and after.

    Args:
        pairs: Preference pairs with ``task``, ``doc`` (JSON) and ``rejected`` columns.
        how: ``chosen`` or ``both`` (module docstring).
        seed: Seeds which pairs stay where more are there than the balance keeps.

    Returns:
        The kept pairs and ``{"how", "before", "after", "gold_before", "gold_after",
        "rejected_before", "rejected_after"}`` (letter counts keyed ``task:letter``; a rejected
        answer without a letter counts as ``task:-``).
    """
    keys = [pair_key(t, d, r) for t, d, r in zip(pairs["task"], pairs["doc"], pairs["rejected"])]
    kept = (chosen_indices if how == "chosen" else both_indices)(keys, seed)

    def count(ks, side: int) -> dict[str, int]:
        return {
            f"{t}:{g}": n for (t, g), n in sorted(Counter((k[0], k[side] or "-") for k in ks if k is not None).items())
        }

    picked = [keys[i] for i in kept]
    stats = {
        "how": how,
        "before": len(keys),
        "after": len(kept),
        "gold_before": count(keys, 1),
        "gold_after": count(picked, 1),
        "rejected_before": count(keys, 2),
        "rejected_after": count(picked, 2),
    }
    return pairs.select(kept), stats
