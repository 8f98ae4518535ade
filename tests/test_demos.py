"""``aligncot demos``: kinds x styles, balancing, nested fractions, contamination guard, lm-eval prompts."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic_csqa import csqa_rows, write_split

from aligncot_tasks import scoring, suite
from training.annotate.backends import Result
from training.annotate.cli import export
from training.annotate.jobs import GenParams, build_jobs
from training.annotate.run import annotate
from training.annotate.store import Store
from training.distill.cli import demos_command as demos
from training.distill.demos import build
from training.errors import UserError

TASK = "aligncot_csqa_cot"
#: Skewed gold labels: 64 rows -> A 28, B 12, C 12, D 8, E 4.
GOLDS = "AAAAAAABBBCCCDDE"


def teacher_text(i: int, gold: str) -> tuple[str, str]:
    """Row i's answer: wrong when i % 3 == 0, none when i % 7 == 0, cut off when i % 11 == 0."""
    letter = gold if i % 3 else "ABCDE"[("ABCDE".index(gold) + 1) % 5]
    if i % 7 == 0:
        return f"I considered item {i} but cannot decide.", "stop"
    if i % 11 == 0:
        return f"Item {i} first: the answer is ({letter}). Then again", "length"
    return f"Item {i} belongs somewhere.\nTherefore, among A through E, the answer is ({letter}). Indeed.", "stop"


@dataclass
class ScriptedTeacher:
    """A backend answering by :func:`teacher_text` (the row index is in the question)."""

    always_wrong: bool = False
    name: str = "scripted"
    model: str = "teacher"

    def run(self, jobs, on_result):
        for job in jobs:
            i = int(job.doc["id"].rsplit("-", 1)[1])
            gold = job.doc["answerKey"]
            text, reason = teacher_text(i, gold)
            if self.always_wrong:
                text, reason = f"So the answer is ({'B' if gold == 'A' else 'A'}).", "stop"
            on_result(job, Result(text, reason, 10, 5))


def make_annotations(out: Path, rows: list[dict], samples: int = 1, **teacher) -> Path:
    params = GenParams(0.7 if samples > 1 else 0.0, 64, 0, chat=False)
    jobs = build_jobs(suite.get_task(TASK), rows, "train", params, samples, "scripted", "teacher")
    with Store(out) as store:
        annotate(jobs, ScriptedTeacher(**teacher), store, progress=False)
        export(store)
    return out


@pytest.fixture()
def data(tmp_path, monkeypatch) -> dict:
    root = tmp_path / "data"
    rows = csqa_rows(64, golds=GOLDS)
    write_split(root, "train", rows)
    write_split(root, "validation", csqa_rows(8, prefix="Evaluation question"))
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    return {"root": root, "rows": rows, "ann": make_annotations(tmp_path / "ann", rows, samples=2)}


@pytest.mark.parametrize("style", ["cot", "answer"])
@pytest.mark.parametrize("kind", ["all", "truthful", "misleading"])
def test_every_kind_and_style(data, kind, style):
    train, val, stats = build([data["ann"]], kind, style, 0, 1.0, 0.1, 0)
    rows = train + val
    assert rows and val and stats["train"] == len(train)
    for r in rows:
        doc = json.loads(r["doc"])
        i = int(doc["id"].rsplit("-", 1)[1])
        student = suite.get_task(r["task"])
        assert student.variant == ("cot" if style == "cot" else "zs")
        assert r["prompt"] == suite.render_prompt(student, doc)
        assert r["completion"].startswith(" ") and not r["completion"].startswith("  ")
        verdict = suite.score(student, doc, r["completion"])
        stated = dataclasses.replace(suite.item(student, doc), gold=verdict.extracted)
        assert r["completion"].count("answer is") == 1
        assert r["completion"].endswith(scoring.answer_sentence(student.answer_type, stated))
        assert verdict.correct == r["correct"] == (i % 3 != 0)  # the sentence states the teacher's answer
        assert i % 7 != 0  # no stated answer -> no demonstration
        if style == "answer":
            assert r["completion"] == " " + scoring.answer_sentence(student.answer_type, stated)
        else:
            assert i % 11 != 0  # truncated rationales are dropped
            sentence = scoring.answer_sentence(student.answer_type, stated)
            assert r["completion"] == f" Item {i} belongs somewhere. {sentence}"
    assert {r["correct"] for r in rows} == {"all": {True, False}, "truthful": {True}, "misleading": {False}}[kind]
    assert {r["sample"] for r in rows} == {0, 1}
    truncated = [r for r in rows if int(json.loads(r["doc"])["id"].rsplit("-", 1)[1]) % 11 == 0]
    assert bool(truncated) == (style == "answer")


