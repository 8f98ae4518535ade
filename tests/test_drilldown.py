"""Per-question drill-down pages in a real headless browser: filters, search, links, counts vs the CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
from click.testing import CliRunner
from samples_support import csqa_lines, write_run
from test_leaderboard import TableCells, rendered_dom

from training.evaluate.cli import leaderboard
from training.evaluate.leaderboard.drilldown import CHUNK

#: MMLU-sized: the pages must stay usable (and small) at this many questions.
N = 15_000


def verdicts(n: int, period: str) -> str:
    return (period * (n // len(period) + 1))[:n]


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("drill")
    # "big": 15k questions; per 10: 5 correct, 3 wrong, 2 invalid of which 1 truncated.
    write_run(
        root / "r",
        "big",
        {"aligncot_csqa_cot": csqa_lines(verdicts(N, "ccccwwwiic"), truncated=verdicts(N, "0000000100"))},
    )
    write_run(root / "r", "other", {"aligncot_csqa_cot": csqa_lines(verdicts(N, "cwcwcwcwcw"))})
    out = root / "lb"
    result = CliRunner().invoke(
        leaderboard, [str(root / "r"), "--out-dir", str(out), "--no-charts", "--baseline", "other"]
    )
    assert result.exit_code == 0, result.output
    return out


def csv_rows(out: Path) -> dict[str, dict[str, str]]:
    return {r["model"]: r for r in csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text()))}


def count(dom: str, attr: str = "data-count") -> int:
    return int(re.search(rf'id="count"[^>]*{attr}="(\d+)"', dom).group(1))


def test_data_is_chunked_not_inline(board_dir):
    files = sorted((board_dir / "questions" / "data").rglob("*.js"))
    assert max(f.stat().st_size for f in files) < 1_000_000  # no multi-MB file
    assert len([f for f in files if f.name.startswith("chunk-")]) == 2 * (N // CHUNK)
    for page in ("view.html", "compare.html"):
        assert (board_dir / "questions" / page).stat().st_size < 20_000


def test_links_resolve_and_filters_match_the_csv(board_dir, tmp_path):
    cells = TableCells()
    cells.feed((board_dir / "leaderboard.html").read_text())
    href = cells.tables["accuracy"]["big"]["csqa_cot/href"]
    base = (board_dir / "leaderboard.html").resolve().as_uri()
    url = urljoin(base, href)
    assert Path(url.removeprefix("file://").split("#")[0]).is_file()
    row = csv_rows(board_dir)["big"]
    n = int(row["csqa_cot_n"])
    dom = rendered_dom(url, tmp_path / "p")
    assert count(dom) == n == N and count(dom, "data-total") == N
    assert dom.count('<tr class="q"') == 50  # one page, not 15k rows
    expected = {
        "invalid": float(row["csqa_cot_invalid"]),
        "truncated": float(row["csqa_cot_truncated"]),
        "correct": float(row["csqa_cot"]),
        "wrong": 1 - float(row["csqa_cot"]) - float(row["csqa_cot_invalid"]),
    }
    status = {"invalid": "i", "wrong": "w", "correct": "c"}
    for name, share in expected.items():
        dom = rendered_dom(f"{url}&filter={name}&p=3", tmp_path / "p")
        assert count(dom) == round(share * n), name
        shown = re.findall(r'<tr class="q" data-status="(\w)" data-trunc="(.)"', dom)
        assert len(shown) == 50 and 'id="page"> page 3 of' in dom
        assert all((t == "1") if name == "truncated" else (s == status[name]) for s, t in shown), name


def test_search_and_escaping(board_dir, tmp_path):
    url = urljoin((board_dir / "leaderboard.html").resolve().as_uri(), csv_link(board_dir))
    dom = rendered_dom(f"{url}&q=Question%201234%20%3Cb%3E", tmp_path / "p")  # one prompt's text
    assert count(dom) == 1
    assert "&lt;b&gt;prompt&lt;/b&gt;" in dom and "<b>prompt</b>" not in dom  # text, never markup


def csv_link(board_dir: Path) -> str:
    cells = TableCells()
    cells.feed((board_dir / "leaderboard.html").read_text())
    return cells.tables["accuracy"]["big"]["csqa_cot/href"]


def test_side_by_side_page_shows_the_disagreements(board_dir, tmp_path):
    cells = TableCells()
    cells.feed((board_dir / "leaderboard.html").read_text())
    href = cells.tables["delta"]["big"]["delta_csqa_cot/href"]
    dom = rendered_dom(urljoin((board_dir / "leaderboard.html").resolve().as_uri(), href), tmp_path / "p")
    summary = re.search(r'data-paired="(\d+)" data-only-a="(\d+)" data-only-b="(\d+)"', dom)
    # per 10 questions: big ccccwwwiic vs other cwcwcwcwcw -> each alone right on 3 (#1, 3, 9 / #4, 6, 8)
    assert tuple(map(int, summary.groups())) == (N, N // 10 * 3, N // 10 * 3)
    row = csv_rows(board_dir)["big"]
    assert int(row["delta_csqa_cot_discordant"]) == count(dom) == N // 10 * 6
    rows = re.findall(r'<tr class="q" data-a="(\w)" data-b="(\w)"', dom)
    assert len(rows) == 50 and all((a == "c") != (b == "c") for a, b in rows)


#: The shipped 300-question CSQA runs: base, the students (the demo's included), and PaLM's recorded CoT.
SHIPPED = Path(__file__).resolve().parents[1] / "harness_configs/recipes/smollm2-135m-instruct/results/csqa300"


@pytest.fixture(scope="module")
def shipped_dir(tmp_path_factory) -> Path:
    from training.evaluate.leaderboard.results import read_results_file

    # Label each run by its folder (the files name the models by paths of the machine that ran them).
    renames = [f"{read_results_file(p)[0]}={p.parent.name}" for p in sorted(SHIPPED.glob("*/results_*.json"))]
    out = tmp_path_factory.mktemp("shipped") / "lb"
    args = [str(SHIPPED), "--out-dir", str(out), "--no-charts", "--baseline", "base"]
    result = CliRunner().invoke(leaderboard, args + [a for r in renames for a in ("--rename", r)])
    assert result.exit_code == 0, result.output
    return out


def test_shipped_rows_are_base_students_teacher(shipped_dir):
    demo = ["demo-base", "demo-sft", "demo-student", "demo-student-paged"]
    sft = [
        "sft",
        "sft-dpo",
        "sft-refine",
        "sft-refine-cvd",
        "sft-refine-t488",
        "sft-refine-t488-look3",
        "sft-refine-t488-look4",
    ]
    students = [*demo, *sft, "sft-run2", "sft-t488"]
    assert list(csv_rows(shipped_dir)) == ["base", *students, "palm-540b"]  # palm-540b: recorded
    manifest = (shipped_dir / "questions" / "data" / "manifest.js").read_text()
    labels = ["base", *["demo"] * 4, *["sft"] * 9, "palm"]
    assert [m.split("-")[0] for m in re.findall(r'"label":"([\w-]+)"', manifest)] == labels


def test_question_stands_first_and_the_gold_option_is_spelled_out(shipped_dir, tmp_path):
    cells = TableCells()
    cells.feed((shipped_dir / "leaderboard.html").read_text())
    url = urljoin(
        (shipped_dir / "leaderboard.html").resolve().as_uri(), cells.tables["accuracy"]["sft-dpo"]["csqa_cot/href"]
    )
    dom = rendered_dom(url, tmp_path / "p")
    first = dom[dom.index('<tr class="q"') :]
    first = first[: first.index("</tr>")]
    question = (
        "A revolving door is convenient for two direction travel, but it also serves as a security measure at a what?"
    )
    # The question opens its cell; the chat template's turns are in a closed <details> after the options.
    assert re.search(r'<td class="question"><p class="qtext">' + re.escape(question) + "</p>", first)
    details = re.search(
        r'<details class="prompt"( open)?><summary>prompt as sent</summary><pre>(.*?)</pre>', first, re.S
    )
    assert details and details.group(1) is None and details.group(2).startswith("&lt;|im_start|&gt;system")
    assert first.index("qtext") < first.index("im_start")
    # Gold A (bank), the model's answer C (department store): both by letter and text.
    assert '<li class="gold">A) bank<span class="mark"> ← gold</span></li>' in first
    assert 'C) department store<span class="mark"> ← answered</span>' in first
    assert '<td class="num">A) bank</td>' in first and '<td class="num">C) department store</td>' in first


def test_compare_page_shows_the_difference_tables_delta_ci_and_p(shipped_dir, tmp_path):
    cells = TableCells()
    cells.feed((shipped_dir / "leaderboard.html").read_text())
    href = cells.tables["delta"]["sft-dpo"]["delta_csqa_cot/href"]
    dom = rendered_dom(urljoin((shipped_dir / "leaderboard.html").resolve().as_uri(), href), tmp_path / "p")
    stats = re.search(
        r'<p id="stats" data-delta="([^"]+)" data-ci-low="([^"]+)" data-ci-high="([^"]+)" data-p="([^"]+)" data-n="(\d+)"',
        dom,
    )
    row = csv_rows(shipped_dir)["sft-dpo"]
    shown = tuple(map(float, stats.groups()))
    csv_values = (
        "delta_csqa_cot",
        "delta_csqa_cot_ci_low",
        "delta_csqa_cot_ci_high",
        "delta_csqa_cot_p",
        "delta_csqa_cot_n_paired",
    )
    assert shown == pytest.approx(tuple(float(row[k]) for k in csv_values), rel=1e-5)
    assert shown[0] == pytest.approx(0.1133, abs=1e-4) and shown[3] == pytest.approx(
        0.0020, abs=1e-4
    )  # README's result
    text = re.search(r'<p id="stats"[^>]*>(.*?)<small>', dom).group(1)
    assert text.startswith("Δ (A − B) +11.3 points [+4.3, +18.3], p = 0.002 *")
    summary = re.search(r'data-only-a="(\d+)" data-only-b="(\d+)"', dom).groups()
    assert f"only A correct {summary[0]}, only B correct {summary[1]}" in text  # the page's own pairing agrees
