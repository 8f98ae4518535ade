"""The run's last line: the base student against the final one on the first task, paired.

``SmolLM2-135M-Instruct on 300 CSQA questions: base 20.7% -> student 32.0% (+11.3 points,
McNemar p=0.0024)``. It is read from lm-eval's samples files, as ``aligncot compare`` reads them,
so it is the same test on the same questions.
"""

from __future__ import annotations

from pathlib import Path

from aligncot_tasks import suite
from training.evaluate.compare import compare_runs, load_run
from training.evaluate.paired import Paired


def final_student(rows: tuple[str, ...], base: str) -> str | None:
    """The row the base is compared with: the last evaluated student row that is not the base.

    >>> final_student(("student-base", "student-sft", "student-sft-dpo"), "student-base")
    'student-sft-dpo'
    >>> final_student(("student-base",), "student-base") is None
    True
    """
    others = [r for r in rows if r != base]
    return others[-1] if others else None


def format_headline(model: str, task: str, result: Paired) -> str:
    """One line: the model, the questions, both accuracies, the difference and its exact p.

    Here ``result`` compares the student (A) with the base (B).

    >>> r = Paired(n=300, acc_a=0.32, acc_b=0.207, only_a=75, only_b=41, ci=(0.04, 0.18), p=0.0024)
    >>> format_headline("SmolLM2-135M-Instruct", "aligncot_csqa_cot", r)
    'SmolLM2-135M-Instruct on 300 CSQA questions: base 20.7% -> student 32.0% (+11.3 points, McNemar p=0.0024)'
    """
    bench = suite.get_task(task).benchmark.key.upper()
    return (
        f"{model} on {result.n} {bench} questions: base {100 * result.acc_b:.1f}% -> student "
        f"{100 * result.acc_a:.1f}% ({100 * result.delta:+.1f} points, McNemar p={result.p:.2g})"
    )


def headline(results_dir: Path, model: str, task: str, base: str, student: str) -> str:
    """The line for ``task`` from the runs in ``results_dir/<base>`` and ``results_dir/<student>``.

    Raises:
        ResultsError: A run or its samples of ``task`` is missing.
    """
    per_task, _ = compare_runs(load_run(results_dir / student), load_run(results_dir / base), [task])
    return format_headline(model, task, per_task[0].result)
