"""Wrong inputs as a new user gives them: one line, non-zero exit, nothing written (issue 22).

Duplicated questions (defect 1), generations that are not strings (5), outputs that cannot
be written (6), a group where a task is expected (8), labels of the shipped results (8); and
a property test: a paired comparison never pairs a question with itself or counts one twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from samples_support import csqa_doc, csqa_lines, sample, write_run
from synthetic_csqa import csqa_rows, write_split

from training.errors import ResultsError
from training.evaluate.cli import compare_command, leaderboard
from training.evaluate.samples import Sample, pair
from training.suite_cli import score

ROOT = Path(__file__).resolve().parents[1]
TASK = "aligncot_csqa_cot"


def generations(path: Path, ids: list[int], generation=lambda i: f"So the answer is ({'CA'[i % 2]}).") -> Path:
    """A `score` input: one {doc_id, doc, generation} line per id (ids may repeat)."""
    path.write_text(
        "".join(json.dumps({"doc_id": i, "doc": csqa_doc(i), "generation": generation(i)}) + "\n" for i in ids)
    )
    return path


def invoke(command, args):
    result = CliRunner().invoke(command, [str(a) for a in args])
    return result.exit_code, result.output


# -- defect 1: a row holds each question once ------------------------------------------------


def test_score_results_dir_refuses_a_repeated_question_naming_its_line(tmp_path):
    src = generations(tmp_path / "in.jsonl", [0, 1, 2, 1, 0])
    code, out = invoke(score, ["--task", TASK, "--input", src, "--results-dir", tmp_path / "runs"])
    assert code == 1 and out.startswith(f"Error: {src}:4: the question of line 2 again"), out
    assert "--dedupe" in out and not (tmp_path / "runs").exists()


def test_score_dedupe_keeps_first_occurrences_and_says_how_many(tmp_path):
    src = generations(tmp_path / "in.jsonl", [0, 1, 2, 1, 0], generation=lambda i: "So the answer is (C).")
    lines = src.read_text().splitlines()
    lines[3] = lines[3].replace("(C)", "(A)")  # a later, different answer to question 1 must not count
    src.write_text("\n".join(lines) + "\n")
    code, out = invoke(score, ["--task", TASK, "--input", src, "--results-dir", tmp_path / "runs", "--dedupe"])
    assert code == 0, out
    assert "dropped 2 repeated lines, kept 3 questions" in out and f"{TASK}: n=3 acc=1.0000" in out
    (samples,) = (tmp_path / "runs").rglob("samples_*.jsonl")
    assert [json.loads(x)["doc_id"] for x in samples.read_text().splitlines()] == [0, 1, 2]


def test_score_output_alone_scores_every_line_and_says_they_repeat(tmp_path):
    src = generations(tmp_path / "in.jsonl", [0, 0, 1, 1])  # e.g. two models' answers per question
    code, out = invoke(score, ["--task", TASK, "--input", src, "--output", tmp_path / "o.jsonl"])
    assert code == 0 and "4 lines hold 2 distinct questions" in out and "n=4" in out


def test_the_interleaved_gpt3_trap_is_refused(shared_dir, tmp_path, monkeypatch):
    """The issue's trap: the first 500 lines of the GPT-3 file hold 125 questions x 4 models."""
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(shared_dir / "data"))  # lm-eval's doc_ids come from the split
    head = tmp_path / "head.jsonl"
    src = shared_dir / "generations" / "gsm8k_gpt3_solutions.jsonl"
    head.write_text("".join(src.read_text().splitlines(keepends=True)[:500]))
    code, out = invoke(score, ["--task", "aligncot_gsm8k_cot", "--input", head, "--results-dir", tmp_path / "r"])
    assert code == 1 and ":2: the question of line 1 again" in out
    code, out = invoke(
        score, ["--task", "aligncot_gsm8k_cot", "--input", head, "--results-dir", tmp_path / "r", "--dedupe"]
    )
    assert code == 0 and "dropped 375 repeated lines, kept 125 questions" in out and "n=125" in out


