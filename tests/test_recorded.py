"""Recorded rows: generations made elsewhere -> ``aligncot score --results-dir`` -> a leaderboard row."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from conftest import FIXTURE_DATA

from aligncot_tasks import suite
from aligncot_tasks.data import read_jsonl
from aligncot_tasks.groups import task_metrics
from aligncot_tasks.lm_metrics import row_metrics, verdict
from aligncot_tasks.suite import score as scoring_score
from training.evaluate.cli import compare_command
from training.evaluate.leaderboard import render
from training.evaluate.leaderboard.board import build_board
from training.suite_cli import score


def test_recorded_generations_become_a_marked_row(tmp_path, offline_data):
    docs = read_jsonl(FIXTURE_DATA / "tau__commonsense_qa" / "default" / "validation.jsonl")
    wrong = {"A": "B", "B": "C", "C": "D", "D": "E", "E": "A"}
    rows = [
        {"doc": d, "completion": f"So the answer is ({d['answerKey'] if i < 5 else wrong[d['answerKey']]})."}
        for i, d in enumerate(docs)
    ]
    rows[-1]["completion"] = "I cannot tell."
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)  # recorded files come in any order; doc_id is the split's index
    src = tmp_path / "recorded.jsonl"
    src.write_text("".join(json.dumps(rows[i]) + "\n" for i in order))
    result = CliRunner().invoke(
        score,
        [
            "--task",
            "aligncot_csqa_cot",
            "--input",
            str(src),
            "--generation-key",
            "completion",
            "--results-dir",
            str(tmp_path / "runs"),
            "--label",
            "api-model",
            "--prompt-note",
            "8-shot CoT exemplars",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"n={len(rows)} acc={5 / len(rows):.4f}" in result.output
    samples = read_jsonl(next((tmp_path / "runs" / "api-model").glob("samples_aligncot_csqa_cot_*.jsonl")))
    assert [s["doc_id"] for s in samples] == list(range(len(rows)))
    assert [s["acc"] for s in samples] == [1.0] * 5 + [0.0] * (len(rows) - 5) and samples[-1]["invalid"] == 1.0
    board = build_board([tmp_path / "runs"])
    cell = board.get("api-model", ("csqa", "cot"))
    assert cell.acc == pytest.approx(5 / len(rows)) and cell.invalid == pytest.approx(1 / len(rows))
    assert board.recorded == {"api-model": "8-shot CoT exemplars"}
    md = render.markdown(board)
    assert "api-model: scored from recorded generations (prompt: 8-shot CoT exemplars)." in md
    assert "| api-model (scored from recorded generations) |" in md
    assert "recorded_prompt" in render.csv_text(board).splitlines()[0]
    result = CliRunner().invoke(compare_command, [str(tmp_path / "runs"), str(tmp_path / "runs")])
    assert result.exit_code == 0 and " 8 " in result.output


def test_limit_scores_the_first_rows_in_file_order(tmp_path, offline_data):
    """``--limit N`` on a file in split order: the questions ``lm_eval --limit N`` evaluates."""
    docs = read_jsonl(FIXTURE_DATA / "tau__commonsense_qa" / "default" / "validation.jsonl")
    src = tmp_path / "recorded.jsonl"
    src.write_text("".join(json.dumps({"doc": d, "completion": f"({d['answerKey']})"}) + "\n" for d in docs))
    args = ["--task", "aligncot_csqa_cot", "--input", str(src), "--generation-key", "completion"]
    result = CliRunner().invoke(score, [*args, "--results-dir", str(tmp_path / "runs"), "--label", "m", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "n=3 acc=1.0000" in result.output
    samples = read_jsonl(next((tmp_path / "runs" / "m").glob("samples_*.jsonl")))
    assert [s["doc_id"] for s in samples] == [0, 1, 2]


def test_recorded_rows_carry_the_live_tasks_metrics_no_cue_included(tmp_path, offline_data):
    """A recorded GSM8K row reports ``no_cue`` (an answer salvaged without a cue) from the
    scorer's ``cued`` as the live task does; CSQA reports the chance-normalised accuracy."""
    runs = tmp_path / "runs"
    docs = read_jsonl(FIXTURE_DATA / "openai__gsm8k" / "main" / "test.jsonl")[:4]
    gold = [d["answer"].rsplit("#### ", 1)[1] for d in docs]
    texts = [f"The answer is {gold[0]}.", f"We get {gold[1]} eggs", "no idea", f"So the answer is {gold[3]}."]
    src = tmp_path / "gsm8k.jsonl"
    src.write_text("".join(json.dumps({"doc": d, "generation": t}) + "\n" for d, t in zip(docs, texts)))
    result = CliRunner().invoke(
        score, ["--task", "aligncot_gsm8k_cot", "--input", str(src), "--results-dir", str(runs)]
    )
    assert result.exit_code == 0, result.output
    (samples_path,) = (runs / "gsm8k").glob("samples_*.jsonl")
    samples = read_jsonl(samples_path)
    expected = [
        row_metrics([verdict(s.extracted, s.correct, None, s.cued)])
        for s in (scoring_score("aligncot_gsm8k_cot", d, t) for d, t in zip(docs, texts))
    ]
    assert [{m: s[m] for m in s["metrics"]} for s in samples] == expected
    assert [s["no_cue"] for s in samples] == [0.0, 1.0, 0.0, 0.0]
    live = [m for m in task_metrics(suite.get_task("aligncot_gsm8k_cot")) if m != "truncated"]
    assert samples[0]["metrics"] == live
    entry = json.loads(next((runs / "gsm8k").glob("results_*.json")).read_text())["results"]["aligncot_gsm8k_cot"]
    assert entry["no_cue,none"] == 0.25 and entry["acc,none"] == 0.75 and "truncated,none" not in entry

    csqa = read_jsonl(FIXTURE_DATA / "tau__commonsense_qa" / "default" / "validation.jsonl")[:2]
    src = tmp_path / "csqa.jsonl"
    src.write_text("".join(json.dumps({"doc": d, "generation": f"({d['answerKey']})"}) + "\n" for d in csqa))
    args = ["--task", "aligncot_csqa_cot", "--input", str(src), "--results-dir", str(runs), "--label", "c"]
    assert CliRunner().invoke(score, args).exit_code == 0
    entry = json.loads(next((runs / "c").glob("results_*.json")).read_text())["results"]["aligncot_csqa_cot"]
    assert "no_cue,none" not in entry and entry["acc_norm_chance,none"] == 1.0


