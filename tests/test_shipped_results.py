"""The README's result (SmolLM2-135M-Instruct on 300 CSQA validation questions) from its shipped files.

``harness_configs/recipes/smollm2-135m-instruct/results/csqa300/`` holds the lm-eval
``--output_path`` files (``--log_samples``) behind the README's result table. These tests
re-score every logged generation with today's scorer, so a scorer change that would move the
published numbers fails here, and recompute the paired tests the README reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligncot_tasks import suite
from training.evaluate.compare import compare_runs, load_run

RESULTS = Path(__file__).resolve().parents[1] / "harness_configs/recipes/smollm2-135m-instruct/results/csqa300"
TASK = "aligncot_csqa_cot"
RUNS = sorted(p.name for p in RESULTS.iterdir() if p.is_dir())


def _rows(run: str) -> list[dict]:
    (path,) = (RESULTS / run).glob(f"samples_{TASK}_*.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_run_has_the_same_300_questions():
    assert {"base", "sft", "sft-dpo", "palm-540b"} <= set(RUNS)
    ids = {run: sorted((r["doc_id"], r["doc_hash"]) for r in _rows(run)) for run in RUNS}
    assert all(len(v) == 300 for v in ids.values())
    assert len({tuple(v) for v in ids.values()}) == 1


@pytest.mark.parametrize("run", RUNS)
def test_todays_scorer_gives_the_logged_verdicts(run):
    spec = suite.all_tasks()[TASK]
    rows = _rows(run)
    for row in rows:
        score = suite.score(spec, row["doc"], row["resps"][0][0])
        assert float(score.correct) == row["acc"], (run, row["doc_id"], score.extracted)
        assert float(score.extracted is None) == row["invalid"], (run, row["doc_id"])
    (results,) = (RESULTS / run).glob("results_*.json")
    logged = json.loads(results.read_text(encoding="utf-8"))["results"][TASK]
    assert logged["acc,none"] == pytest.approx(sum(r["acc"] for r in rows) / len(rows))


@pytest.mark.parametrize(
    ("run", "delta", "p_max"),
    [("sft", 11.0, 0.005), ("sft-dpo", 11.3, 0.005), ("palm-540b", 57.0, 1e-30)],
)
def test_paired_tests_against_the_base(run, delta, p_max):
    (line,), _ = compare_runs(load_run(RESULTS / run), load_run(RESULTS / "base"), resamples=1000)
    assert line.result.n == 300 and line.unpaired == 0
    assert 100 * (line.result.acc_a - line.result.acc_b) == pytest.approx(delta, abs=0.05)
    assert line.result.p < p_max
