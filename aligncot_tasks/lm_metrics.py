"""Per-row metrics of the lm-eval tasks, from the suite scorer's verdicts.

A *verdict* is what the task's filter writes for one generation into lm-eval's
``filtered_resps`` (so ``--log_samples`` files show it next to the raw ``resps``)::

    {"extracted": "B", "correct": true, "truncated": false}

- ``extracted``: the answer the scorer read from the full generation, or None.
- ``correct``: the scorer's verdict on it.
- ``truncated``: True when nothing was extracted *and* the generation used the whole
  ``max_gen_toks`` budget (see :mod:`aligncot_tasks.lm_task` for how that is measured);
  None when it could not be measured (no tokenizer known).
- ``cued`` (only for answer types whose scorer tells, e.g. numbers): whether a commitment
  stated the answer, or a fallback salvaged it (:attr:`aligncot_tasks.types.Score.cued`).

Every function here is pure; lm-eval averages the per-row values (``aggregation: mean``),
so each metric's stderr is lm-eval's standard error of a mean over rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from aligncot_tasks.groups import CHANCE_METRIC, maj_metrics

#: Metrics where lower is better; every other metric of the suite is an accuracy.
LOWER_IS_BETTER = ("invalid", "truncated", "no_cue")


def metric_list(names: Sequence[str]) -> list[dict[str, Any]]:
    """lm-eval ``metric_list`` entries: every suite metric is a mean over rows.

    >>> metric_list(["acc", "invalid"])[1]
    {'metric': 'invalid', 'aggregation': 'mean', 'higher_is_better': False}
    """
    return [{"metric": m, "aggregation": "mean", "higher_is_better": m not in LOWER_IS_BETTER} for m in names]


def verdict(extracted: str | None, correct: bool, truncated: bool | None, cued: bool | None = None) -> dict[str, Any]:
    """One generation's verdict, as logged in ``filtered_resps`` (``cued`` only when known).

    >>> verdict("B", True, False)
    {'extracted': 'B', 'correct': True, 'truncated': False}
    >>> verdict("18", True, False, cued=False)
    {'extracted': '18', 'correct': True, 'truncated': False, 'cued': False}
    """
    out = {"extracted": extracted, "correct": bool(correct), "truncated": truncated}
    return out if cued is None else {**out, "cued": cued}


def majority(verdicts: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The verdict of the most frequent extracted answer; ties go to the answer sampled first.

    Generations without an answer do not vote; None when no generation has one.

    >>> majority([verdict("3", False, False), verdict("4", True, False), verdict("4", True, False)])["extracted"]
    '4'
    >>> majority([verdict("3", False, False), verdict("4", True, False)])["extracted"]
    '3'
    >>> majority([verdict(None, False, True)]) is None
    True
    """
    votes = Counter(v["extracted"] for v in verdicts if v["extracted"] is not None)
    if not votes:
        return None
    top = max(votes.values())
    winner = next(v for v in verdicts if votes.get(v["extracted"]) == top)
    return winner


def chance_normalised(acc: float, chance: float) -> float:
    """Accuracy rescaled so that guessing scores 0 and a perfect answer 1: (acc - c) / (1 - c).

    >>> chance_normalised(1.0, 0.25), chance_normalised(0.0, 0.5), chance_normalised(0.25, 0.25)
    (1.0, -1.0, 0.0)
    """
    return (acc - chance) / (1.0 - chance)


def row_metrics(verdicts: Sequence[dict[str, Any]], chance: float | None = None) -> dict[str, float]:
    """Metrics of one question from the verdicts of its generations.

    With one generation: ``acc`` (1.0 if correct), ``invalid`` (1.0 if nothing was
    extracted), ``truncated`` (1.0 if nothing was extracted and the budget ran out; left out
    when unmeasured), ``no_cue`` (1.0 if an answer was extracted but not cued; only when the
    verdicts say). With ``k`` > 1 sampled generations, these are the shares over
    the ``k`` samples, and ``maj@k`` (the majority answer is correct) and ``pass@k`` (some
    sample is correct) are added. ``chance`` (1 / number of options) adds
    ``acc_norm_chance`` = (acc - chance) / (1 - chance).

    >>> row_metrics([verdict("B", True, False)], chance=0.5)
    {'acc': 1.0, 'invalid': 0.0, 'truncated': 0.0, 'acc_norm_chance': 1.0}
    >>> m = row_metrics([verdict("3", False, False), verdict(None, False, True), verdict("3", False, False), verdict("4", True, False)])
    >>> m["maj@4"], m["pass@4"], m["acc"], m["invalid"], m["truncated"]
    (0.0, 1.0, 0.25, 0.25, 0.25)
    >>> row_metrics([verdict("18", True, None, cued=False)])
    {'acc': 1.0, 'invalid': 0.0, 'no_cue': 1.0}
    """
    k = len(verdicts)
    out: dict[str, float] = {}
    if k > 1:
        maj, any_ = maj_metrics(k)
        top = majority(verdicts)
        out[maj] = float(top is not None and top["correct"])
        out[any_] = float(any(v["correct"] for v in verdicts))
    out["acc"] = sum(v["correct"] for v in verdicts) / k
    out["invalid"] = sum(v["extracted"] is None for v in verdicts) / k
    if all(v["truncated"] is not None for v in verdicts):
        out["truncated"] = sum(bool(v["truncated"]) for v in verdicts) / k
    if all("cued" in v for v in verdicts):
        out["no_cue"] = sum(v["extracted"] is not None and not v["cued"] for v in verdicts) / k
    if chance is not None:
        out[CHANCE_METRIC] = chance_normalised(out["acc"], chance)
    return out
