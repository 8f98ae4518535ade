"""``aligncot leaderboard``: numbers from lm-eval results files, the three renderings, a real browser."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from training.errors import ResultsError
from training.evaluate.cli import leaderboard
from training.evaluate.leaderboard import render
from training.evaluate.leaderboard.board import build_board

#: model -> benchmark-level entry -> (acc, stderr, n); stderr values chosen distinct so a
#: mix-up of columns shows.
SCORES = {
    "teacher": {
        "aligncot_csqa_zs": (0.80, 0.011, 100),
        "aligncot_csqa_cot": (0.85, 0.012, 100),
        "aligncot_gsm8k_zs": (0.30, 0.013, 50),
        "aligncot_gsm8k_cot": (0.60, 0.014, 50),
    },
    "student-base": {
        "aligncot_csqa_zs": (0.40, 0.021, 100),
        "aligncot_csqa_cot": (0.35, 0.022, 100),
        "aligncot_gsm8k_zs": (0.05, 0.023, 50),
        "aligncot_gsm8k_cot": (0.10, 0.024, 50),
    },
    "student-sft": {
        "aligncot_csqa_zs": (0.55, 0.031, 100),
        "aligncot_csqa_cot": (0.62, 0.032, 100),
        "aligncot_gsm8k_zs": (0.08, 0.033, 50),
        "aligncot_gsm8k_cot": (0.25, 0.034, 50),
    },
}


def write_results(
    root: Path, model: str, entries: dict, date: float = 1.0, limit=None, stamp: str = "2026-01-01T00-00-00"
) -> Path:
    """An lm-eval results file (the keys lm-eval 0.4 writes that the leaderboard reads)."""
    data = {
        "results": {
            name: {
                "alias": name,
                "acc,none": acc,
                "acc_stderr,none": se,
                "invalid,none": 0.0,
                "invalid_stderr,none": 0.0,
            }
            for name, (acc, se, _) in entries.items()
        },
        "n-samples": {name: {"original": n, "effective": n} for name, (_, _, n) in entries.items()},
        "config": {"model": "hf", "model_args": f"pretrained={model}", "limit": limit},
        "model_name": model,
        "date": date,
    }
    path = root / model / f"results_{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture()
def results_dir(tmp_path) -> Path:
    for model, entries in SCORES.items():
        write_results(tmp_path / "results", model, entries)
    return tmp_path / "results"


def test_board_numbers(results_dir):
    board = build_board([results_dir])
    assert sorted(board.rows) == sorted(SCORES)
    assert board.columns == [("csqa", "zs"), ("csqa", "cot"), ("gsm8k", "zs"), ("gsm8k", "cot")]
    mean, se = board.average("student-base", "zs")
    assert mean == pytest.approx((0.40 + 0.05) / 2)
    assert se == pytest.approx(math.sqrt(0.021**2 + 0.023**2) / 2)
    gain, gain_se = board.gain("student-sft", "gsm8k")
    assert gain == pytest.approx(0.25 - 0.08) and gain_se == pytest.approx(math.hypot(0.034, 0.033))
    assert board.delta("student-sft", "student-base", ("csqa", "cot")) == pytest.approx(0.62 - 0.35)
    assert board.get("teacher", ("gsm8k", "cot")).n == 50


def test_missing_cell_blanks_the_average_and_newest_result_wins(results_dir):
    write_results(results_dir, "partial", {"aligncot_csqa_zs": (0.5, 0.01, 10)})
    write_results(
        results_dir, "student-base", {"aligncot_csqa_zs": (0.45, 0.02, 100)}, date=2.0, stamp="2026-02-01T00-00-00"
    )
    board = build_board([results_dir])
    assert board.average("partial", "zs") is None  # misses gsm8k zs: no mean over a different set
    assert board.get("student-base", ("csqa", "zs")).acc == 0.45
    assert board.gain("partial", "csqa") is None


def test_group_entry_counts_rows_of_its_subtasks(tmp_path):
    path = write_results(tmp_path, "m", {"aligncot_mmlu_cot": (0.5, 0.05, 0)})
    data = json.loads(path.read_text())
    data["n-samples"] = {"aligncot_mmlu_cot_anatomy": {"effective": 3}, "aligncot_mmlu_cot_virology": {"effective": 4}}
    data["group_subtasks"] = {"aligncot_mmlu_cot": ["aligncot_mmlu_cot_anatomy", "aligncot_mmlu_cot_virology"]}
    data["results"]["aligncot_mmlu_cot"]["acc_stderr,none"] = "N/A"
    path.write_text(json.dumps(data))
    score = build_board([path]).get("m", ("mmlu", "cot"))
    assert (score.acc, score.stderr, score.n) == (0.5, None, 7)


@pytest.mark.parametrize(
    "content, message", [("{not json", "not readable as JSON"), ('{"a": 1}', "no `results` mapping")]
)
def test_unreadable_results_file_is_named(tmp_path, content, message):
    bad = tmp_path / "results_x.json"
    bad.write_text(content)
    with pytest.raises(ResultsError, match=message):
        build_board([bad])


def test_cli_errors_are_one_line(tmp_path, results_dir):
    runner = CliRunner()
    empty = tmp_path / "empty"
    empty.mkdir()
    out = runner.invoke(leaderboard, [str(empty), "--out-dir", str(tmp_path / "lb")])
    assert out.exit_code != 0 and "no results_*.json" in out.output
    out = runner.invoke(leaderboard, [str(results_dir), "--baseline", "nobody", "--out-dir", str(tmp_path / "lb")])
    assert out.exit_code != 0 and "'nobody' is not a row" in out.output
    assert not (tmp_path / "lb" / "leaderboard.csv").exists()


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    return {row["model"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def test_cli_writes_markdown_csv_html_and_charts(tmp_path, results_dir):
    out_dir = tmp_path / "lb"
    result = CliRunner().invoke(
        leaderboard,
        [
            str(results_dir),
            "--out-dir",
            str(out_dir),
            "--baseline",
            "student-base",
            "--teacher",
            "teacher",
            "--note",
            "not a result",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = read_csv(out_dir / "leaderboard.csv")
    for model, entries in SCORES.items():
        for name, (acc, se, n) in entries.items():
            col = name.removeprefix("aligncot_")
            assert float(rows[model][col]) == pytest.approx(acc)
            assert float(rows[model][f"{col}_stderr"]) == pytest.approx(se)
            assert int(rows[model][f"{col}_n"]) == n
    assert float(rows["student-sft"]["gain_csqa"]) == pytest.approx(0.62 - 0.55)
    assert float(rows["student-sft"]["delta_gsm8k_cot"]) == pytest.approx(0.25 - 0.10)
    md = (out_dir / "leaderboard.md").read_text()
    assert "not a result" in md and "| student-sft | 55.0 ± 3.1 (inv 0.0%) | 62.0 ± 3.2 (inv 0.0%) |" in md
    assert "+7.0 ± 4.5" in md  # student-sft CSQA gain: 62 - 55, hypot(3.2, 3.1)
    for variant in ("zs", "cot"):
        png = out_dir / "charts" / f"accuracy_{variant}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out_dir / "leaderboard.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and 'src="http' not in page  # self-contained


class TableCells(HTMLParser):
    """Collects ``table id -> model -> data-col -> text`` from rendered HTML; a cell's
    ``<small>`` note goes to ``data-col + "/note"``, its link to ``data-col + "/href"``."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, dict[str, str]]] = {}
        self._table = self._col = None
        self._key = None
        self._row: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("id")
            self.tables[self._table] = {}
        elif tag == "td":
            self._col = self._key = attrs.get("data-col")
            self._row[self._col] = ""
            self._row[self._col + "/class"] = attrs.get("class") or ""
        elif tag == "small" and self._col:
            self._key = self._col + "/note"
            self._row[self._key] = ""
        elif tag == "a" and self._col:
            self._row[self._col + "/href"] = attrs.get("href")
        elif tag == "tr":
            self._row = {}

    def handle_endtag(self, tag):
        if tag == "td":
            self._col = self._key = None
        elif tag == "small":
            self._key = self._col
        elif tag == "tr" and self._row.get("model"):
            self.tables[self._table][self._row["model"]] = self._row

    def handle_data(self, data):
        if self._key:
            self._row[self._key] += data


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def rendered_dom(page: Path | str, profile: Path) -> str:
    """The page's DOM after a real headless browser loaded and rendered it."""
    exe = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if exe is None:
        pytest.skip("no chromium/chrome browser installed")
    url = page if isinstance(page, str) else page.resolve().as_uri()
    # The virtual time budget lets the drill-down pages' on-demand <script> loads finish before the dump.
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_html_page_renders_in_a_real_browser_with_the_csv_numbers(tmp_path, results_dir):
    out_dir = tmp_path / "lb"
    result = CliRunner().invoke(
        leaderboard, [str(results_dir), "--out-dir", str(out_dir), "--baseline", "student-base", "--no-charts"]
    )
    assert result.exit_code == 0, result.output
    parser = TableCells()
    parser.feed(rendered_dom(out_dir / "leaderboard.html", tmp_path / "profile"))
    rows = read_csv(out_dir / "leaderboard.csv")
    accuracy, gains, deltas = parser.tables["accuracy"], parser.tables["cot_gain"], parser.tables["delta"]
    assert set(accuracy) == set(rows)
    checked = 0
    for model, row in rows.items():
        for col in ("csqa_zs", "csqa_cot", "gsm8k_zs", "gsm8k_cot", "avg_zs", "avg_cot"):
            shown, _, shown_se = accuracy[model][col].partition(" ± ")
            assert float(shown) == round(100 * float(row[col]), 1)
            assert float(shown_se) == round(100 * float(row[f"{col}_stderr"]), 1)
            checked += 1
        for bench in ("csqa", "gsm8k"):
            assert float(gains[model][f"gain_{bench}"].partition(" ± ")[0]) == round(
                100 * float(row[f"gain_{bench}"]), 1
            )
        if model != "student-base":
            assert float(deltas[model]["delta_csqa_cot"]) == round(100 * float(row["delta_csqa_cot"]), 1)
        assert accuracy[model]["csqa_cot/note"] == "inv 0.0%" and float(row["csqa_cot_invalid"]) == 0.0
    assert checked == 3 * 6