def test_prompt_is_lm_evals_prompt_byte_for_byte(data, task_manager):
    tasks = task_manager.load(["aligncot_csqa_cot", "aligncot_csqa_zs"])["tasks"]
    for style in ("cot", "answer"):
        train, _, _ = build([data["ann"]], "all", style, 0, 1.0, 0.0, 0)
        for r in train:
            task, doc = tasks[r["task"]], json.loads(r["doc"])
            assert r["prompt"] == task.fewshot_context(doc, 0, gen_prefix=task.doc_to_prefix(doc))


def test_class_balance(data):
    train, _, stats = build([data["ann"]], "all", "answer", 20, 1.0, 0.0, 0)
    labels = Counter(json.loads(r["doc"])["answerKey"] for r in train)
    assert labels == dict.fromkeys("ABCDE", 4) and stats["train_labels"] == labels
    train, _, _ = build([data["ann"]], "all", "answer", 30, 1.0, 0.0, 0)
    counts = Counter(json.loads(r["doc"])["answerKey"] for r in train)
    assert len(train) == 30 and max(counts.values()) - min(counts[c] for c in "ABCD") <= 1
    train, val, _ = build([data["ann"]], "all", "answer", 30, 1.0, 0.1, 0)
    assert len(train) == 30 and val  # N training rows, validation held out besides them


def test_uneven_balance_is_warned_about(data, tmp_path):
    even = CliRunner().invoke(
        demos, [str(data["ann"]), "--out", str(tmp_path / "a"), "--kind", "all", "--balance", "20"]
    )
    assert even.exit_code == 0 and "warning" not in even.output
    short = CliRunner().invoke(
        demos, [str(data["ann"]), "--out", str(tmp_path / "b"), "--kind", "all", "--balance", "40"]
    )
    assert short.exit_code == 0
    assert "warning: --balance 40: only 6 rows answer E, so the training rows are not class-balanced" in short.output


def test_fractions_are_nested_and_validation_fixed(data):
    sets, vals = [], []
    for f in (0.25, 0.5, 0.75, 1.0):
        train, val, _ = build([data["ann"]], "all", "cot", 0, f, 0.1, 7)
        sets.append({(r["doc_id"], r["sample"]) for r in train})
        vals.append([(r["doc_id"], r["sample"]) for r in val])
        assert not {d for d, _ in sets[-1]} & {d for d, _ in vals[-1]}  # no question on both sides
    assert all(a < b for a, b in zip(sets, sets[1:])) and all(v == vals[0] for v in vals)
    assert [len(s) for s in sets] == [round(f * len(sets[-1])) for f in (0.25, 0.5, 0.75, 1.0)]
    other, _, _ = build([data["ann"]], "all", "cot", 0, 0.25, 0.1, 8)
    assert {(r["doc_id"], r["sample"]) for r in other} != sets[0]  # the seed matters


def test_contamination_guard_refuses_with_count(data, tmp_path):
    leaked = dict(data["rows"][1])
    leaked["question"] = leaked["question"].upper().replace(":", " ;")  # the same question, normalised
    same_stem = dict(data["rows"][2], choices={"label": list("ABCDE"), "text": list("vwxyz")})  # other options
    write_split(data["root"], "validation", csqa_rows(8, prefix="Evaluation question") + [leaked, same_stem])
    with pytest.raises(UserError, match=r"^2 of \d+ demonstrations"):  # 2 samples of that row
        build([data["ann"]], "all", "cot", 0, 1.0, 0.1, 0)
    train, val, stats = build([data["ann"]], "all", "cot", 0, 1.0, 0.1, 0, drop_contaminated=True)
    assert stats["dropped_contaminated"] == 2
    assert data["rows"][1]["id"] not in {json.loads(r["doc"])["id"] for r in train + val}


def test_empty_result_is_a_clear_error(data, tmp_path):
    wrong = make_annotations(tmp_path / "wrong", data["rows"], always_wrong=True)
    with pytest.raises(UserError, match="no truthful demonstrations"):
        build([wrong], "truthful", "cot", None, 1.0, 0.1, 0)


