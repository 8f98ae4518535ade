"""``aligncot analyze`` on the shipped CSQA samples: the numbers TUNING.md quotes, reproduced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples_support import csqa_lines, write_run

from training.evaluate import analysis
from training.evaluate.analysis_cli import analyze

SHIPPED = Path(__file__).resolve().parents[1] / "harness_configs/recipes/smollm2-135m-instruct/results/csqa300"
GOLD = {"A": 57, "B": 55, "C": 59, "D": 58, "E": 71}


def shipped(run: str) -> Path:
    (path,) = (SHIPPED / run).glob("samples_aligncot_csqa_cot_*.jsonl")
    return path


def test_base_answers_e_on_219_of_300():
    a = analysis.analyze_file(shipped("base"))
    assert (a.n, a.correct, a.invalid, a.truncated) == (300, 62, 15, 3)
    assert a.predictions == {"A": 14, "B": 1, "C": 33, "D": 18, "E": 219, "none": 15}
    assert a.gold == GOLD


def test_r3_sft_numbers_of_tuning_md():
    # TUNING.md's "What R3 shows" (predictions, stated text gold 95/300, own option 287/297)
    # are the R3 SFT file's numbers; the SFT+DPO file's differ on the questions DPO changed.
    a = analysis.analyze_file(shipped("sft"))
    assert a.predictions == {"A": 49, "B": 69, "C": 74, "D": 50, "E": 55, "none": 3}
    assert (a.stated_gold, a.stated_own, a.stated_letter) == (95, 287, 297)
    assert (a.correct, a.invalid, a.truncated) == (95, 3, 3)


def test_r3_sft_dpo_numbers():
    a = analysis.analyze_file(shipped("sft-dpo"))
    assert a.predictions == {"A": 49, "B": 67, "C": 74, "D": 46, "E": 61, "none": 3}
    assert (a.correct, a.stated_gold, a.stated_own, a.stated_letter) == (96, 97, 288, 297)


def test_cli_text_and_json(tmp_path):
    runner = CliRunner()
    out = runner.invoke(analyze, [str(shipped("sft")), str(shipped("base"))])
    assert out.exit_code == 0, out.output
    assert "A 49 · B 69 · C 74 · D 50 · E 55 · none 3" in out.output
    assert "E 219" in out.output and "287/297" in out.output
    out = runner.invoke(analyze, [str(shipped("sft")), "--json"])
    (row,) = json.loads(out.output)
    assert row["stated_gold"] == 95 and row["predictions"]["none"] == 3 and row["length_unit"] == "words"


def test_synthetic_file_counts_and_lengths(tmp_path):
    # per 4 questions: correct (C), wrong (A), invalid, correct; gold is C throughout
    write_run(tmp_path, "m", {"aligncot_csqa_cot": csqa_lines("cwic" * 5)})
    (path,) = (tmp_path / "m").glob("samples_*.jsonl")
    a = analysis.analyze_file(path)
    assert (a.n, a.correct, a.invalid, a.truncated) == (20, 10, 5, None)
    assert a.predictions == {"A": 5, "B": 0, "C": 10, "D": 0, "E": 0, "none": 5}
    assert a.gold == {"A": 0, "B": 0, "C": 20, "D": 0, "E": 0}
    assert (a.stated_letter, a.stated_own, a.stated_gold) == (15, 0, 0)  # letters only, no option text
    assert a.length_max == 5 and a.length_mean == pytest.approx((10 * 5 + 5 * 5 + 5 * 4) / 20)


def test_not_a_samples_file_is_one_line(tmp_path):
    bad = tmp_path / "samples_aligncot_csqa_cot_x.jsonl"
    bad.write_text('{"doc_id": 0}\n')
    out = CliRunner().invoke(analyze, [str(bad)])
    assert out.exit_code != 0 and "not an lm-eval sample" in out.output


def test_empty_file_is_a_one_line_error(tmp_path):
    empty = tmp_path / "samples_aligncot_csqa_cot_x.jsonl"
    empty.write_text("")
    out = CliRunner().invoke(analyze, [str(empty)])
    assert out.exit_code != 0 and "no questions" in out.output and "Traceback" not in out.output


def test_lengths_in_tokens_of_a_local_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    out = CliRunner().invoke(analyze, [str(shipped("sft")), "--json", "--tokenizer", str(tiny_model_dir)])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)
    samples = analysis.read_samples(shipped("sft"), "aligncot_csqa_cot")
    counts = [len(tok(s.generations[0], add_special_tokens=False)["input_ids"]) for s in samples]
    assert row["length_unit"] == "tokens" and row["length_max"] == max(counts)
    assert row["length_mean"] == pytest.approx(sum(counts) / len(counts))
