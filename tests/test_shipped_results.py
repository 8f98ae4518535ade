"""The README's result (SmolLM2-135M-Instruct on 300 CSQA validation / OBQA test questions) from its shipped files.

``harness_configs/recipes/smollm2-135m-instruct/results/<slice>/<run>/`` holds the lm-eval
``--output_path`` files (``--log_samples``) behind the README's result tables. These tests
re-score every logged generation with today's scorer, so a scorer change that would move the
published numbers fails here, and recompute the paired tests the README reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligncot_tasks import suite
from training.evaluate.compare import compare_runs, load_run

RESULTS = Path(__file__).resolve().parents[1] / "harness_configs/recipes/smollm2-135m-instruct/results"
#: slice -> its task and the runs the README reports on it.
SLICES = {
    "csqa300": ("aligncot_csqa_cot", {"base", "sft", "sft-dpo", "palm-540b"}),
    "obqa300": ("aligncot_obqa_cot", {"base", "sft-dpo"}),
}
RUNS = [(name, run) for name, (_, runs) in SLICES.items() for run in sorted(runs)]


def _rows(name: str, run: str) -> list[dict]:
    task = SLICES[name][0]
    (path,) = (RESULTS / name / run).glob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", SLICES)
def test_every_run_has_the_same_300_questions(name):
    assert {p.name for p in (RESULTS / name).iterdir() if p.is_dir()} == SLICES[name][1]
    ids = {run: sorted((r["doc_id"], r["doc_hash"]) for r in _rows(name, run)) for run in SLICES[name][1]}
    assert all(len(v) == 300 for v in ids.values())
    assert len({tuple(v) for v in ids.values()}) == 1


@pytest.mark.parametrize(("name", "run"), RUNS)
def test_todays_scorer_gives_the_logged_verdicts(name, run):
    task = SLICES[name][0]
    spec = suite.all_tasks()[task]
    rows = _rows(name, run)
    for row in rows:
        score = suite.score(spec, row["doc"], row["resps"][0][0])
        assert float(score.correct) == row["acc"], (run, row["doc_id"], score.extracted)
        assert float(score.extracted is None) == row["invalid"], (run, row["doc_id"])
    (results,) = (RESULTS / name / run).glob("results_*.json")
    logged = json.loads(results.read_text(encoding="utf-8"))["results"][task]
    assert logged["acc,none"] == pytest.approx(sum(r["acc"] for r in rows) / len(rows))


@pytest.mark.parametrize(
    ("name", "run", "delta", "p"),
    [
        ("csqa300", "sft", 11.0, 0.0035),
        ("csqa300", "sft-dpo", 11.3, 0.0020),
        ("csqa300", "palm-540b", 57.0, 3.7e-38),
        ("obqa300", "sft-dpo", 8.3, 0.025),
    ],
)
def test_paired_tests_against_the_base(name, run, delta, p):
    """The README's Δ (points) and exact McNemar p, to the digits it prints."""
    (line,), _ = compare_runs(load_run(RESULTS / name / run), load_run(RESULTS / name / "base"), resamples=1000)
    assert line.result.n == 300 and line.unpaired == 0
    assert 100 * (line.result.acc_a - line.result.acc_b) == pytest.approx(delta, abs=0.05)
    assert line.result.p == pytest.approx(p, rel=0.03)


@pytest.mark.parametrize(("name", "run"), RUNS)
def test_rows_are_labelled_by_plain_names(name, run):
    """``--baseline base`` works on the shipped files as they are: the row label is the run's
    folder name, not the machine path it was evaluated from."""
    assert load_run(RESULTS / name / run).label == run