def test_cli_writes_dataset_and_jsonl(data, tmp_path):
    import datasets

    out = tmp_path / "demos"
    other = make_annotations(tmp_path / "ann2", data["rows"][:10])
    result = CliRunner().invoke(demos, [str(data["ann"]), str(other), "--out", str(out), "--kind", "truthful"])
    assert result.exit_code == 0, result.output
    ds = datasets.load_from_disk(str(out / "dataset"))
    assert set(ds) == {"train", "validation"}
    assert set(ds["train"].column_names) >= {"prompt", "completion", "task", "doc", "doc_id", "correct", "source"}
    for split in ("train", "validation"):
        lines = [json.loads(x) for x in (out / f"{split}.jsonl").read_text().splitlines()]
        assert lines == ds[split].to_list() and all(r["correct"] for r in lines)
    assert {r["source"] for r in ds["train"]} | {r["source"] for r in ds["validation"]} == {
        str(data["ann"]),
        str(other),
    }
    manifest = json.loads((out / "demos.json").read_text())
    assert manifest["balance"] == 4000 and manifest["train"] == len(ds["train"])
    missing = CliRunner().invoke(demos, [str(tmp_path), "--out", str(tmp_path / "x")])
    assert missing.exit_code != 0 and "holds no annotations" in missing.output  # no store: no --export hint
    assert not (tmp_path / "x").exists()


REAL = Path(__file__).parent / "fixtures" / "generations"


def real_annotations(tmp_path: Path, monkeypatch) -> Path:
    """Real teacher outputs (GPT-3 on GSM8K, code-davinci-002 on BBH) as an annotation dir.

    The evaluation splits are replaced by one unrelated row each: these outputs answer
    evaluation questions, and the guard (tested above) would rightly refuse them.
    """
    rows = []
    for name in ("gsm8k_gpt3_sample", "bbh_real", "mc_real"):
        rows += [json.loads(x) for x in (REAL / f"{name}.jsonl").read_text().splitlines() if x.strip()]
    root, out = tmp_path / "evaldata", tmp_path / "real"
    annotations = []
    for n, r in enumerate(r for r in rows if r["variant"] == "cot"):
        spec = suite.get_task(suite.task_name(r["benchmark"], "cot", r.get("subtask")))
        b = spec.benchmark
        dummy = (
            {"question": "unrelated?", "answer": "#### 1"}
            if b.key == "gsm8k"
            else {"input": "unrelated?", "target": "x"}
        )
        path = root / b.hub_id.replace("/", "__") / (spec.dataset_config or "default") / f"{b.eval_split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dummy) + "\n")
        verdict = suite.score(spec, r["doc"], r["generation"])
        annotations.append(
            {
                "task": spec.name,
                "doc_id": f"real-{n}",
                "sample": 0,
                "doc": r["doc"],
                "completion": r["generation"],
                "finish_reason": "stop",
                "extracted": verdict.extracted,
                "correct": verdict.correct,
            }
        )
    out.mkdir()
    (out / "annotations.jsonl").write_text("".join(json.dumps(a) + "\n" for a in annotations))
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    return out


@pytest.mark.parametrize("style", ["cot", "answer"])
def test_real_teacher_outputs_become_demos_that_read_back(tmp_path, monkeypatch, style):
    ann = real_annotations(tmp_path, monkeypatch)
    source = {r["doc_id"]: r for r in map(json.loads, (ann / "annotations.jsonl").read_text().splitlines())}
    train, val, stats = build([ann], "all", style, 0, 1.0, 0.0, 0)
    assert len(train) >= 0.8 * len(source) and {r["correct"] for r in train} == {True, False}
    assert stats["dropped_no_answer_or_truncated"] == sum(r["extracted"] is None for r in source.values())
    for r in train:
        doc, teacher = json.loads(r["doc"]), source[r["doc_id"]]
        assert r["prompt"] == suite.render_prompt(r["task"], doc)
        assert r["completion"].startswith(" ") and not r["completion"].startswith("  ")
        verdict = suite.score(r["task"], doc, r["completion"])
        assert verdict.correct == teacher["correct"], r["completion"][-200:]
        if not teacher["correct"]:  # a misleading demonstration states the teacher's own answer
            assert (
                verdict.extracted
                == suite.score(r["task"], doc, " " + stated(r["task"], teacher["extracted"], doc)).extracted
            )


def stated(task: str, answer: str, doc: dict) -> str:
    """The canonical sentence for ``answer`` (the scorer's one function)."""
    import dataclasses

    from aligncot_tasks import scoring

    spec = suite.get_task(task)
    return scoring.answer_sentence(spec.answer_type, dataclasses.replace(suite.item(spec, doc), gold=answer))