@pytest.fixture()
def runs(tmp_path) -> dict[str, Path]:
    """A clean run, and one whose samples file holds question 1 twice (an older or foreign file)."""
    clean = csqa_lines("cwcwcw")
    doubled = csqa_lines("ccwcw") + [sample(TASK, 1, csqa_doc(1), "c")]
    return {
        "clean": write_run(tmp_path / "runs", "clean", {TASK: clean}).parent,
        "doubled": write_run(tmp_path / "runs", "doubled", {TASK: doubled}).parent,
    }


@pytest.mark.parametrize("order", ["doubled-first", "doubled-second"])
def test_compare_refuses_a_run_with_a_repeated_question(runs, order):
    a, b = (runs["doubled"], runs["clean"]) if order == "doubled-first" else (runs["clean"], runs["doubled"])
    code, out = invoke(compare_command, [a, b, "--resamples", "100"])
    assert code == 1 and out.count("\n") == 1, out
    assert ":6: doc_id 1 repeats line 2 (same doc_hash)" in out


def test_leaderboard_refuses_a_run_with_a_repeated_question_before_writing(runs, tmp_path):
    out_dir = tmp_path / "board"
    code, out = invoke(leaderboard, [runs["clean"], runs["doubled"], "--out-dir", out_dir, "--baseline", "clean"])
    assert code == 1 and out.count("\n") == 1 and "repeats line 2" in out, out
    assert not out_dir.exists()


# -- property: pairing by (task, doc_id, doc_hash) never self-pairs or double-counts ------------

KEYS = st.tuples(st.sampled_from(["t1", "t2"]), st.integers(0, 5), st.sampled_from(["h0", "h1"]))


def as_samples(rows: list[tuple[tuple[str, int, str], bool]]) -> list[Sample]:
    return [Sample(task, i, h, ok, None, None, None, "", "", (), {}) for (task, i, h), ok in rows]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(KEYS, st.booleans()), max_size=12),
    st.lists(st.tuples(KEYS, st.booleans()), max_size=12),
    st.randoms(use_true_random=False),
)
def test_pairing_never_pairs_a_question_with_itself_or_counts_it_twice(a_rows, b_rows, rnd):
    # duplicate some rows on purpose (hypothesis also draws repeated keys by itself)
    a_rows = a_rows + [rnd.choice(a_rows) for _ in range(rnd.randint(0, 2))] if a_rows else a_rows
    a, b = as_samples(a_rows), as_samples(b_rows)
    a_keys, b_keys = [k for k, _ in a_rows], [k for k, _ in b_rows]
    try:
        x, y, unpaired = pair(a, b)
    except ResultsError as e:
        repeated = len(set(a_keys)) < len(a_keys) or len(set(b_keys)) < len(b_keys)
        clash = {(t, i): h for t, i, h in b_keys}
        differs = any(clash.get((t, i), h) != h and (t, i, h) not in set(b_keys) for t, i, h in a_keys)
        assert repeated or differs, e
        if "twice" in str(e):
            assert repeated
        return
    assert len(set(a_keys)) == len(a_keys) and len(set(b_keys)) == len(b_keys)  # no duplicate got through
    a_by, b_by = dict(a_rows), dict(b_rows)
    shared = [k for k in a_keys if k in b_by]
    assert x == [a_by[k] for k in shared] and y == [b_by[k] for k in shared]  # each shared question once, with itself
    assert unpaired == len(a_keys) + len(b_keys) - 2 * len(shared)


# -- defect 5: a generation that is not a string -------------------------------------------------


@pytest.mark.parametrize(("value", "name"), [(None, "null"), (3, "a number"), (["x"], "a list"), ({}, "an object")])
def test_a_generation_that_is_not_a_string_is_an_error_naming_its_line(tmp_path, value, name):
    src = generations(tmp_path / "in.jsonl", [0, 1, 2], generation=lambda i: value if i == 1 else "(C)")
    code, out = invoke(score, ["--task", TASK, "--input", src, "--output", tmp_path / "o.jsonl"])
    assert code == 1 and out == f"Error: {src}:2: `generation` is {name}, not a string\n"
    assert not (tmp_path / "o.jsonl").exists()