def test_score_errors_are_one_line(tmp_path, offline_data):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"doc": {"question": "not a csqa row"}, "generation": "x"}) + "\n")
    for args, message in (
        (["--results-dir", str(tmp_path / "r")], "doc is not in aligncot_csqa_cot's evaluation split"),
        ([], "give --output, --results-dir or both"),
        (["--output", str(tmp_path / "missing" / "o.jsonl")], "does not exist (create it first)"),
    ):
        result = CliRunner().invoke(score, ["--task", "aligncot_csqa_cot", "--input", str(src), *args])
        assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "r").exists()


def test_palm_540b_csqa_is_78_4_percent(tmp_path, shared_dir, monkeypatch):
    """The real recorded teacher: PaLM-540B's CSQA validation CoT, by the suite's scorer."""
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(shared_dir / "data"))
    src = shared_dir / "teachers" / "csqa_palm-540b_validation.jsonl"
    result = CliRunner().invoke(
        score,
        [
            "--task",
            "aligncot_csqa_cot",
            "--input",
            str(src),
            "--generation-key",
            "completion",
            "--results-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert result.exit_code == 0, result.output
    board = build_board([tmp_path / "runs"])
    cell = board.get("PaLM-540B", ("csqa", "cot"))
    assert (cell.n, round(cell.acc, 3)) == (1221, 0.784)
    assert board.recorded["PaLM-540B"] == "not stated (assumed the suite's)"


def test_compare_two_real_recorded_models_agrees_with_scipy(tmp_path, shared_dir, monkeypatch):
    """OpenAI's GPT-3 175B vs 6B verifier-selected GSM8K solutions, all 1319 test questions."""
    from scipy.stats import binomtest

    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(shared_dir / "data"))
    verdicts = {}
    for size in ("175b", "6b"):
        rows = [
            r
            for r in read_jsonl(shared_dir / "generations" / "gsm8k_gpt3_solutions.jsonl")
            if r["source"].endswith(f" {size}_verification")
        ]
        src, scored = tmp_path / f"{size}.jsonl", tmp_path / f"{size}.scored.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
        result = CliRunner().invoke(
            score,
            [
                "--task",
                "aligncot_gsm8k_cot",
                "--input",
                str(src),
                "--output",
                str(scored),
                "--results-dir",
                str(tmp_path / "runs"),
                "--label",
                size,
            ],
        )
        assert result.exit_code == 0, result.output
        verdicts[size] = {json.dumps(r["doc"], sort_keys=True): r["correct"] for r in read_jsonl(scored)}
    only_a = sum(v and not verdicts["6b"][k] for k, v in verdicts["175b"].items())
    only_b = sum(not v and verdicts["6b"][k] for k, v in verdicts["175b"].items())
    result = CliRunner().invoke(compare_command, [str(tmp_path / "runs" / "175b"), str(tmp_path / "runs" / "6b")])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("aligncot_gsm8k_cot"))
    fields = line.split()
    assert fields[1] == "1319" and fields[-1] == "0"
    p = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue
    assert float(fields[7]) == pytest.approx(p, rel=0.05)
    assert float(fields[4]) == pytest.approx(100 * (only_a - only_b) / 1319, abs=0.05)
