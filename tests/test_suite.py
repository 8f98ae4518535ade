"""The suite table, prompts, offline data mode and YAML generation (no model needed)."""

from __future__ import annotations

import json

import pytest

from aligncot_tasks import TASKS_DIR, data, generate, prompts, suite
from tests.conftest import FIXTURE_DATA

MC_TASKS = ["csqa", "obqa", "piqa", "siqa", "mmlu"]
#: benchmark -> (letters its rows have, one fixture split to read)
LETTERS = {"csqa": "ABCDE", "obqa": "ABCD", "piqa": "AB", "siqa": "ABC", "mmlu": "ABCD"}


def fixture_rows(key: str, config: str | None = None) -> list[dict]:
    b = suite.BENCHMARKS[key]
    return data.read_jsonl(
        data.local_split_path(FIXTURE_DATA, b.hub_id, config or b.config_name or b.configs[0], b.eval_split)
    )


def test_generated_yamls_have_not_drifted(tmp_path):
    """Re-run the generator; the committed YAMLs must be exactly what it writes."""
    generate.write(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(TASKS_DIR): p.read_text()
        for p in TASKS_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(map(str, fresh)) == sorted(map(str, committed)), (
        "YAML files added/removed: run python -m aligncot_tasks.generate"
    )
    drifted = [str(p) for p in fresh if fresh[p] != committed[p]]
    assert not drifted, f"YAMLs drifted from the table: {drifted[:5]} (run python -m aligncot_tasks.generate)"


def test_task_names_and_counts():
    tasks = suite.all_tasks()
    assert all(name.startswith("aligncot_") for name in tasks)
    assert len([t for t in tasks if t.startswith("aligncot_mmlu_zs_")]) == 57
    for key in MC_TASKS:
        for variant in ("zs", "cot", "ll"):
            assert suite.task_name(key, variant, suite.BENCHMARKS[key].configs[0]) in tasks
    groups = suite.groups()
    for name in (
        "aligncot_mmlu_zs",
        "aligncot_mmlu_cot",
        "aligncot_qa_zs",
        "aligncot_qa_cot",
        "aligncot_zs",
        "aligncot_cot",
    ):
        assert name in groups
    assert groups["aligncot_mmlu_zs"]["weight_by_size"] is True
    assert "aligncot_qa_zs" in groups["aligncot_zs"]["task"]


@pytest.mark.parametrize("key", MC_TASKS)
def test_mc_prompt_shape_and_letters(key):
    doc = fixture_rows(key)[0]
    zs = suite.render_prompt(suite.task_name(key, "zs", suite.BENCHMARKS[key].configs[0]), doc)
    letters = LETTERS[key]
    first = zs.splitlines()[0]
    assert first == f"Choose the answer to the question only from options {', '.join(letters)}."
    assert zs.splitlines()[1].startswith("Question: ")
    assert zs.splitlines()[2] == "Choices:"
    assert [line[:2] for line in zs.splitlines()[3:-1]] == [f"{c})" for c in letters]
    assert zs.endswith("\nAnswer:")


@pytest.mark.parametrize("key", list(suite.BENCHMARKS))
def test_cot_prompt_is_zs_prompt_plus_trigger(key):
    b = suite.BENCHMARKS[key]
    doc = fixture_rows(key)[0]
    zs = suite.render_prompt(suite.task_name(key, "zs", b.configs[0]), doc)
    cot = suite.render_prompt(suite.task_name(key, "cot", b.configs[0]), doc)
    assert cot.encode() == zs.encode() + b" Let's think step by step."
    assert cot.endswith("Answer: Let's think step by step.")


def test_chat_messages_open_the_assistant_turn_with_the_trigger():
    doc = fixture_rows("csqa")[0]
    msgs = suite.chat_messages("aligncot_csqa_cot", doc)
    assert msgs == [
        {"role": "user", "content": suite.prompt_text("aligncot_csqa_cot", doc)},
        {"role": "assistant", "content": prompts.COT_TRIGGER},
    ]
    assert suite.chat_messages("aligncot_csqa_zs", doc) == msgs[:1]


def test_answer_sentence_round_trips_through_the_scorer():
    for key in MC_TASKS:
        doc = fixture_rows(key)[0]
        for variant in ("zs", "cot"):
            task = suite.task_name(key, variant, suite.BENCHMARKS[key].configs[0])
            assert suite.score(task, doc, suite.answer_sentence(task, doc)).correct


def test_unknown_task_is_a_clear_error():
    with pytest.raises(suite.UnknownTask, match="aligncot tasks"):
        suite.get_task("aligncot_nope_zs")


def test_offline_data_mode_reads_the_local_layout(offline_data):
    rows = data.load_rows("tau/commonsense_qa", None, "validation")
    assert rows and rows[0]["answerKey"] in "ABCDE"
    ds = data.load_for_lm_eval(hub_id="openai/gsm8k", config="main", splits=["test"], version=1.0)
    assert list(ds) == ["test"] and "#### " in ds["test"][0]["answer"]


def test_offline_data_mode_missing_split_names_the_path(offline_data):
    with pytest.raises(data.DataError, match="piqa__nope"):
        data.load_rows("baber/piqa__nope", None, "validation")


def test_bad_jsonl_line_is_reported_with_its_number(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"a": 1}) + "\n{oops\n")
    with pytest.raises(data.DataError, match=r"x.jsonl:2"):
        data.read_jsonl(p)


def test_task_yamls_name_the_one_task_class_and_no_per_task_hooks():
    """Every task YAML reaches the table through SuiteTask (found by grep), never a made-up name."""
    texts = [p.read_text() for p in TASKS_DIR.rglob("*_template_yaml")]
    assert all("!function 'aligncot_tasks.lm_task.SuiteTask'" in t for t in texts if "class:" in t)
    assert sum("class:" in t for t in texts) == len(suite.BENCHMARKS)
    assert not any("aligncot_tasks.hooks" in p.read_text() for p in TASKS_DIR.rglob("*") if p.is_file())


def test_maj_tasks_reuse_the_cot_prompt():
    doc = fixture_rows("gsm8k")[0]
    spec = suite.get_task("aligncot_gsm8k_cot_maj8")
    assert (spec.variant, spec.samples) == ("cot", suite.MAJ_K)
    assert suite.render_prompt(spec, doc) == suite.render_prompt("aligncot_gsm8k_cot", doc)
    assert suite.generative_task("aligncot_gsm8k_cot_maj8") is spec


@pytest.mark.parametrize("key", MC_TASKS)
def test_chance_is_one_over_the_rows_options(key):
    doc = fixture_rows(key)[0]
    assert suite.chance(suite.task_name(key, "cot", suite.BENCHMARKS[key].configs[0]), doc) == 1 / len(LETTERS[key])
    assert suite.chance("aligncot_gsm8k_cot", fixture_rows("gsm8k")[0]) is None
