"""(slow) `make demo`'s recipe on real weights, up to the training data: pull -> import -> demos.

The stages after these train and evaluate for ~25 minutes (README); the models, annotate,
demos and refine-demos stages take under a minute and check what the recipe promises: the
student is pulled by the run itself, the teacher rows are the shipped PaLM-540B slice, and the
demonstrations are a class-balanced sample of truthful ones.
"""

from __future__ import annotations

import collections
import json
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
