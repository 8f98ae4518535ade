"""``aligncot compare``: per task and pooled per benchmark, from lm-eval samples files."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from samples_support import csqa_lines, write_run

from training.evaluate.cli import compare_command
from training.evaluate.paired import mcnemar_exact

MMLU = {"aligncot_mmlu_cot": ["aligncot_mmlu_cot_anatomy", "aligncot_mmlu_cot_virology"]}


def lines_of(output: str) -> dict[tuple[str, str], list[str]]:
    """(section, name) -> the numeric fields of each table line."""
    out, section = {}, None
    for line in output.splitlines():
        if line.startswith(("task ", "benchmark (pooled)")):
            section = line.split()[0]
        elif section and line.startswith("aligncot_"):
            fields = re.split(r"\s{2,}", line.strip())
            out[(section, fields[0])] = fields[1:]
    return out


@pytest.fixture()
def runs(tmp_path):
    a = write_run(
        tmp_path / "a",
        "sft",
        {
            "aligncot_mmlu_cot_anatomy": csqa_lines("cccccw", "aligncot_mmlu_cot_anatomy"),
            "aligncot_mmlu_cot_virology": csqa_lines("ccccww", "aligncot_mmlu_cot_virology"),
            "aligncot_csqa_cot": csqa_lines("cc"),
        },
        groups=MMLU,
    )
    b = write_run(
        tmp_path / "b",
        "base",
        {
            "aligncot_mmlu_cot_anatomy": csqa_lines("wwwwwi", "aligncot_mmlu_cot_anatomy"),
            "aligncot_mmlu_cot_virology": csqa_lines("wwcwwc", "aligncot_mmlu_cot_virology"),
            "aligncot_csqa_cot": csqa_lines("cw"),
        },
        groups=MMLU,
    )
    return a.parent.parent, b


def test_per_task_and_pooled_per_benchmark(runs):
    a, b = runs
    result = CliRunner().invoke(compare_command, [str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("A = sft\nB = base\n")
    table = lines_of(result.output)
    n, acc_a, acc_b, delta, ci, p, *rest = table[("task", "aligncot_mmlu_cot_anatomy")]
    assert (n, acc_a, acc_b, delta) == ("6", "83.3", "0.0", "+83.3")
    assert float(p) == pytest.approx(mcnemar_exact(5, 0), rel=0.01) and rest == ["0"]  # 2/32: not significant
    # MMLU pooled over both subjects: 12 questions, A alone right on 5 + 3, B alone on 1.
    n, acc_a, acc_b, delta, ci, p, *rest = table[("benchmark", "aligncot_mmlu_cot")]
    assert (n, acc_a, acc_b, delta) == ("12", "75.0", "16.7", "+58.3")
    assert float(p) == pytest.approx(mcnemar_exact(8, 1), rel=0.01) and rest == ["*", "0"]
    lo, hi = map(float, ci.strip("[]").split(","))
    assert lo < 58.3 < hi
    assert ("benchmark", "aligncot_csqa_cot") in table and "exact McNemar" in result.output


def test_tasks_option_and_errors(runs, tmp_path):
    a, b = runs
    result = CliRunner().invoke(compare_command, [str(a), str(b), "--tasks", "aligncot_csqa_cot"])
    assert result.exit_code == 0 and set(lines_of(result.output)) == {
        ("task", "aligncot_csqa_cot"),
        ("benchmark", "aligncot_csqa_cot"),
    }
    result = CliRunner().invoke(compare_command, [str(a), str(b), "--tasks", "aligncot_gsm8k_cot"])
    assert result.exit_code == 1 and "no task with samples in both runs among aligncot_gsm8k_cot" in result.output
    for sample in b.parent.glob("samples_*"):
        sample.unlink()
    result = CliRunner().invoke(compare_command, [str(a), str(b)])
    assert result.exit_code == 1 and "run lm-eval with --log_samples" in result.output
    assert len(result.output.strip().splitlines()) == 1
