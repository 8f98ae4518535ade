"""Synthetic CommonsenseQA rows (hub schema) in the ALIGNCOT_DATA_DIR layout, any number of them."""

from __future__ import annotations

import json
from pathlib import Path

from aligncot_tasks.data import local_split_path

HUB_ID = "tau/commonsense_qa"


def csqa_rows(n: int, prefix: str = "Synthetic question", golds: str = "ABCDE") -> list[dict]:
    """``n`` distinct rows; row ``i``'s gold is ``golds[i % len(golds)]``."""
    return [
        {
            "id": f"{prefix}-{i}",
            "question": f"{prefix} number {i}: where would you keep item {i}?",
            "question_concept": "item",
            "choices": {"label": list("ABCDE"), "text": [f"place {c}{i}" for c in "abcde"]},
            "answerKey": golds[i % len(golds)],
        }
        for i in range(n)
    ]


def write_split(root: Path, split: str, rows: list[dict]) -> Path:
    """Write ``rows`` as the csqa ``split`` under data root ``root``."""
    path = local_split_path(root, HUB_ID, None, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
