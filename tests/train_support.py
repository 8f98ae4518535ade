"""Demonstration fixtures for the training tests, built from shipped rows with the suite.

Prompts come from ``suite.render_prompt`` and answers from ``suite.answer_sentence``, so
the data has exactly the layout ``aligncot demos`` writes. Never literal prompt text.
"""

from __future__ import annotations

import json
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import local_split_path, read_jsonl

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
TINY_RECIPES = ROOT / "harness_configs" / "recipes" / "tiny"
BENCH = suite.BENCHMARKS["csqa"]


def csqa_rows(n: int) -> list[dict]:
    """The first ``n`` CommonsenseQA training rows of the fixtures."""
    rows = read_jsonl(local_split_path(FIXTURE_DATA, BENCH.hub_id, None, BENCH.train_split))
    assert len(rows) >= n
    return rows[:n]


def rationale(doc: dict) -> str:
    """A short row-specific reasoning sentence (stands in for a teacher's CoT)."""
    it = suite.item(suite.task_name("csqa", "cot"), doc)
    return f"The best fit is {it.options[suite.prompts.OPTION_LETTERS.index(it.gold)]}."


def demo_row(variant: str, doc: dict, doc_id: int) -> dict:
    """One demonstration in the ``aligncot demos`` schema."""
    task = suite.task_name("csqa", variant)
    answer = suite.answer_sentence(task, doc)
    completion = f" {rationale(doc)} {answer}" if variant == "cot" else f" {answer}"
    return {
        "prompt": suite.render_prompt(task, doc),
        "completion": completion,
        "task": task,
        "doc": json.dumps(doc),
        "doc_id": doc_id,
        "correct": True,
        "source": "fixture",
    }


def write_demos(out: Path, docs: list[dict], variants: tuple[str, ...] = ("zs",), fmt: str = "dataset") -> Path:
    """Write demos for ``docs`` (train == validation: the tests check memorisation)."""
    import datasets

    rows = [demo_row(v, d, i) for i, d in enumerate(docs) for v in variants]
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "dataset":
        ds = datasets.DatasetDict(
            {"train": datasets.Dataset.from_list(rows), "validation": datasets.Dataset.from_list(rows)}
        )
        ds.save_to_disk(str(out / "dataset"))
    else:
        for split in ("train", "validation"):
            (out / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out


def write_eval_data(root: Path, docs: list[dict]) -> Path:
    """An ALIGNCOT_DATA_DIR whose CommonsenseQA eval split is exactly ``docs``."""
    path = local_split_path(root, BENCH.hub_id, None, BENCH.eval_split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return root
