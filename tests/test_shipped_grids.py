"""Every shipped experiment grid's evidence: every sample re-scored, every leaderboard recomputed.

``results/<grid>/`` holds what ``aligncot run harness_configs/experiments/<grid>.yaml`` wrote,
copied by ``harness_configs/experiments/ship_results.py --grid``: one lm-eval folder per row
(``student-base``, the recorded ``teacher`` where the grid has one, each variant run so far, and
``<variant>.sft`` beside a self-refined variant) and ``leaderboard/``. These tests re-score every
logged generation with today's scorer and rebuild each leaderboard from the shipped folders with
the grid's own arguments, so every shipped Δ, CI and Holm-adjusted p is recomputed; a variant
added later is picked up without editing this file, and a shipped folder that no grid below
names fails.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples_support import assert_rescored, read_samples

from training.pipeline.grid import load
from training.pipeline.grid_run import GridRun

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
EXPERIMENTS = ROOT / "harness_configs" / "experiments"
#: results/<folder> -> (its grid recipe, the questions each evaluated task must answer).
GRIDS = {
    "csqa-ablations": ("csqa_ablations.yaml", {"aligncot_csqa_cot": 300, "aligncot_obqa_cot": 300}),
    "family": ("csqa_family_gemma-3-270m.yaml", {"aligncot_csqa_cot": 300}),
    "math": (
        "gsm8k_smollm2-135m-instruct.yaml",
        {
            "aligncot_gsm8k_cot": 300,
            "aligncot_gsm8k_zs": 300,
            "aligncot_multiarith_cot": 180,
            "aligncot_multiarith_zs": 180,
        },
    ),
    "domains": ("domains_smollm2-135m-instruct_gemini.yaml", {"aligncot_csqa_cot": 300, "aligncot_obqa_cot": 300}),
}
#: Rows the grids' shared stages write (the variants' rows are named after the variants).
SHARED_ROWS = ("student-base", "teacher")
SHIPPED = sorted(p.name for p in RESULTS.iterdir() if p.is_dir()) if RESULTS.is_dir() else []


def rows(folder: str) -> list[str]:
    return sorted(p.name for p in (RESULTS / folder).iterdir() if p.is_dir() and p.name != "leaderboard")


def variant_of(row: str) -> str:
    """The variant whose run wrote ``row`` (``x.sft`` is variant ``x``'s SFT-only row)."""
    return row.removesuffix(".sft")


def task_of(samples_file: Path) -> str:
    return samples_file.name.removeprefix("samples_").rsplit("_", 1)[0]


SAMPLES = [
    (folder, row, f)
    for folder in SHIPPED
    for row in rows(folder)
    for f in sorted((RESULTS / folder / row).glob("samples_*.jsonl"))
]


def test_every_shipped_folder_is_a_known_grid():
    assert "csqa-ablations" in SHIPPED
    assert set(SHIPPED) <= set(GRIDS)


@pytest.mark.parametrize("folder", SHIPPED)
def test_the_rows_are_the_grids(folder):
    grid, _ = load(EXPERIMENTS / GRIDS[folder][0])
    found = rows(folder)
    assert "student-base" in found
    assert {variant_of(r) for r in found} - set(SHARED_ROWS) <= set(grid.variants)
    assert len(set(found) - set(SHARED_ROWS)) >= 1  # at least one variant has run
    for row in found:  # a self-refined variant ships its SFT-only row beside it
        refined = row not in SHARED_ROWS and grid.variants[variant_of(row)].self_refine is not None
        assert not refined or f"{variant_of(row)}.sft" in found and variant_of(row) in found


@pytest.mark.parametrize("folder", SHIPPED)
def test_every_row_answers_the_same_questions(folder):
    by_task: dict[str, set[tuple]] = {}
    for shipped, row, f in SAMPLES:
        if shipped == folder:
            ids = tuple(sorted((r["doc_id"], r["doc_hash"]) for r in read_samples(RESULTS / folder / row, task_of(f))))
            assert len(ids) == GRIDS[folder][1][task_of(f)], (row, f.name)
            by_task.setdefault(task_of(f), set()).add(ids)
    assert set(by_task) == set(GRIDS[folder][1])
    assert all(len(v) == 1 for v in by_task.values())


@pytest.mark.parametrize(("folder", "row", "samples_file"), SAMPLES, ids=lambda x: getattr(x, "name", x))
def test_todays_scorer_gives_the_logged_verdicts(folder, row, samples_file):
    assert_rescored(RESULTS / folder / row, task_of(samples_file))


@pytest.mark.parametrize("folder", SHIPPED)
def test_the_leaderboard_is_recomputed_from_the_shipped_files(folder, tmp_path):
    from training.evaluate.cli import leaderboard

    grid, _ = load(EXPERIMENTS / GRIDS[folder][0])
    # The grid's layout over the shipped folders, so the grid's own code builds the arguments.
    run = tmp_path / "run"
    for row in rows(folder):
        where = run / "eval" / "results" if row in SHARED_ROWS else run / variant_of(row) / "eval" / "results"
        shutil.copytree(RESULTS / folder / row, where / row)  # copied: the leaderboard does not follow links
    args = GridRun(grid, run).leaderboard_args()[1:]
    result = CliRunner().invoke(leaderboard, [*args, "--no-charts", "--no-questions"])
    assert result.exit_code == 0, result.output
    rebuilt = (run / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert rebuilt == (RESULTS / folder / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")


def test_the_maths_samples_counts_of_the_results_page():
    """The counts the results page reads from the maths grid's samples (math_samples.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("math_samples", EXPERIMENTS / "math_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    got = {
        (f.parent.name, f.name.split("_")[2]): module.row_counts(f)
        for f in (RESULTS / "math").glob("*/samples_aligncot_*_cot_*.jsonl")
    }
    assert (
        got[("student-base", "gsm8k")]["median_words"] == 102 and got[("student-base", "gsm8k")]["states_answer"] == 140
    )
    assert (got[("cot-llama-3-70b", "gsm8k")]["median_words"], got[("cot-llama-3-70b", "gsm8k")]["states_answer"]) == (
        19,
        283,
    )
    assert [got[("cot-llama-3-70b", t)]["wrong_miscomputed"] for t in ("multiarith", "gsm8k")] == [112, 158]
    assert [got[("cot-llama-3-70b", t)]["wrong"] for t in ("multiarith", "gsm8k")] == [161, 288]
    for row, plans in (("cot-gemini-1.5-flash", (254, 5, 165, 0)), ("cot-diverse", (125, 4, 66, 1))):
        g, m = got[(row, "gsm8k")], got[(row, "multiarith")]
        assert (g["plan_only"], g["plan_only_right"], m["plan_only"], m["plan_only_right"]) == plans
    teachers = ROOT / "training" / "data" / "teachers"
    rows = [json.loads(line)["completion"] for line in (teachers / "gsm8k_gemini-1.5-flash_train.jsonl").open()]
    assert sum(map(module.plan_only, rows)) == 998
