"""``aligncot demos --exclude-questions``: questions left out before sampling, and ``questions.txt``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic_csqa import csqa_rows, write_split

from training.annotate.cli import export
from training.annotate.importer import import_file
from training.annotate.store import Store
from training.data_split import question_key, read_keys, write_keys
from training.distill.cli import demos_command as demos
from training.distill.demos import QUESTIONS_NAME, build
from training.errors import UserError

TASK = "aligncot_csqa_cot"
#: Skewed gold labels, so that balancing has to choose among the questions.
GOLDS = "AAAAAAABBBCCCDDE"


def teacher_file(path: Path, rows: list[dict]) -> Path:
    """A recorded teacher: every row answered, wrongly when i % 5 == 0, twice when i % 4 == 0."""
    lines = []
    for i, row in enumerate(rows):
        letter = row["answerKey"] if i % 5 else "ABCDE"[("ABCDE".index(row["answerKey"]) + 1) % 5]
        for n in range(2 if i % 4 == 0 else 1):
            completion = f"Item {i} belongs there ({n}). So the answer is ({letter})."
            lines.append({"doc": row, "completion": completion, "teacher": "t"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def imported(out: Path, src: Path, exclude: set[str] = frozenset()) -> Path:
    with Store(out) as store:
        import_file(src, TASK, store, exclude=exclude)
        export(store)
    return out


@pytest.fixture()
def data(tmp_path, monkeypatch) -> dict:
    root = tmp_path / "data"
    rows = csqa_rows(80, golds=GOLDS)
    write_split(root, "train", rows)
    write_split(root, "validation", csqa_rows(8, prefix="Evaluation question"))
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    src = teacher_file(tmp_path / "teacher.jsonl", rows)
    excluded = {question_key(r) for r in rows[::6]}
    return {"rows": rows, "src": src, "ann": imported(tmp_path / "ann", src), "excluded": excluded}


def keys_of(rows: list[dict]) -> set[str]:
    return {question_key(json.loads(r["doc"])) for r in rows}


def test_exclusion_happens_before_balancing(data, tmp_path):
    """Excluding in demos draws the rows that a store imported without those questions gives."""
    args = ("truthful", "cot", 30, 1.0, 0.1, 3)
    train, val, stats = build([data["ann"]], *args, exclude=data["excluded"])
    ann_less = imported(tmp_path / "ann_less", data["src"], data["excluded"])
    train_less, val_less, stats_less = build([ann_less], *args)

    def without_source(rows):
        return [{k: v for k, v in r.items() if k != "source"} for r in rows]

    assert without_source(train) == without_source(train_less) and without_source(val) == without_source(val_less)
    assert len(train) == 30 and not keys_of(train + val) & data["excluded"]  # no balanced slot went to them
    # 14 questions excluded, 7 of them (i % 12 == 0) answered twice
    assert stats["excluded"] == 21 and stats_less["excluded"] == 0
    assert stats["annotations"] == stats_less["annotations"]


def test_cli_counts_excluded_and_writes_questions(data, tmp_path):
    half = sorted(data["excluded"])
    first, second = write_keys(tmp_path / "a.txt", half[:7], "a"), write_keys(tmp_path / "b.txt", half[7:], "b")
    out = tmp_path / "demos"
    args = [str(data["ann"]), "--out", str(out), "--balance", "30", "--val-fraction", "0.1"]
    result = CliRunner().invoke(demos, [*args, "--exclude-questions", str(first), "--exclude-questions", str(second)])
    assert result.exit_code == 0, result.output
    assert "excluded 21 annotations" in result.output
    manifest = json.loads((out / "demos.json").read_text())
    assert manifest["excluded"] == 21 and manifest["exclude_questions"] == [str(first), str(second)]
    rows = [json.loads(x) for name in ("train", "validation") for x in (out / f"{name}.jsonl").read_text().splitlines()]
    listed = read_keys(out / QUESTIONS_NAME)
    assert listed == keys_of(rows) and manifest["validation"] > 0
    assert (out / QUESTIONS_NAME).read_text().startswith("# ")


def test_a_second_draw_is_disjoint_from_the_first(data, tmp_path):
    args = [str(data["ann"]), "--balance", "20", "--val-fraction", "0.1"]
    first, second = tmp_path / "sft", tmp_path / "refine"
    assert CliRunner().invoke(demos, [*args, "--out", str(first)]).exit_code == 0
    result = CliRunner().invoke(
        demos, [*args, "--out", str(second), "--exclude-questions", str(first / QUESTIONS_NAME)]
    )
    assert result.exit_code == 0, result.output
    a, b = read_keys(first / QUESTIONS_NAME), read_keys(second / QUESTIONS_NAME)
    assert a and b and not a & b
    assert json.loads((second / "demos.json").read_text())["train"] == 20


def test_excluding_every_question_is_a_one_line_error(data, tmp_path):
    everything = {question_key(r) for r in data["rows"]}
    with pytest.raises(UserError, match="^every one of the 100 annotations is of an excluded question$"):
        build([data["ann"]], "truthful", "cot", 30, 1.0, 0.1, 0, exclude=everything)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    result = CliRunner().invoke(
        demos, [str(data["ann"]), "--out", str(tmp_path / "x"), "--exclude-questions", str(empty)]
    )
    assert result.exit_code == 1 and "lists no question keys" in result.output and not (tmp_path / "x").exists()
