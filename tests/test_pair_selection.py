"""Which saved pairs a round trains on (training/distill/pair_selection.py): confident questions, then letters."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from datasets import Dataset, DatasetDict

from training.distill import pair_selection
from training.errors import UserError

COT = "aligncot_csqa_cot"


def pair(gold: str, rejected: str, n_correct: int | None) -> dict:
    doc = {"question": f"q{gold}", "choices": {"label": list("ABCDE"), "text": list("vwxyz")}, "answerKey": gold}
    row = {
        "prompt": f"Q {gold}",
        "chosen": f"So the answer is ({gold}).",
        "rejected": f"So the answer is ({rejected}).",
        "task": COT,
        "doc": json.dumps(doc),
    }
    if n_correct is not None:
        row["question_correct"] = n_correct
    return row


def recipe(min_correct: int = 1, balance: str = "none") -> SimpleNamespace:
    return SimpleNamespace(min_correct_samples=min_correct, balance_pairs=balance)


def pairs(rows: list[dict]) -> DatasetDict:
    return DatasetDict({"train": Dataset.from_list(rows), "validation": Dataset.from_list(rows[:1])})


ROWS = [
    pair("A", "B", 1),
    pair("A", "C", 1),
    pair("B", "A", 2),
    pair("B", "C", 2),
    pair("C", "A", 3),
    pair("A", "B", 3),
]


def test_the_default_keeps_every_pair_and_reports_nothing():
    got, selected = pair_selection.train_pairs(recipe(), pairs(ROWS), seed=0, where=None)
    assert got["train"].to_list() == ROWS and selected == {}


def test_min_correct_keeps_the_pairs_of_questions_right_that_often_and_leaves_validation_alone():
    got, selected = pair_selection.train_pairs(recipe(min_correct=2), pairs(ROWS), seed=0, where=None)
    assert list(got["train"]["question_correct"]) == [2, 2, 3, 3]
    assert got["validation"].to_list() == ROWS[:1]  # a pair of a once-right question stays there
    assert selected == {
        "min_correct_samples": {"min_correct": 2, "before": 6, "after": 4, "pairs_by_correct": {"1": 2, "2": 2, "3": 2}}
    }


def test_the_letter_balance_runs_on_the_confident_pairs():
    got, selected = pair_selection.train_pairs(recipe(min_correct=2, balance="chosen"), pairs(ROWS), seed=0, where=None)
    assert selected["pair_balance"]["before"] == 4  # after min_correct, not the 6 sampled
    assert sorted(selected["pair_balance"]["gold_after"].values()) == [1, 1, 1]
    assert len(got["train"]) == 3


def test_pairs_saved_without_counts_are_one_line_naming_them(tmp_path):
    rows = [pair("A", "B", None), pair("B", "A", None)]
    with pytest.raises(UserError, match=r"pairs at .*old\.pairs were saved without: delete them to sample again"):
        pair_selection.train_pairs(recipe(min_correct=2), pairs(rows), seed=0, where=tmp_path / "old.pairs")
    # without the selection they train as before
    got, _ = pair_selection.train_pairs(recipe(), pairs(rows), seed=0, where=tmp_path / "old.pairs")
    assert len(got["train"]) == 2


def test_a_selection_that_keeps_nothing_is_one_line():
    with pytest.raises(UserError, match=r"min_correct_samples=3 keeps none of the 2 train pairs .*'1': 2"):
        pair_selection.train_pairs(recipe(min_correct=3), pairs(ROWS[:2]), seed=0, where=None)
