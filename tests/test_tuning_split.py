"""``aligncot data tuning-split`` and ``annotate --import --exclude-questions``: the step behind TUNING.md's split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligncot_tasks.data import read_jsonl
from training.cli import main as cli
from training.data_split import KEYS_NAME, question_key, read_keys

TASK = "aligncot_csqa_cot"
SPLIT = Path("tau__commonsense_qa") / "default" / "validation.jsonl"


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_split_then_exclude_on_fixture_rows(tmp_path, offline_data, monkeypatch):
    out = tmp_path / "tune"
    result = run("data", "tuning-split", "--benchmark", "csqa", "--every", 3, "--out", out)
    assert result.exit_code == 0, result.output
    train = read_jsonl(offline_data / "tau__commonsense_qa" / "default" / "train.jsonl")
    held = read_jsonl(out / SPLIT)
    assert held == train[::3] and len(held) < len(train)
    keys = read_keys(out / KEYS_NAME)
    assert keys == {question_key(r) for r in held}

    # A teacher file holding every training row, in another order: the held-out questions are skipped.
    teacher = tmp_path / "teacher.jsonl"
    teacher.write_text("".join(json.dumps({"doc": r, "completion": "The answer is (A)."}) + "\n" for r in train[::-1]))
    imported = run(
        "annotate", "--task", TASK, "--import", teacher, "--exclude-questions", out / KEYS_NAME, "--out", tmp_path / "a"
    )
    assert imported.exit_code == 0, imported.output
    assert f"{len(held)} excluded" in imported.output
    stored = read_jsonl(tmp_path / "a" / "annotations.jsonl")
    assert len(stored) == len(train) - len(held)
    assert not {question_key(json.loads(r["doc"]) if isinstance(r["doc"], str) else r["doc"]) for r in stored} & keys

    # The tuning split is what lm-eval's loader then reads as the evaluation split.
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(out))
    from aligncot_tasks.data import load_rows

    assert load_rows("tau/commonsense_qa", None, "validation") == held


def test_bad_input_is_one_line(tmp_path, offline_data):
    assert "unknown benchmark" in run("data", "tuning-split", "--benchmark", "nope", "--out", tmp_path).output
    assert "no single training split" in run("data", "tuning-split", "--benchmark", "mmlu", "--out", tmp_path).output
    empty = tmp_path / "keys.txt"
    empty.write_text("# nothing\n")
    result = run("annotate", "--task", TASK, "--import", empty, "--exclude-questions", empty, "--out", tmp_path / "a")
    assert result.exit_code == 1 and "lists no question keys" in result.output
    assert not (tmp_path / "a").exists()
    # Excluding every question of the file is an error, and nothing is written.
    teacher = tmp_path / "one.jsonl"
    doc = read_jsonl(offline_data / "tau__commonsense_qa" / "default" / "train.jsonl")[0]
    teacher.write_text(json.dumps({"doc": doc, "completion": "The answer is (A)."}) + "\n")
    keys = tmp_path / "all.txt"
    keys.write_text(question_key(doc) + "\n")
    result = run("annotate", "--task", TASK, "--import", teacher, "--exclude-questions", keys, "--out", tmp_path / "c")
    assert result.exit_code == 1 and "every row is excluded" in result.output
    assert not (tmp_path / "c").exists()
    result = run("annotate", "--task", TASK, "--model", "m", "--exclude-questions", empty, "--out", tmp_path / "b")
    assert result.exit_code == 1 and "needs --import" in result.output


def test_real_split_holds_out_195_and_leaves_9546_palm_rows(tmp_path, shared_dir, monkeypatch):
    """TUNING.md's numbers: 195 of 9741 CSQA train questions held out; 9546 PaLM-540B rows imported."""
    teacher = shared_dir / "teachers" / "csqa_palm-540b_train.jsonl"
    if not teacher.is_file():
        pytest.skip("the full PaLM-540B CSQA train file is not in ../shared")
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(shared_dir / "data"))
    out = tmp_path / "tune"
    result = run("data", "tuning-split", "--benchmark", "csqa", "--every", 50, "--out", out)
    assert result.exit_code == 0, result.output
    assert "held out 195 of 9741" in result.output and len(read_keys(out / KEYS_NAME)) == 195
    imported = run(
        "annotate", "--task", TASK, "--import", teacher, "--exclude-questions", out / KEYS_NAME, "--out", tmp_path / "a"
    )
    assert imported.exit_code == 0, imported.output
    assert "9546 rows, 195 excluded" in imported.output and "correct 7185/9546" in imported.output