def test_reads_a_plain_lm_eval_output_path_run(tmp_path, tiny_model_dir, offline_data, monkeypatch):
    """`lm_eval --output_path` (the harness's own CLI, not aligncot eval) -> leaderboard."""
    from lm_eval._cli import HarnessCLI

    import aligncot_tasks

    out = tmp_path / "lm_eval_out"
    argv = [
        "run",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={tiny_model_dir},dtype=float32",
        "--device",
        "cpu",
        "--tasks",
        "aligncot_csqa_zs,aligncot_csqa_cot",
        "--include_path",
        str(aligncot_tasks.TASKS_DIR),
        "--limit",
        "2",
        "--gen_kwargs",
        "max_gen_toks=4",
        "--output_path",
        str(out),
        "--log_samples",
    ]
    parser = HarnessCLI()  # lm-eval's own command line, in process (`lm_eval run ...`)
    monkeypatch.setattr(sys, "argv", ["lm_eval", *argv])
    parser.execute(parser.parse_args())
    results = list(out.rglob("results_*.json"))
    assert len(results) == 1
    raw = json.loads(results[0].read_text())["results"]
    board = build_board([out])
    assert board.rows == [str(tiny_model_dir)]  # lm-eval names the run after `pretrained`
    for variant in ("zs", "cot"):
        score = board.get(str(tiny_model_dir), ("csqa", variant))
        assert score.acc == raw[f"aligncot_csqa_{variant}"]["acc,none"] and score.n == 2 and score.limit == 2
    assert "Smoke run: lm-eval --limit 2" in render.markdown(board)
    # The samples lm-eval logged are found beside its results: paired test and drill-down work.
    assert len(board.samples(str(tiny_model_dir), ("csqa", "cot"))) == 2
    from training.evaluate.cli import compare_command

    result = CliRunner().invoke(compare_command, [str(out), str(results[0])])
    assert result.exit_code == 0, result.output
    assert re.search(r"aligncot_csqa_cot\s+2\s+[\d.]+\s+[\d.]+\s+\+0\.0\s+\[\+0\.0, \+0\.0\]\s+1\s", result.output)


