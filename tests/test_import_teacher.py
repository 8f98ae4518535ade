"""``aligncot annotate --import``: shipped PaLM-540B rows -> store -> demos, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from aligncot_tasks import suite
from training.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "training" / "data" / "teachers"
TASK = "aligncot_csqa_cot"


def write_rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def shipped(name: str, n: int) -> list[dict]:
    with open(SHIPPED / name, encoding="utf-8") as f:
        return [json.loads(next(f)) for _ in range(n)]


def run(*args: str):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_import_then_demos_round_trip(tmp_path, offline_data):
    rows = write_rows(tmp_path / "palm.jsonl", shipped("csqa_palm-540b_train.jsonl", 40))
    first = run("annotate", "--import", rows, "--task", TASK, "--out", tmp_path / "ann")
    assert first.exit_code == 0, first.output
    export = tmp_path / "ann" / "annotations.jsonl"
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert (
        len(lines) == 40
        and {r["model"] for r in lines} == {"PaLM-540B"}
        and {r["backend"] for r in lines} == {"recorded"}
    )
    assert all(
        r["provenance"]["source"].startswith("github:") and "not the suite's" in r["provenance"]["teacher_prompt"]
        for r in lines
    )
    # The scorer decides: PaLM's "(d) math problem" reads as D; some rows are wrong.
    assert 0 < sum(r["correct"] for r in lines) < 40
    before = export.read_bytes()
    again = run("annotate", "--import", rows, "--task", TASK, "--out", tmp_path / "ann")
    assert again.exit_code == 0 and "imported 0, already stored 40" in again.output
    assert export.read_bytes() == before
    demos = run("demos", tmp_path / "ann", "--out", tmp_path / "demos", "--val-fraction", "0.1")
    assert demos.exit_code == 0, demos.output
    train = [json.loads(line) for line in (tmp_path / "demos" / "train.jsonl").read_text().splitlines()]
    assert train and all(r["correct"] for r in train)
    assert all(r["completion"].endswith(suite.answer_sentence(r["task"], json.loads(r["doc"]))) for r in train)
    assert all(r["prompt"].endswith("Let's think step by step.") for r in train)


def test_shipped_validation_rows_import(tmp_path):
    rows = write_rows(tmp_path / "val.jsonl", shipped("csqa_palm-540b_validation.jsonl", 10))
    result = run("annotate", "--import", rows, "--task", TASK, "--split", "validation", "--out", tmp_path / "ann")
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["doc_id"] for line in (tmp_path / "ann" / "annotations.jsonl").read_text().splitlines()]
    assert all(i.startswith("validation-") for i in ids)


@pytest.mark.parametrize("drop, line", [("doc", 2), ("completion", 3)])
def test_row_without_field_names_the_line_and_writes_nothing(tmp_path, drop, line):
    rows = shipped("csqa_palm-540b_train.jsonl", 3)
    del rows[line - 1][drop]
    path = write_rows(tmp_path / "bad.jsonl", rows)
    result = run("annotate", "--import", path, "--task", TASK, "--out", tmp_path / "ann")
    assert result.exit_code != 0 and f"bad.jsonl:{line}: missing {drop}" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "ann").exists()


@pytest.mark.parametrize("task, message", [("aligncot_nope_cot", "nope"), ("aligncot_gsm8k_cot", "csqa row")])
def test_unknown_or_wrong_task_is_one_line(tmp_path, task, message):
    path = write_rows(tmp_path / "rows.jsonl", shipped("csqa_palm-540b_train.jsonl", 2))
    result = run("annotate", "--import", path, "--task", task, "--out", tmp_path / "ann")
    assert result.exit_code != 0 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "ann").exists()


def test_shipped_slices_have_notice_and_sources():
    notice = (SHIPPED / "NOTICE.md").read_text()
    assert "Apache License 2.0" in notice and "vendor" in notice
    for name in ("csqa_palm-540b_train.jsonl", "csqa_palm-540b_validation.jsonl"):
        assert all(
            r["source"].split(":")[1].split("@")[0] in notice and r["teacher"] == "PaLM-540B" for r in shipped(name, 20)
        )


def test_two_teachers_are_two_samples_of_each_question(tmp_path, offline_data):
    """Repeated --import: Gemini's answer to a question PaLM answered is its sample 1, under the same row id,
    whatever line it is on; demos then hold both rationales and split validation by question."""
    palm = write_rows(tmp_path / "palm.jsonl", shipped("csqa_palm-540b_train.jsonl", 30))
    gemini = write_rows(tmp_path / "gemini.jsonl", shipped("csqa_gemini-1.5-flash_train.jsonl", 30)[::-1])
    result = run("annotate", "--import", palm, "--import", gemini, "--task", TASK, "--out", tmp_path / "ann")
    assert result.exit_code == 0, result.output
    assert "[palm.jsonl: 30 rows]" in result.output and "[gemini.jsonl: 30 rows]" in result.output
    lines = [json.loads(line) for line in (tmp_path / "ann" / "annotations.jsonl").read_text().splitlines()]
    by_question: dict[str, list[dict]] = {}
    for r in lines:
        by_question.setdefault(r["doc"]["id"], []).append(r)
    assert len(by_question) == 30
    for answers in by_question.values():
        assert sorted((a["model"], a["sample"]) for a in answers) == [("Gemini-1.5-Flash", 1), ("PaLM-540B", 0)]
        assert len({a["doc_id"] for a in answers}) == 1
    again = run("annotate", "--import", palm, "--import", gemini, "--task", TASK, "--out", tmp_path / "ann")
    assert again.exit_code == 0 and again.output.count("imported 0, already stored 30") == 2
    demos = run("demos", tmp_path / "ann", "--out", tmp_path / "demos", "--val-fraction", "0.1", "--balance", "0")
    assert demos.exit_code == 0, demos.output
    split = {
        name: {json.loads(line)["doc_id"] for line in (tmp_path / "demos" / f"{name}.jsonl").read_text().splitlines()}
        for name in ("train", "validation")
    }
    assert split["train"] and split["validation"] and not split["train"] & split["validation"]


def test_a_bad_second_import_file_writes_nothing(tmp_path):
    palm = write_rows(tmp_path / "palm.jsonl", shipped("csqa_palm-540b_train.jsonl", 3))
    rows = shipped("csqa_gemini-1.5-flash_train.jsonl", 3)
    del rows[1]["completion"]
    bad = write_rows(tmp_path / "bad.jsonl", rows)
    result = run("annotate", "--import", palm, "--import", bad, "--task", TASK, "--out", tmp_path / "ann")
    assert result.exit_code != 0 and "bad.jsonl:2: missing completion" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "ann").exists()
    missing = run(
        "annotate", "--import", palm, "--import", tmp_path / "nope.jsonl", "--task", TASK, "--out", tmp_path / "a2"
    )
    assert missing.exit_code != 0 and "nope.jsonl: no such file" in missing.output and not (tmp_path / "a2").exists()