# -- defect 8: a group where a task is expected ------------------------------------------------


def test_score_names_a_groups_tasks():
    code, out = invoke(score, ["--task", "aligncot_cot", "--input", "x.jsonl", "--output", "o.jsonl"])
    assert code == 1 and out.startswith("Error: aligncot_cot is a group of") and "aligncot_csqa_cot" in out
    code, out = invoke(score, ["--task", "aligncot_mmlu_cot", "--input", "x.jsonl", "--output", "o.jsonl"])
    assert "aligncot_mmlu_cot_anatomy" in out and "more)" in out


# -- defect 6: every command that writes, pointed under a regular file --------------------------


def annotations(tmp_path: Path) -> Path:
    """An annotation directory of 20 recorded csqa answers (for `demos` and `annotate --import`)."""
    rows = csqa_rows(20)
    write_split(tmp_path / "data", "train", rows)
    write_split(tmp_path / "data", "validation", csqa_rows(3, prefix="Held-out question"))
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text(
        "".join(
            json.dumps(
                {"doc": r, "completion": f" So the answer is ({r['answerKey']}).", "teacher": "t", "source": "s"}
            )
            + "\n"
            for r in rows
        )
    )
    ann = tmp_path / "ann"
    subprocess.run(
        [sys.executable, "-m", "training", "annotate", "--task", TASK, "--import", recorded, "--out", ann],
        cwd=ROOT,
        env={**os.environ, "ALIGNCOT_DATA_DIR": str(tmp_path / "data")},
        check=True,
        capture_output=True,
    )
    return ann


def test_every_command_that_writes_fails_in_one_line_under_a_file(tmp_path, runs):
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder\n")
    src = generations(tmp_path / "in.jsonl", [0, 1, 2])
    ann = annotations(tmp_path)
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    commands = {
        "score --output": ["score", "--task", TASK, "--input", src, "--output", blocker / "o.jsonl"],
        "score --results-dir": ["score", "--task", TASK, "--input", src, "--results-dir", blocker / "runs"],
        "leaderboard --out-dir": ["leaderboard", runs["clean"], "--out-dir", blocker / "board"],
        "leaderboard --no-charts": ["leaderboard", runs["clean"], "--out-dir", blocker / "b", "--no-charts"],
        "annotate --out": [
            "annotate",
            "--task",
            TASK,
            "--model",
            "m",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--out",
            blocker / "a",
        ],
        "annotate --import": [
            "annotate",
            "--task",
            TASK,
            "--import",
            tmp_path / "recorded.jsonl",
            "--out",
            blocker / "a",
        ],
        "demos --out": ["demos", ann, "--out", blocker / "demos"],
        "sft output_dir": ["sft", f"base_model={model}", f"data={ann}", f"output_dir={blocker / 'sft'}"],
    }
    env = {**os.environ, "ALIGNCOT_DATA_DIR": str(tmp_path / "data"), "OPENAI_API_KEY": "k"}
    for name, args in commands.items():
        proc = subprocess.run(
            [sys.executable, "-m", "training", *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: "), (name, proc.stderr)
        assert "file.txt" in lines[0], (name, lines[0])
    assert blocker.read_text() == "a file, not a folder\n"


# -- defect 8: the shipped results carry plain labels ------------------------------------------


def test_compare_renames_runs(runs):
    code, out = invoke(compare_command, [runs["clean"], runs["clean"], "--rename", "clean=mine", "--resamples", "100"])
    assert code == 0 and out.startswith("A = mine\nB = mine\n")
    code, out = invoke(compare_command, [runs["clean"], runs["clean"], "--rename", "clean"])
    assert code == 2 or (code == 1 and "--rename 'clean': expected OLD=NEW" in out)
