"""``aligncot answers``: the letter and answer-sentence counts the tuning log quotes, from the shipped samples."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from training.cli import main as cli

RESULTS = Path(__file__).resolve().parents[1] / "harness_configs" / "recipes" / "smollm2-135m-instruct" / "results"


def answers(run: str) -> str:
    (path,) = (RESULTS / "csqa300" / run).glob("samples_aligncot_csqa_cot_*.jsonl")
    result = CliRunner().invoke(cli, ["answers", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_sft_student_counts_match_the_tuning_log():
    out = answers("sft")
    assert "predicted: A 49, B 69, C 74, D 50, E 55, none 3 (n 300)" in out
    assert "gold: A 57, B 55, C 59, D 58, E 71" in out
    assert "297 of 300 end in the canonical one" in out and "own option in 287" in out and "gold option's in 95" in out


def test_base_letter_prior_and_no_answer_sentences():
    out = answers("base")
    assert "E 219" in out and "0 of 300 end in the canonical one" in out


def test_not_a_multiple_choice_samples_file_is_one_line(tmp_path):
    path = tmp_path / "samples_aligncot_gsm8k_cot_2026-01-01T00-00-00.1.jsonl"
    path.write_text("")
    result = CliRunner().invoke(cli, ["answers", str(path)])
    assert result.exit_code == 1 and "not a generative multiple-choice task" in result.output
