"""Render a :class:`~training.evaluate.leaderboard.board.Board` as Markdown, CSV and one HTML page.

All three show the same numbers: accuracies in percent with one decimal (CSV keeps the
fractions lm-eval wrote), each with its invalid share (and truncated share, when the task
reports it); the CoT gain ``cot - zs``; optionally the chance-normalised accuracy; and the
difference to a baseline row with its paired 95% CI and exact McNemar p. Markdown and HTML
come from the jinja2 templates in ``templates/`` (HTML autoescaped), the CSV from the csv
module. The HTML page embeds its charts as data URIs, so it is one file.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from training import atomic
from training.evaluate.leaderboard.board import Board
from training.evaluate.leaderboard.tables import Table, col_id, holm_family, tables
from training.evaluate.leaderboard.templating import environment


def smoke_note(board: Board) -> str | None:
    """A warning when any score comes from a ``--limit`` run."""
    limits = sorted(f"{x:g}" for x in board.limits if x is not None)
    return f"Smoke run: lm-eval --limit {', '.join(limits)} rows per task; not full-split results." if limits else None


def notes(board: Board, note: str | None) -> list[str]:
    """Lines shown above the tables: the caller's note, a smoke-run warning, recorded rows."""
    out = [n for n in (note, smoke_note(board)) if n]
    by_prompt: dict[str, list[str]] = {}
    for row, prompt in board.recorded.items():
        by_prompt.setdefault(prompt, []).append(row)
    out += [
        f"{', '.join(rows)}: scored from recorded generations (prompt: {prompt})." for prompt, rows in by_prompt.items()
    ]
    return out


def markdown(
    board: Board,
    baseline: str | None = None,
    note: str | None = None,
    above_chance: bool = False,
    reference: str | None = None,
    adjust: str | None = None,
) -> str:
    """The tables as GitHub-flavoured Markdown."""
    return (
        environment(markdown=True)
        .get_template("leaderboard.md.j2")
        .render(notes=notes(board, note), tables=tables(board, baseline, above_chance, reference, adjust))
    )


def _num(x) -> str:
    return "" if x is None else f"{x:.6g}"


def compared(baseline: str | None, reference: str | None) -> list[tuple[str, str]]:
    """(CSV column prefix, row compared with) of the difference tables.

    >>> compared("base", None), compared("base", "ref")
    ([('delta', 'base')], [('delta', 'base'), ('vs_reference', 'ref')])
    """
    return [(prefix, row) for prefix, row in (("delta", baseline), ("vs_reference", reference)) if row]


def csv_header(
    board: Board, baseline: str | None, above_chance: bool, reference: str | None = None, adjust: str | None = None
) -> list[str]:
    """The CSV's columns: per column acc, stderr, n, invalid, truncated (and pass@k, chance-
    normalised, paired stats when present), then averages, gains, deltas, recorded."""
    header = ["model"]
    for c in board.columns:
        i = col_id(c)
        header += [i, f"{i}_stderr", f"{i}_n", f"{i}_invalid", f"{i}_truncated"]
        header += [f"{i}_pass_k"] if c[1].startswith("cot_maj") else []
        header += [f"{i}_above_chance"] if above_chance else []
    header += [f"avg_{v}" for v in board.variants] + [f"avg_{v}_stderr" for v in board.variants]
    header += [f"gain_{b}" for b in board.gain_benchmarks]
    for prefix, _ in compared(baseline, reference):
        for c in board.columns:
            i = f"{prefix}_{col_id(c)}"
            header += [i, f"{i}_ci_low", f"{i}_ci_high", f"{i}_p", f"{i}_n_paired", f"{i}_discordant"]
            header += [f"{i}_p_holm"] if adjust else []
    return [*header, "recorded_prompt"]


