"""The suite's metrics per task and its groups, derived from the suite (:mod:`aligncot_tasks.suite`).

Groups exist per variant (``zs``, ``cot``, ``ll``) and per self-consistency ``k``
(``aligncot_cot_maj8``): one per multi-config benchmark, one per family, one on top. Each
aggregates the metrics that all of its leaf tasks report.
"""

from __future__ import annotations

from typing import Any

from aligncot_tasks import suite
from aligncot_tasks.scoring import reads_cues


def maj_metrics(k: int) -> tuple[str, str]:
    """The majority-vote and any-correct metric names of a task sampling ``k`` generations.

    >>> maj_metrics(8)
    ('maj@8', 'pass@8')
    """
    return f"maj@{k}", f"pass@{k}"


#: Metrics every generative (zs/cot) task reports; see :mod:`aligncot_tasks.lm_metrics`.
GENERATIVE_METRICS = ("acc", "invalid", "truncated")
#: Share of answers salvaged without a cue; generative tasks whose scorer tells report it.
NO_CUE_METRIC = "no_cue"
#: Metric of tasks whose rows have options: accuracy rescaled so that guessing scores 0.
CHANCE_METRIC = "acc_norm_chance"


def task_metrics(spec: suite.TaskSpec, samples: int | None = None) -> list[str]:
    """The metrics ``spec``'s task reports, in order (``samples`` overrides its number of
    generations per question, as a test may).

    >>> task_metrics(suite.get_task("aligncot_gsm8k_cot_maj8"))
    ['maj@8', 'pass@8', 'acc', 'invalid', 'truncated', 'no_cue']
    >>> task_metrics(suite.get_task("aligncot_piqa_ll")), task_metrics(suite.get_task("aligncot_csqa_cot"))
    (['acc', 'acc_norm_chance'], ['acc', 'invalid', 'truncated', 'acc_norm_chance'])
    """
    if spec.variant == suite.LL:
        out = ["acc"]
    else:
        out = [*GENERATIVE_METRICS, *([NO_CUE_METRIC] if reads_cues(spec.answer_type) else [])]
    k = samples or spec.samples
    if k > 1:
        out = [*maj_metrics(k), *out]
    return out + ([CHANCE_METRIC] if spec.chance_level else [])


def _group(out: dict[str, dict[str, Any]], members: list[str], weight_by_size: bool) -> dict[str, Any]:
    """A group over ``members`` (tasks or groups already in ``out``): it aggregates the
    metrics that all of its leaf tasks report."""

    def leaves(names: list[str]) -> list[str]:
        return [leaf for n in names for leaf in (leaves(out[n]["task"]) if n in out else [n])]

    specs = [suite.all_tasks()[leaf] for leaf in leaves(members)]
    metrics = [m for m in task_metrics(specs[0]) if all(m in task_metrics(t) for t in specs)]
    return {"task": members, "weight_by_size": weight_by_size, "metrics": metrics}


def _variant_groups(out: dict[str, dict[str, Any]], variant: str, k: int = 1) -> None:
    """Add to ``out`` the per-benchmark, per-family and top groups of a variant (``k`` > 1:
    of its maj@k tasks)."""
    suffix = f"{variant}_maj{k}" if k > 1 else variant
    family_groups: dict[str, list[str]] = {}
    for b in suite.BENCHMARKS.values():
        if (variant == suite.LL and not b.multiple_choice) or (k > 1 and b.maj_k != k):
            continue
        if k > 1:
            member = suite.maj_task_name(b.key, k)
        elif b.per_config:
            member = f"aligncot_{b.key}_{variant}"
            out[member] = _group(out, [suite.task_name(b.key, variant, c) for c in b.configs], b.weight_by_size)
        else:
            member = suite.task_name(b.key, variant)
        family_groups.setdefault(b.family, []).append(member)
    top = []
    for family, members in family_groups.items():
        if len(members) == 1 and members[0].startswith(f"aligncot_{family}_"):
            top.append(members[0])  # a one-benchmark family is its benchmark's group
            continue
        name = f"aligncot_{family}_{suffix}"
        out[name] = _group(out, members, False)
        top.append(name)
    out[f"aligncot_{suffix}"] = _group(out, top, False)


def all_groups() -> dict[str, dict[str, Any]]:
    """Every group of the suite: name -> {"task": [children], "weight_by_size": bool, "metrics": [...]}.

    Groups exist per variant (``zs``, ``cot``, ``ll``) and per self-consistency ``k``
    (``aligncot_cot_maj8``); each aggregates the metrics all of its leaf tasks report.
    """
    out: dict[str, dict[str, Any]] = {}
    for variant in suite.VARIANTS + (suite.LL,):
        _variant_groups(out, variant)
    for k in sorted({b.maj_k for b in suite.BENCHMARKS.values() if b.maj_k}):
        _variant_groups(out, "cot", k)
    return out
