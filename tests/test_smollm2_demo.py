"""(slow) `make demo`'s recipe on real weights.

The full run trains and evaluates for ~35 minutes (README, and its stage times); here the
models, annotate, demos and refine-demos stages check what the recipe promises (the student is
pulled by the run itself, the teacher rows are the shipped PaLM-540B slice, the demonstrations a
class-balanced sample of truthful ones), and the whole recipe runs end to end at toy size.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_models import needs_wheel

from training.data_split import read_keys
from training.distill.demos import QUESTIONS_NAME
from training.models import registry
from training.pipeline.recipe import load_recipe
from training.pipeline.run import Pipeline
from training.pipeline.stages import run_stages

ROOT = Path(__file__).resolve().parents[1]
#: The stages that build the training data (no training, no evaluation).
DATA_STAGES = ("models", "annotate", "demos", "refine-demos")


def letters(path: Path) -> collections.Counter:
    return collections.Counter(json.loads(json.loads(line)["doc"])["answerKey"] for line in path.open())


@pytest.mark.slow
@needs_wheel
def test_demo_recipe_pulls_imports_and_balances(tmp_path, offline_data, monkeypatch):
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    recipe, _ = load_recipe(ROOT / "harness_configs" / "pipeline" / "smollm2_demo.yaml")
    pipeline = Pipeline(recipe, tmp_path / "run")
    stages = [s for s in pipeline.stages() if s.name in DATA_STAGES]
    assert [s.name for s in stages] == list(DATA_STAGES)
    run_stages(stages, pipeline.run_dir / ".stages", echo=lambda _: None)
    assert (tmp_path / "home" / "models" / "smollm2-135m-instruct" / "model.safetensors").is_file()
    assert pipeline.student_model == str(tmp_path / "home" / "models" / "smollm2-135m-instruct")
    annotations = pipeline.annotation_dir("aligncot_csqa_cot") / "annotations.jsonl"
    assert sum(1 for _ in annotations.open()) == 2000  # every shipped PaLM row, scored
    train = pipeline.run_dir / "demos" / "train.jsonl"
    counts = letters(train)
    assert sum(counts.values()) == recipe.demos.balance and max(counts.values()) - min(counts.values()) <= 1
    assert all(json.loads(line)["correct"] for line in train.open())
    assert sum(letters(pipeline.refine_demos / "train.jsonl").values()) == recipe.refine_questions
    sft_questions = read_keys(pipeline.run_dir / "demos" / QUESTIONS_NAME)
    assert not read_keys(pipeline.refine_demos / QUESTIONS_NAME) & sft_questions  # disjoint draws
    # Re-running finds every stage done.
    outcomes = run_stages(stages, pipeline.run_dir / ".stages", echo=lambda _: None)
    assert {o.status for o in outcomes} == {"skipped"}


#: The demo's recipe at toy size: every stage of it, on a handful of questions and steps.
TOY = (
    "demos.balance=10",
    "demos.val_fraction=0.2",
    "refine_questions=8",
    "sft.max_steps=2",
    "self_refine.max_steps=1",
    "self_refine.max_new_tokens=48",
    "self_refine.max_eval_pairs=2",
    "eval.limit=4",
)


@pytest.mark.slow
@needs_wheel
def test_demo_recipe_runs_end_to_end_at_toy_size(tmp_path, monkeypatch):
    """Every stage of `make demo`'s recipe on real weights, ending in the paired headline line."""
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-m", "training", "run", "smollm2_demo", "--run-dir", str(tmp_path / "run")]
    proc = subprocess.run(
        cmd + [f"--set={s}" for s in TOY], capture_output=True, text=True, timeout=1200, env=env, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.fullmatch(
        r"SmolLM2-135M-Instruct on 4 CSQA questions: base \d+\.\d% -> student \d+\.\d% "
        r"\([+-]\d+\.\d points, McNemar p=[\d.e-]+\)",
        proc.stdout.strip().splitlines()[-1],
    ), proc.stdout[-1000:]
    results = tmp_path / "run" / "eval" / "results"
    rows = {p.name for p in results.iterdir() if p.is_dir()}
    assert rows == {"student-base", "student-sft-dpo", "teacher"}  # eval.students: no SFT row; PaLM recorded
    assert (tmp_path / "run" / "dpo" / "adapter_config.json").is_file()
