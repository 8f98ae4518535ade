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

from training.evaluate.leaderboard.command import leaderboard
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