def test_cells_show_invalid_and_truncated_shares_in_all_three(tmp_path):
    from samples_support import csqa_lines, write_run

    # The demo's symptom: 0.0 that is 100% "no answer", next to a model that answers wrongly.
    write_run(tmp_path / "r", "silent", {"aligncot_csqa_cot": csqa_lines("iiii", truncated="1100")})
    write_run(tmp_path / "r", "wrong", {"aligncot_csqa_cot": csqa_lines("wwwc", truncated="0000")})
    out = tmp_path / "lb"
    result = CliRunner().invoke(leaderboard, [str(tmp_path / "r"), "--out-dir", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    rows = read_csv(out / "leaderboard.csv")
    assert (rows["silent"]["csqa_cot"], rows["silent"]["csqa_cot_invalid"], rows["silent"]["csqa_cot_truncated"]) == (
        "0",
        "1",
        "0.5",
    )
    assert (rows["wrong"]["csqa_cot"], rows["wrong"]["csqa_cot_invalid"]) == ("0.25", "0")
    md = (out / "leaderboard.md").read_text()
    assert "| silent | 0.0 ± 0.0 (inv 100.0% · trunc 50.0%) |" in md
    cells = TableCells()
    cells.feed((out / "leaderboard.html").read_text())
    assert cells.tables["accuracy"]["silent"]["csqa_cot/note"] == "inv 100.0% · trunc 50.0%"
    assert cells.tables["accuracy"]["wrong"]["csqa_cot/note"] == "inv 0.0% · trunc 0.0%"


def test_numeric_cells_show_the_no_cue_share_beside_invalid(tmp_path):
    # Issue 21: a maths row whose answers are mostly salvaged numbers must not read as a model
    # that commits to an answer (inv 0.0%); a column without the metric keeps its old columns.
    for model, no_cue in (("student-base", 0.533), ("student-sft", 0.057)):
        path = write_results(
            tmp_path / "r", model, {"aligncot_gsm8k_cot": (0.03, 0.01, 300), "aligncot_csqa_cot": (0.3, 0.02, 300)}
        )
        data = json.loads(path.read_text())
        data["results"]["aligncot_gsm8k_cot"]["no_cue,none"] = no_cue
        path.write_text(json.dumps(data))
    out = tmp_path / "lb"
    result = CliRunner().invoke(leaderboard, [str(tmp_path / "r"), "--out-dir", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    md = (out / "leaderboard.md").read_text()
    assert "| student-base | 30.0 ± 2.0 (inv 0.0%) | 3.0 ± 1.0 (inv 0.0% · no cue 53.3%) |" in md
    assert "no cue = share whose answer was salvaged" in md
    rows = read_csv(out / "leaderboard.csv")
    assert rows["student-sft"]["gsm8k_cot_no_cue"] == "0.057"
    assert "csqa_cot_no_cue" not in rows["student-sft"]


def test_maj_at_k_is_its_own_column_family_and_chance_normalised_is_optional(tmp_path):
    path = write_results(tmp_path, "m", {"aligncot_gsm8k_cot": (0.30, 0.02, 50), "aligncot_csqa_cot": (0.60, 0.05, 50)})
    data = json.loads(path.read_text())
    data["results"]["aligncot_gsm8k_cot_maj8"] = {
        "maj@8,none": 0.40,
        "maj@8_stderr,none": 0.03,
        "pass@8,none": 0.70,
        "pass@8_stderr,none": 0.03,
    }
    data["results"]["aligncot_csqa_cot"]["acc_norm_chance,none"] = 0.5
    data["n-samples"]["aligncot_gsm8k_cot_maj8"] = {"original": 50, "effective": 50}
    path.write_text(json.dumps(data))
    board = build_board([path])
    assert board.columns == [("csqa", "cot"), ("gsm8k", "cot"), ("gsm8k", "cot_maj8")]
    assert board.variants == ["cot", "cot_maj8"]
    assert board.get("m", ("gsm8k", "cot_maj8")).pass_k == 0.70
    md = render.markdown(board, above_chance=True)
    assert "GSM8K maj@8" in md and "Avg cot_maj8" in md and "40.0 ± 3.0 (pass@8 70.0)" in md
    assert "Above chance" in md and "| m | 50.0 |  |  |" in md  # open-ended GSM8K: no chance level
    assert "Above chance" not in render.markdown(board)
    rows = read_csv_text(render.csv_text(board, above_chance=True))
    assert rows["m"]["gsm8k_cot_maj8_pass_k"] == "0.7" and rows["m"]["csqa_cot_above_chance"] == "0.5"


def read_csv_text(text: str) -> dict[str, dict[str, str]]:
    return {row["model"]: row for row in csv.DictReader(io.StringIO(text))}


def test_difference_table_has_paired_ci_and_mcnemar_p(tmp_path):
    from samples_support import csqa_lines, write_run

    from training.evaluate.paired import mcnemar_exact

    write_run(tmp_path / "r", "base", {"aligncot_csqa_cot": csqa_lines("wwwwwwwwwwwwwwwwwwcc")})
    write_run(tmp_path / "r", "sft", {"aligncot_csqa_cot": csqa_lines("ccccccccccccccwwwwcc")})
    out = tmp_path / "lb"
    result = CliRunner().invoke(
        leaderboard, [str(tmp_path / "r"), "--out-dir", str(out), "--no-charts", "--baseline", "base"]
    )
    assert result.exit_code == 0, result.output
    row = read_csv(out / "leaderboard.csv")["sft"]
    assert float(row["delta_csqa_cot"]) == pytest.approx(0.7)
    assert float(row["delta_csqa_cot_p"]) == pytest.approx(mcnemar_exact(14, 0), rel=1e-5)
    assert (row["delta_csqa_cot_n_paired"], row["delta_csqa_cot_discordant"]) == ("20", "14")
    assert float(row["delta_csqa_cot_ci_low"]) > 0.4
    cells = TableCells()
    cells.feed((out / "leaderboard.html").read_text())
    cell = cells.tables["delta"]["sft"]
    assert cell["delta_csqa_cot"].startswith("+70.0 [") and cell["delta_csqa_cot"].endswith(" *")
    assert cell["delta_csqa_cot/class"] == "sig" and "exact McNemar" in (out / "leaderboard.html").read_text()


def test_chart_has_error_bars_visible_zero_bars_and_a_teacher_marker_per_benchmark(results_dir):
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.container import BarContainer, ErrorbarContainer

    from training.evaluate.leaderboard.charts import ZERO_STUB, figure

    write_results(results_dir, "silent", {"aligncot_csqa_cot": (0.0, 0.0, 100), "aligncot_gsm8k_cot": (0.0, 0.0, 50)})
    fig = figure(build_board([results_dir]), "cot", teacher="teacher")
    ax = fig.axes[0]
    bars = {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers if isinstance(c, BarContainer)}
    assert set(bars) == {"student-base", "student-sft", "silent"}  # the teacher is no bar
    assert bars["student-sft"] == pytest.approx([62.0, 25.0])
    assert bars["silent"] == [ZERO_STUB, ZERO_STUB] and [t.get_text() for t in ax.texts] == ["0", "0"]
    bar_errs = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bar_errs) == 3 + 2  # one per student series, one per teacher marker
    ticks = [
        c
        for c in ax.collections
        if isinstance(c, LineCollection)
        and len(c.get_segments()) == 1
        and c.get_segments()[0][0][1] == c.get_segments()[0][1][1]
    ]
    levels = sorted(round(seg[0][1], 6) for c in ticks for seg in c.get_segments())
    assert levels == [60.0, 85.0]  # teacher's GSM8K and CSQA cot, each at its own benchmark
    drawn = [line for line in ax.lines if line.get_linestyle() not in ("None", "") and len(line.get_xdata()) > 1]
    assert not [line for line in drawn if max(line.get_xdata()) - min(line.get_xdata()) >= 1]  # none across benchmarks
    plt.close(fig)


def test_rows_are_ordered_base_students_teacher_not_by_name(tmp_path):
    from training.evaluate.leaderboard import ordering
    from training.evaluate.recorded import RECORDED_KEY

    entries = {"aligncot_csqa_cot": (0.5, 0.05, 100)}
    for model in ("a-teacher-copy", "b-dpo", "c-plain", "d-sft", "e-recorded", "f-student-base"):
        path = write_results(tmp_path / "r", model, entries)
        data = json.loads(path.read_text())
        if model in ("b-dpo", "d-sft"):  # students: the base plus an adapter
            data["config"]["model_args"] = f"pretrained=/m/base,peft=/m/{model}"
        if model == "e-recorded":  # a teacher's recorded generations, re-scored
            data[RECORDED_KEY] = {"prompt": "the teacher's own"}
        path.write_text(json.dumps(data))
    board = build_board([tmp_path / "r"])
    assert board.rows == ["a-teacher-copy", "b-dpo", "c-plain", "d-sft", "e-recorded", "f-student-base"]
    roles = ordering.reorder(board, teacher="a-teacher-copy")
    # base: no adapter (c-plain) or named base; students in path order; teachers: --teacher, recorded
    assert board.rows == ["c-plain", "f-student-base", "b-dpo", "d-sft", "a-teacher-copy", "e-recorded"]
    assert roles["e-recorded"] == roles["a-teacher-copy"] == ordering.TEACHER and roles["d-sft"] == ordering.STUDENT
    out = tmp_path / "lb"
    result = CliRunner().invoke(
        leaderboard, [str(tmp_path / "r"), "--out-dir", str(out), "--no-charts", "--teacher", "a-teacher-copy"]
    )
    assert result.exit_code == 0, result.output
    assert list(read_csv(out / "leaderboard.csv")) == board.rows
    md_rows = re.findall(
        r"^\| ([\w-]+)(?: \(scored from recorded generations\))? \|", (out / "leaderboard.md").read_text(), re.M
    )
    assert md_rows[: len(board.rows) + 1] == ["Model", *board.rows]  # the accuracy table


def test_chart_stacks_the_invalid_share_on_each_bar_and_the_teacher(tmp_path):
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from training.evaluate.leaderboard.charts import INVALID_HATCH, INVALID_LABEL, figure

    invalid = {"teacher": 0.02, "student-base": 0.30, "student-sft": 0.0}
    for model, entries in SCORES.items():
        path = write_results(tmp_path, model, entries)
        data = json.loads(path.read_text())
        for metrics in data["results"].values():
            metrics["invalid,none"] = invalid[model]
        path.write_text(json.dumps(data))
    fig = figure(build_board([tmp_path]), "cot", teacher="teacher")
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch() == INVALID_HATCH]
    # student-base on CSQA (35%) and GSM8K (10%), the teacher on both (85%, 60%); student-sft has none
    stacked = sorted((round(b.get_y(), 6), round(b.get_height(), 6)) for b in boxes)
    assert stacked == [(10.0, 30.0), (35.0, 30.0), (60.0, 2.0), (85.0, 2.0)]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["student-base", "student-sft", "teacher", INVALID_LABEL]  # rows, then the hatch
    assert "invalid" in ax.get_ylabel()
    plt.close(fig)
