"""The CSQA ablation grid's shipped evidence (issue 20): every sample re-scored, the leaderboard recomputed.

``results/csqa-ablations/`` holds what ``aligncot run harness_configs/experiments/csqa_ablations.yaml``
wrote, copied by ``harness_configs/experiments/ship_results.py --grid``: one lm-eval folder per
row (``student-base``, ``teacher``, each variant run so far) and ``leaderboard/``. These tests
re-score every logged generation with today's scorer and rebuild the leaderboard from the
shipped folders with the grid's own arguments, so every shipped Δ, CI and Holm-adjusted p is
recomputed; a variant added later is picked up without editing this file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples_support import assert_rescored, read_samples

from training.pipeline.grid import load
from training.pipeline.grid_run import GridRun

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "csqa-ablations"
GRID = ROOT / "harness_configs" / "experiments" / "csqa_ablations.yaml"
#: Rows the grid's shared stages write (the variants' rows are named after the variants).
SHARED_ROWS = ("student-base", "teacher")
ROWS = sorted(p.name for p in RESULTS.iterdir() if p.is_dir() and p.name != "leaderboard")
SAMPLES = [(row, f) for row in ROWS for f in sorted((RESULTS / row).glob("samples_*.jsonl"))]


def _task(samples_file: Path) -> str:
    return samples_file.name.removeprefix("samples_").rsplit("_", 1)[0]


def test_the_rows_are_the_grids():
    grid, _ = load(GRID)
    assert set(SHARED_ROWS) <= set(ROWS)
    assert set(ROWS) - set(SHARED_ROWS) <= set(grid.variants)
    assert len(ROWS) > len(SHARED_ROWS)  # at least one variant has run


def test_every_row_answers_the_same_300_questions():
    by_task: dict[str, set[tuple]] = {}
    for row, f in SAMPLES:
        ids = tuple(sorted((r["doc_id"], r["doc_hash"]) for r in read_samples(RESULTS / row, _task(f))))
        assert len(ids) == 300
        by_task.setdefault(_task(f), set()).add(ids)
    assert set(by_task) == {"aligncot_csqa_cot", "aligncot_obqa_cot"}
    assert all(len(v) == 1 for v in by_task.values())


@pytest.mark.parametrize(("row", "samples_file"), SAMPLES, ids=lambda x: getattr(x, "name", x))
def test_todays_scorer_gives_the_logged_verdicts(row, samples_file):
    assert_rescored(RESULTS / row, _task(samples_file))


def test_the_leaderboard_is_recomputed_from_the_shipped_files(tmp_path):
    from training.evaluate.cli import leaderboard

    grid, _ = load(GRID)
    # The grid's layout over the shipped folders, so the grid's own code builds the arguments.
    run = tmp_path / "run"
    for row in ROWS:
        where = run / "eval" / "results" if row in SHARED_ROWS else run / row / "eval" / "results"
        shutil.copytree(RESULTS / row, where / row)  # copied: the leaderboard does not follow links
    args = GridRun(grid, run).leaderboard_args()[1:]
    result = CliRunner().invoke(leaderboard, [*args, "--no-charts", "--no-questions"])
    assert result.exit_code == 0, result.output
    rebuilt = (run / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert rebuilt == (RESULTS / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
