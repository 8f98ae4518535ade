"""``aligncot tasks`` / ``aligncot score`` through click, as a user calls them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from aligncot_tasks import TASKS_DIR, suite
from tests.test_suite import fixture_rows
from training.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_tasks_lists_every_task_and_group():
    res = run("tasks")
    assert res.exit_code == 0
    listed = {line.split("\t")[0] for line in res.output.splitlines() if not line.startswith("#")}
    assert set(suite.all_tasks()) | set(suite.groups()) == listed


def test_tasks_path_is_the_include_path():
    res = run("tasks", "--path")
    assert res.exit_code == 0 and res.output.strip() == str(TASKS_DIR)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_writes_extracted_and_correct(tmp_path):
    docs = fixture_rows("csqa")[:4]
    gens = [
        suite.answer_sentence("aligncot_csqa_cot", docs[0]),
        "I am not sure.",
        "The answer is (Z).",
        "Therefore, among A through E, the answer is A.",
    ]
    inp = _write(tmp_path / "in.jsonl", [{"doc": d, "generation": g, "model": "m"} for d, g in zip(docs, gens)])
    res = run("score", "--task", "aligncot_csqa_cot", "--input", str(inp), "--output", str(tmp_path / "out.jsonl"))
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [o["model"] for o in out] == ["m"] * 4  # input fields are kept
    assert out[0]["correct"] is True and out[0]["extracted"] == suite.item("aligncot_csqa_cot", docs[0]).gold
    assert out[1]["extracted"] is None and out[1]["correct"] is False
    assert out[2]["extracted"] is None  # Z is not an option of the row
    expected_acc = sum(o["correct"] for o in out) / 4
    assert f"acc={expected_acc:.4f}" in res.output and "invalid=0.5000" in res.output


@pytest.mark.parametrize(
    "args, lines, message",
    [
        (["--task", "aligncot_nope"], [{"doc": {}, "generation": ""}], "unknown task 'aligncot_nope'"),
        (["--task", "aligncot_csqa_zs"], None, "input file not found"),
        (["--task", "aligncot_csqa_zs"], [{"generation": "A"}], "in.jsonl:1: line has no `doc`"),
        (["--task", "aligncot_csqa_zs"], [{"doc": {"question": "q"}}], "in.jsonl:1: line has no `generation`"),
        (
            ["--task", "aligncot_csqa_zs"],
            [{"doc": {"goal": "wrong schema"}, "generation": "A"}],
            "row 1: doc does not fit",
        ),
        (["--task", "aligncot_csqa_ll"], [{"doc": {}, "generation": ""}], "log-likelihood"),
    ],
)
def test_score_bad_input_is_one_line_error_and_writes_nothing(tmp_path, args, lines, message):
    inp = tmp_path / "in.jsonl"
    if lines is not None:
        _write(inp, lines)
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(main, ["score", *args, "--input", str(inp), "--output", str(out)])
    assert res.exit_code != 0
    assert message in res.output
    assert len([line for line in res.output.splitlines() if line.startswith("Error")]) == 1
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))


def test_score_never_raises_on_hostile_generations(tmp_path):
    doc = fixture_rows("siqa")[0]
    # any string is scored; a number or null is refused naming its line (tests/test_bad_input.py)
    hostile = ["", "\x00" * 100, "(" * 50_000, "the answer is " * 5_000, "🙂" * 1000]
    inp = _write(tmp_path / "in.jsonl", [{"doc": doc, "generation": g} for g in hostile])
    res = run("score", "--task", "aligncot_siqa_cot", "--input", str(inp), "--output", str(tmp_path / "o.jsonl"))
    assert res.exit_code == 0, res.output


def test_score_directory_input_and_missing_output_folder_are_errors(tmp_path):
    doc = fixture_rows("siqa")[0]
    inp = _write(tmp_path / "in.jsonl", [{"doc": doc, "generation": "A"}])
    res = CliRunner().invoke(
        main, ["score", "--task", "aligncot_siqa_cot", "--input", str(tmp_path), "--output", str(tmp_path / "o.jsonl")]
    )
    assert res.exit_code == 1 and "is a directory" in res.output
    missing = tmp_path / "no" / "such" / "o.jsonl"
    res = CliRunner().invoke(
        main, ["score", "--task", "aligncot_siqa_cot", "--input", str(inp), "--output", str(missing)]
    )
    assert res.exit_code == 1 and "does not exist" in res.output and not (tmp_path / "no").exists()


def test_annotate_without_model_names_what_is_missing(tmp_path):
    res = CliRunner().invoke(main, ["annotate", "--task", "aligncot_csqa_cot", "--out", str(tmp_path / "a")])
    assert res.exit_code == 1 and "missing --model" in res.output and "--task" not in res.output.split("(")[0]


def test_tasks_into_a_closed_pipe_exits_0():
    """`aligncot tasks | head`: the reader has gone before the writer writes (read end closed first)."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "training", "tasks"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


@pytest.fixture()
def fresh_logging(monkeypatch):
    """Logging as :func:`training.cli.configure_logging` leaves it, undone after the test."""
    import logging

    from training.cli import CHATTY_LOGGERS, PROJECT_LOGGERS, VERBOSE_ENV

    for name in (VERBOSE_ENV, "TRANSFORMERS_VERBOSITY"):
        # setenv first: delenv of an unset name records nothing to undo, and configure_logging
        # sets both, which would leak verbosity into every later test's CLI run.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    root, names = logging.getLogger(), PROJECT_LOGGERS + CHATTY_LOGGERS
    saved = (list(root.handlers), root.level, [logging.getLogger(n).level for n in names])
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in zip(names, saved[2]):
        logging.getLogger(name).setLevel(level)


def test_logging_is_info_for_the_project_and_warnings_for_the_libraries_unless_verbose(fresh_logging, capsys):
    import logging
    import os

    from training.cli import configure_logging

    def say() -> str:
        logging.getLogger("training.distill.sft").info("precision: fp32")
        logging.getLogger("lm_eval.evaluator").info("building contexts")
        logging.getLogger("lm_eval.evaluator").warning("no chat template")
        return capsys.readouterr().err

    assert run("tasks", "--path").exit_code == 0  # the group configures logging for every command
    capsys.readouterr()
    assert say() == "precision: fp32\nwarning [lm_eval.evaluator]: no chat template\n"
    from training.distill.model_loading import OFFLINE_KERNEL_HUB

    logging.getLogger(OFFLINE_KERNEL_HUB[0]).warning(f"{OFFLINE_KERNEL_HUB[1]}: ...")
    assert capsys.readouterr().err == ""  # every command filters it (the group sets the filter)
    configure_logging(verbose=True)  # again: one handler, not two
    assert say() == "precision: fp32\nbuilding contexts\nwarning [lm_eval.evaluator]: no chat template\n"
    assert os.environ["TRANSFORMERS_VERBOSITY"] == "info"  # transformers' own handler, and the stage commands
    assert "-v, --verbose" in run("--help").output