def csv_row(
    board: Board,
    row: str,
    baseline: str | None,
    above_chance: bool,
    reference: str | None = None,
    adjusted: dict | None = None,
) -> list:
    """One model's CSV line, in :func:`csv_header`'s order (``adjusted``: Holm p per comparison)."""
    line: list = [row]
    for c in board.columns:
        s = board.get(row, c)
        line += (
            [_num(s.acc), _num(s.stderr), "" if s.n is None else s.n, _num(s.invalid), _num(s.truncated)]
            if s
            else [""] * 5
        )
        line += [_num(s.pass_k) if s else ""] if c[1].startswith("cot_maj") else []
        line += [_num(board.above_chance(row, c))] if above_chance else []
    avgs = [board.average(row, v) for v in board.variants]
    line += [_num(a[0]) if a else "" for a in avgs] + [_num(a[1]) if a else "" for a in avgs]
    line += [_num(g[0]) if (g := board.gain(row, b)) else "" for b in board.gain_benchmarks]
    for _, against in compared(baseline, reference):
        for c in board.columns:
            p = board.paired(row, against, c) if row != against else None
            line += [_num(board.delta(row, against, c))]
            line += [_num(p.ci[0]), _num(p.ci[1]), _num(p.p), p.n, p.only_a + p.only_b] if p else [""] * 5
            line += [_num(adjusted.get((row, against, c)))] if adjusted is not None else []
    return [*line, board.recorded.get(row, "")]


def csv_text(
    board: Board,
    baseline: str | None = None,
    above_chance: bool = False,
    reference: str | None = None,
    adjust: str | None = None,
) -> str:
    """One row per model (fractions, not percent)."""
    against = [row for _, row in compared(baseline, reference)]
    adjusted = holm_family(board, against) if adjust == "holm" else None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(csv_header(board, baseline, above_chance, reference, adjust))
    writer.writerows(csv_row(board, row, baseline, above_chance, reference, adjusted) for row in board.rows)
    return buf.getvalue()


@dataclass(frozen=True)
class Report:
    """What the pages show besides the board.

    Attributes:
        baseline: Row the difference table subtracts (None: no difference table).
        title: Page and file heading.
        note: A line shown above the tables.
        charts: PNG files embedded in the HTML page.
        above_chance: Add the chance-normalised table.
        links: (table id, row, column id) -> relative URL of a drill-down page.
        reference: A second row every other is compared with (a grid's reference variant).
        adjust: ``holm``: the difference tables' p-values Holm-adjusted as one family.
    """

    baseline: str | None = None
    title: str = "aligncot leaderboard"
    note: str | None = None
    charts: tuple[Path, ...] = ()
    above_chance: bool = False
    links: dict = field(default_factory=dict)
    reference: str | None = None
    adjust: str | None = None


def html_page(board: Board, report: Report = Report()) -> str:
    """One self-contained HTML page: notes, tables (cells carry ``data-col``), embedded charts."""
    images = [(Path(p).stem, base64.b64encode(Path(p).read_bytes()).decode("ascii")) for p in report.charts]
    template = environment().get_template("leaderboard.html.j2")
    return template.render(
        title=report.title,
        notes=notes(board, report.note),
        tables=tables(board, report.baseline, report.above_chance, report.reference, report.adjust),
        images=images,
        links=report.links,
        compare_link=bool(report.links),
    )


def write_all(board: Board, out_dir: str | os.PathLike, report: Report = Report()) -> list[Path]:
    """Write leaderboard.md, leaderboard.csv and leaderboard.html into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = markdown(board, report.baseline, report.note, report.above_chance, report.reference, report.adjust)
    return [
        atomic.write_text(out / "leaderboard.md", f"# {report.title}\n\n" + md),
        atomic.write_text(
            out / "leaderboard.csv",
            csv_text(board, report.baseline, report.above_chance, report.reference, report.adjust),
        ),
        atomic.write_text(out / "leaderboard.html", html_page(board, report)),
    ]


__all__ = ["Report", "Table", "csv_text", "html_page", "markdown", "write_all"]
