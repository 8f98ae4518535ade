"""Shared fixtures: shipped data slices, ../shared when present, a tiny local model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
#: Small real slices of every benchmark, in the hub schema and the ALIGNCOT_DATA_DIR layout.
FIXTURE_DATA = FIXTURES / "data"
#: ../shared beside the checkout (CI and developers have it; users do not).
SHARED = Path(os.environ.get("ALIGNCOT_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared``, or skip the test when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture()
def offline_data(monkeypatch) -> Path:
    """Point ALIGNCOT_DATA_DIR at the shipped fixture slices."""
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(FIXTURE_DATA))
    return FIXTURE_DATA


def fixture_texts() -> list[str]:
    """All fixture rows as text: what a tiny tokenizer is trained on."""
    return [p.read_text(encoding="utf-8") for p in sorted(FIXTURE_DATA.rglob("*.jsonl"))]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Llama + BPE tokenizer saved to disk (built once)."""
    from training.demo.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", fixture_texts())


@pytest.fixture(scope="session")
def task_manager():
    """lm-eval's TaskManager over the suite's YAMLs only (indexes in about a second)."""
    from lm_eval.tasks import TaskManager

    from aligncot_tasks import TASKS_DIR

    return TaskManager(include_path=str(TASKS_DIR), include_defaults=False)


@pytest.fixture()
def evaluate_tiny(task_manager, tiny_model_dir, offline_data):
    """``run(tasks, limit, **kwargs)``: ``lm_eval.simple_evaluate`` of the tiny model on the fixture data.

    Generation is capped at 8 tokens by default: the untrained tiny model only needs to
    produce *something* for the scoring path to run.
    """
    import lm_eval

    def run(tasks: list[str], limit: int, gen_kwargs: str = "max_gen_toks=8", **kwargs) -> dict:
        return lm_eval.simple_evaluate(
            model="hf",
            model_args=f"pretrained={tiny_model_dir},dtype=float32,device=cpu",
            tasks=tasks,
            task_manager=task_manager,
            limit=limit,
            gen_kwargs=gen_kwargs,
            **kwargs,
        )

    return run
