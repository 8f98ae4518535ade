"""Reading lm-eval results files into leaderboard cells.

A column is a benchmark-level entry ``aligncot_<benchmark>_<variant>`` -- a task, or the
group of a per-config benchmark (MMLU, MATH, BBH) -- or a self-consistency task
``aligncot_<benchmark>_cot_maj<k>`` (its own column family, variant ``cot_maj<k>``), so a
table only ever shows what lm-eval itself aggregated.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from aligncot_tasks import suite
from training.errors import ResultsError
from training.evaluate.leaderboard.cells import Column, Score
from training.evaluate.recorded import RECORDED_KEY, SUITE_PROMPT
from training.evaluate.samples import MAJ_TASK, entry_samples, verdict_metric

#: lm-eval's metric keys for the suite's accuracy.
ACC, ACC_SE = "acc,none", "acc_stderr,none"
#: Per-cell shares reported beside the accuracy, when the task reports them.
INVALID, TRUNCATED, NO_CUE = "invalid,none", "truncated,none", "no_cue,none"
#: lm-eval key of the chance-normalised accuracy ((acc - chance) / (1 - chance) per row).
ABOVE_CHANCE = "acc_norm_chance,none"
#: Variants in column order; maj@k families (variant ``cot_maj<k>``) follow them.
VARIANT_ORDER = (*suite.VARIANTS, suite.LL)


def _number(value) -> float | None:
    """A metric value as float; lm-eval writes "N/A" when it has none.

    >>> _number(0.5), _number("N/A"), _number(None)
    (0.5, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def model_label(data: dict) -> str:
    """Row label of a results file: lm-eval's ``model_name`` (``aligncot eval`` sets it to the
    row name; plain lm-eval uses peft, else pretrained), else the model args.

    >>> model_label({"model_name": "student-sft"})
    'student-sft'
    >>> model_label({"config": {"model_args": "pretrained=/m/base,peft=/m/sft,dtype=float32"}})
    '/m/sft'
    """
    if data.get("model_name"):
        return str(data["model_name"])
    parsed = model_args(data)
    for key in ("peft", "pretrained", "model"):
        if parsed.get(key):
            return parsed[key]
    return (data.get("config") or {}).get("model") or "unknown"


def model_args(data: dict) -> dict[str, str]:
    """lm-eval's ``--model_args`` of a results file as a mapping (it logs a dict or the string).

    >>> model_args({"config": {"model_args": "pretrained=/m/base,peft=/m/sft"}})
    {'pretrained': '/m/base', 'peft': '/m/sft'}
    """
    args = (data.get("config") or {}).get("model_args") or ""
    if isinstance(args, dict):
        return {k: str(v) for k, v in args.items()}
    return dict(p.split("=", 1) for p in str(args).split(",") if "=" in p)


def benchmark_columns() -> dict[str, Column]:
    """Benchmark-level task/group name -> column, for every benchmark and variant of the suite."""
    out = {}
    for b in suite.BENCHMARKS.values():
        for variant in VARIANT_ORDER:
            if variant == suite.LL and not b.multiple_choice:
                continue
            out[suite.task_name(b.key, variant)] = (b.key, variant)
    return out


def variant_rank(variant: str) -> tuple[int, int]:
    """Sort key of a variant: the suite's order, then maj@k families by k.

    >>> sorted(["cot_maj8", "cot", "zs", "cot_maj4"], key=variant_rank)
    ['zs', 'cot', 'cot_maj4', 'cot_maj8']
    """
    if variant in VARIANT_ORDER:
        return VARIANT_ORDER.index(variant), 0
    return len(VARIANT_ORDER), int(variant.rpartition("maj")[2] or 0)


def column_of(name: str) -> tuple[Column, str] | None:
    """The column of a benchmark-level results entry and the metric that is its accuracy.

    >>> column_of("aligncot_csqa_cot"), column_of("aligncot_gsm8k_cot_maj8")
    ((('csqa', 'cot'), 'acc'), (('gsm8k', 'cot_maj8'), 'maj@8'))
    >>> column_of("aligncot_mmlu_cot_anatomy") is None
    True
    """
    if name in (columns := benchmark_columns()):
        return columns[name], "acc"
    m = MAJ_TASK.match(name)
    if m and m["bench"] in suite.BENCHMARKS:
        return (m["bench"], f"cot_maj{m['k']}"), verdict_metric(name)
    return None


def _effective_n(data: dict, name: str) -> int | None:
    """Rows behind an entry: its own n-samples, or the sum over a group's leaves."""
    n_samples = data.get("n-samples") or {}
    if name in n_samples:
        return int(n_samples[name]["effective"])
    children = (data.get("group_subtasks") or {}).get(name)
    if not children:
        return None
    parts = [n for c in children if (n := _effective_n(data, c)) is not None]
    return sum(parts) if len(parts) == len(children) else None


def read_results_file(path: str | os.PathLike) -> tuple[str, dict[Column, Score]]:
    """Parse one lm-eval results file into (row label, scores by column).

    Raises:
        ResultsError: The file is not an lm-eval results JSON.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: not readable as JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ResultsError(f"{path}: no `results` mapping; is this an lm-eval results file?")
    config = data.get("config") or {}
    scores = {}
    for name, metrics in data["results"].items():
        found = column_of(name)
        if found is None or (acc := _number(metrics.get(f"{found[1]},none"))) is None:
            continue
        k = found[1].removeprefix("maj@")
        scores[found[0]] = Score(
            acc,
            _number(metrics.get(f"{found[1]}_stderr,none")),
            _effective_n(data, name),
            _number(config.get("limit")),
            float(data.get("date") or 0),
            str(path),
            _number(metrics.get(INVALID)),
            _number(metrics.get(TRUNCATED)),
            _number(metrics.get(f"pass@{k},none")) if k != found[1] else None,
            _number(metrics.get(ABOVE_CHANCE)),
            entry_samples(Path(path), data, name),
            _number(metrics.get(NO_CUE)),
        )
    return model_label(data), scores


def recorded_note(path: str | os.PathLike) -> str | None:
    """The prompt note of a run scored from recorded generations (None: a live run)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    block = data.get(RECORDED_KEY)
    return str(block.get("prompt") or SUITE_PROMPT) if isinstance(block, dict) else None


def generation_backend(path: str | os.PathLike) -> str:
    """The lm-eval model backend that made a results file (``config.model``: ``hf``,
    ``hf-continuous``, an API backend, ``recorded``...)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return str((data.get("config") or {}).get("model") or "unknown")


def find_results_files(paths: list[str | os.PathLike]) -> list[Path]:
    """Results files named by ``paths``: files as given, directories searched recursively
    for lm-eval's ``results_*.json``."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("results_*.json")))
        elif p.is_file():
            out.append(p)
        else:
            raise ResultsError(f"{p}: no such file or directory")
    return out
