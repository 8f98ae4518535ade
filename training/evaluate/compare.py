"""``aligncot compare RESULTS_A RESULTS_B``: paired significance of two runs, per task and per benchmark.

Works on any ``--output_path`` of lm-eval run with ``--log_samples`` (``aligncot eval``, a
plain ``lm_eval`` run of ``aligncot_*`` tasks, or ``aligncot score --results-dir``): the
samples files beside each ``results_*.json`` hold the per-question verdicts.

Per benchmark the questions of all its leaf tasks of the same variant are pooled (MMLU's 57
subjects, BBH's 27 subtasks, MATH's 7 types become one paired test over all their
questions; a benchmark with one task repeats that task's line). The pooled difference is
therefore weighted by questions, unlike lm-eval's unweighted group mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aligncot_tasks import suite
from training.errors import ResultsError
from training.evaluate import paired
from training.evaluate.leaderboard.results import find_results_files, model_label
from training.evaluate.samples import MAJ_TASK, leaf_tasks, pair, read_samples, samples_path


@dataclass(frozen=True)
class Run:
    """The newest samples of every leaf task found under one path.

    Attributes:
        label: Row label of the run (lm-eval's model name).
        tasks: Leaf task -> its samples file.
    """

    label: str
    tasks: dict[str, Path]


def load_run(path: Path) -> Run:
    """Collect the samples files of the results files under ``path`` (newest run of a task wins).

    Raises:
        ResultsError: No results file, or none with samples (run lm-eval with ``--log_samples``).
    """
    found: dict[str, tuple[float, Path]] = {}
    labels = []
    for results in find_results_files([path]):
        data = json.loads(results.read_text(encoding="utf-8"))
        labels.append(model_label(data))
        date = float(data.get("date") or 0)
        for name in data.get("results") or {}:
            for leaf in leaf_tasks(data, name):
                file = samples_path(results, leaf)
                if file.is_file() and date >= found.get(leaf, (-1.0, file))[0]:
                    found[leaf] = (date, file)
    if not found:
        raise ResultsError(f"{path}: no samples_*.jsonl beside its results files (run lm-eval with --log_samples)")
    return Run(
        labels[0] if len(set(labels)) == 1 else f"{labels[0]} (+{len(set(labels)) - 1} more)",
        {task: file for task, (_, file) in sorted(found.items())},
    )


def relabel(run: Run, renames: dict[str, str]) -> Run:
    """``run`` under its new label, if ``renames`` names it."""
    return Run(renames.get(run.label, run.label), run.tasks)


def benchmark_of(task: str) -> str:
    """The benchmark-level name a leaf task is pooled under (a maj@k task is its own).

    >>> benchmark_of("aligncot_mmlu_cot_anatomy"), benchmark_of("aligncot_csqa_zs"), benchmark_of("aligncot_gsm8k_cot_maj8")
    ('aligncot_mmlu_cot', 'aligncot_csqa_zs', 'aligncot_gsm8k_cot_maj8')
    """
    spec = suite.all_tasks().get(task)
    if spec is None or MAJ_TASK.match(task):  # never pool k votes with single-sample cot
        return task
    return suite.task_name(spec.benchmark.key, spec.variant)


@dataclass(frozen=True)
class Line:
    """One compared unit (a task or a pooled benchmark)."""

    name: str
    result: paired.Paired
    unpaired: int


def compare_runs(
    a: Run, b: Run, tasks: list[str] | None = None, resamples: int = paired.RESAMPLES, seed: int = paired.SEED
) -> tuple[list[Line], list[Line]]:
    """Per-task and per-benchmark comparisons of the tasks both runs have.

    Raises:
        ResultsError: No task in common (after ``tasks``), or a task without shared questions.
    """
    common = [t for t in a.tasks if t in b.tasks and (not tasks or t in tasks or benchmark_of(t) in tasks)]
    if not common:
        raise ResultsError(
            f"no task with samples in both runs{' among ' + ', '.join(tasks) if tasks else ''}; "
            f"A has {', '.join(a.tasks)}; B has {', '.join(b.tasks)}"
        )
    per_task: list[Line] = []
    pooled: dict[str, tuple[list[bool], list[bool], int]] = {}
    for task in common:
        xa, xb = read_samples(a.tasks[task], task), read_samples(b.tasks[task], task)
        x, y, unpaired = pair(xa, xb)
        if not x:
            raise ResultsError(f"{task}: the runs share no question (doc_id + doc_hash)")
        per_task.append(Line(task, paired.compare(x, y, resamples, seed), unpaired))
        acc = pooled.setdefault(benchmark_of(task), ([], [], 0))
        pooled[benchmark_of(task)] = (acc[0] + x, acc[1] + y, acc[2] + unpaired)
    per_bench = [Line(name, paired.compare(x, y, resamples, seed), u) for name, (x, y, u) in pooled.items()]
    return per_task, per_bench


def format_lines(title: str, lines: list[Line]) -> list[str]:
    """A fixed-width table: n, both accuracies, Δ, its CI and p in percent / points."""
    width = max(len(title), *(len(line.name) for line in lines))
    out = [
        f"{title:<{width}}  {'n':>6}  {'acc A':>6}  {'acc B':>6}  {'Δ A-B':>6}  {'95% CI':>15}  {'p':>8}  sig  unpaired"
    ]
    for line in lines:
        r = line.result
        ci = f"[{100 * r.ci[0]:+.1f}, {100 * r.ci[1]:+.1f}]"
        out.append(
            f"{line.name:<{width}}  {r.n:>6}  {100 * r.acc_a:>6.1f}  {100 * r.acc_b:>6.1f}  {100 * r.delta:>+6.1f}  "
            f"{ci:>15}  {r.p:>8.2g}  {'*' if r.significant else ' ':^3}  {line.unpaired:>8}"
        )
    return out
