"""The leaderboard's difference tables for a self-refined grid: SFT-only rows compared stage for
stage with the reference, self-refine's own effect per variant, one Holm family."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from samples_support import csqa_lines, write_run

from training.evaluate.leaderboard.board import build_board
from training.evaluate.leaderboard.tables import tables
from training.evaluate.paired import holm

COL = ("csqa", "cot")
#: Verdicts on 20 questions: c correct, w wrong.
ROWS = {
    "student-base": "wwwwwwwwwwwwwwwwwwcc",
    "csqa.sft": "ccccwwwwwwwwwwwwwwcc",
    "csqa": "ccccccccccwwwwwwwwcc",
    "obqa.sft": "cwwwwwwwwwwwwwwwwwcc",
    "obqa": "cccwwwwwwwwwwwwwwwcc",
}
#: Every distinct paired test the tables show: vs the base, vs the reference at the same stage,
#: each refined row vs its SFT-only row (csqa vs csqa.sft is shown twice, tested once).
PAIRS = {
    "delta": [(r, "student-base") for r in ("csqa.sft", "csqa", "obqa.sft", "obqa")],
    "delta_reference": [("student-base", "csqa"), ("obqa.sft", "csqa.sft"), ("obqa", "csqa")],
    "delta_sft": [("csqa", "csqa.sft"), ("obqa", "obqa.sft")],
}


@pytest.fixture
def results(tmp_path):
    for row, verdicts in ROWS.items():
        write_run(tmp_path / "r", row, {"aligncot_csqa_cot": csqa_lines(verdicts)})
    return tmp_path / "r"


def test_self_refined_rows_get_stage_matched_and_self_refine_tables(results):
    board = build_board([results])
    shown = {t.id: t for t in tables(board, "student-base", reference="csqa", adjust="holm")}
    assert {t: len(p) for t, p in PAIRS.items()} == {t: len(shown[t].rows) for t in PAIRS}
    assert "an SFT-only row: to csqa.sft" in shown["delta_reference"].caption
    assert shown["delta_sft"].caption.startswith("Self-refine")
    distinct = {frozenset(p) for t in PAIRS.values() for p in t}
    assert len(distinct) == 8  # csqa vs csqa.sft: in the delta_sft table only (csqa.sft vs csqa.sft is no test)
    order = sorted(distinct, key=sorted)
    adjusted = dict(zip(order, holm([board.paired(*sorted(p), COL).p for p in order])))
    for table, pairs in PAIRS.items():
        assert "Holm-adjusted over all 8 distinct paired tests" in shown[table].footnote
        cells_of = dict(shown[table].rows)
        assert set(cells_of) == {row for row, _ in pairs}
        for row, other in pairs:
            cells = cells_of[row]
            delta = 100 * (ROWS[row].count("c") - ROWS[other].count("c")) / 20
            assert cells[1].text.startswith(f"{delta:+.1f} [")
            assert f"p_holm={adjusted[frozenset((row, other))]:.2g}" in cells[1].text


def test_the_csv_carries_each_comparison_and_blanks_rows_a_table_does_not_show(results, tmp_path):
    from training.evaluate.cli import leaderboard

    out = tmp_path / "lb"
    args = [str(results), "--out-dir", str(out), "--no-charts", "--no-questions", "--baseline", "student-base"]
    result = CliRunner().invoke(leaderboard, [*args, "--reference", "csqa", "--adjust", "holm"])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in csv.DictReader((out / "leaderboard.csv").open())}
    assert float(rows["obqa"]["vs_sft_csqa_cot"]) == pytest.approx(0.1)
    assert float(rows["obqa.sft"]["vs_reference_csqa_cot"]) == pytest.approx(-0.15)  # vs csqa.sft, not csqa
    assert rows["obqa.sft"]["vs_sft_csqa_cot"] == "" and rows["student-base"]["vs_sft_csqa_cot_p_holm"] == ""
    assert "Self-refine: each refined row minus its SFT-only row" in (out / "leaderboard.md").read_text()


def test_a_board_without_sft_rows_has_no_self_refine_table(results):
    board = build_board([results / "student-base", results / "csqa"])
    assert [t.id for t in tables(board, "student-base", reference="csqa")] == ["accuracy", "delta", "delta_reference"]
