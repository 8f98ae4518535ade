"""Render a :class:`training.leaderboard.Board` as Markdown, CSV and one self-contained HTML page.

All three show the same numbers: accuracies in percent with one decimal (CSV keeps the
fractions lm-eval wrote), the CoT gain ``cot - zs`` and the difference to a baseline row
in percentage points. The HTML page embeds its charts as data URIs, so it is one file.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
from pathlib import Path

from aligncot_tasks import suite
from training import atomic
from training.evaluate.leaderboard.board import Board, Column

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td small{color:#777}
.note{background:#fff4d6;border:1px solid #e0c060;padding:.5rem 1rem}
img{max-width:100%;display:block;margin:1rem 0}
"""


def col_id(column: Column) -> str:
    """Machine name of a column, as in the CSV header.

    >>> col_id(("csqa", "cot"))
    'csqa_cot'
    """
    return f"{column[0]}_{column[1]}"


def col_title(column: Column) -> str:
    """Display name of a column.

    >>> col_title(("gsm8k", "zs"))
    'GSM8K zs'
    """
    return f"{suite.BENCHMARKS[column[0]].title} {column[1]}"


def pct(value: float | None, stderr: float | None = None, signed: bool = False) -> str:
    """A fraction as percent with one decimal, optionally ``± stderr``; '' when missing.

    >>> pct(0.4531, 0.0213), pct(-0.05, signed=True), pct(None)
    ('45.3 ± 2.1', '-5.0', '')
    """
    if value is None:
        return ""
    text = f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"
    return text + (f" ± {100 * stderr:.1f}" if stderr is not None else "")


Table = tuple[str, str, list[tuple[str, str]], list[list[str]]]


def tables(board: Board, baseline: str | None = None) -> list[Table]:
    """The report's tables as (table id, caption, header as (CSV column id, title) pairs,
    rows of formatted cells)."""
    cols, variants, gains = board.columns, board.variants, board.gain_benchmarks
    out = []
    model = ("model", "Model")
    header = [model, *((col_id(c), col_title(c)) for c in cols), *((f"avg_{v}", f"Avg {v}") for v in variants)]
    rows = []
    for row in board.rows:
        cells = [pct(s.acc, s.stderr) if (s := board.get(row, c)) else "" for c in cols]
        cells += [pct(*a) if (a := board.average(row, v)) else "" for v in variants]
        rows.append([row, *cells])
    out.append(("accuracy", "Accuracy (%), ± standard error", header, rows))
    if gains:
        header = [model, *((f"gain_{b}", suite.BENCHMARKS[b].title) for b in gains)]
        rows = [[row, *(pct(*g, signed=True) if (g := board.gain(row, b)) else "" for b in gains)] for row in board.rows]
        out.append(("cot_gain", "CoT gain: cot - zs (percentage points)", header, rows))
    if baseline:
        header = [model, *((f"delta_{col_id(c)}", col_title(c)) for c in cols)]
        rows = [[row, *(pct(board.delta(row, baseline, c), signed=True) for c in cols)]
                for row in board.rows if row != baseline]
        out.append(("delta", f"Difference to {baseline} (percentage points)", header, rows))
    return out


def smoke_note(board: Board) -> str | None:
    """A warning when any score comes from a ``--limit`` run."""
    limits = sorted(f"{x:g}" for x in board.limits if x is not None)
    return f"Smoke run: lm-eval --limit {', '.join(limits)} rows per task; not full-split results." if limits else None


def markdown(board: Board, baseline: str | None = None, note: str | None = None) -> str:
    """The tables as GitHub-flavoured Markdown."""
    parts = [f"> {n}\n" for n in (note, smoke_note(board)) if n]
    for _, caption, header, rows in tables(board, baseline):
        parts.append(f"**{caption}**\n")
        parts.append("| " + " | ".join(title for _, title in header) + " |")
        parts.append("|" + "---|" * len(header))
        parts.extend("| " + " | ".join(r) + " |" for r in rows)
        parts.append("")
    return "\n".join(parts)


def csv_text(board: Board, baseline: str | None = None) -> str:
    """One row per model: accuracy, stderr and n per column, averages, gains, deltas (fractions)."""
    cols, variants, gains = board.columns, board.variants, board.gain_benchmarks
    header = ["model"]
    for c in cols:
        header += [col_id(c), f"{col_id(c)}_stderr", f"{col_id(c)}_n"]
    header += [f"avg_{v}" for v in variants] + [f"avg_{v}_stderr" for v in variants]
    header += [f"gain_{b}" for b in gains] + ([f"delta_{col_id(c)}" for c in cols] if baseline else [])

    def num(x):
        return "" if x is None else f"{x:.6g}"

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in board.rows:
        line = [row]
        for c in cols:
            s = board.get(row, c)
            line += [num(s.acc), num(s.stderr), "" if s.n is None else s.n] if s else ["", "", ""]
        avgs = [board.average(row, v) for v in variants]
        line += [num(a[0]) if a else "" for a in avgs] + [num(a[1]) if a else "" for a in avgs]
        line += [num(g[0]) if (g := board.gain(row, b)) else "" for b in gains]
        if baseline:
            line += [num(board.delta(row, baseline, c)) for c in cols]
        writer.writerow(line)
    return buf.getvalue()


def html_page(board: Board, baseline: str | None = None, title: str = "aligncot leaderboard",
              note: str | None = None, charts: list[Path] = ()) -> str:
    """One self-contained HTML page: notes, tables (cells carry ``data-col``), embedded charts."""
    esc = html.escape
    body = [f"<h1>{esc(title)}</h1>"]
    body += [f'<p class="note">{esc(n)}</p>' for n in (note, smoke_note(board)) if n]
    for table_id, caption, header, rows in tables(board, baseline):
        body.append(f'<table id="{table_id}"><caption>{esc(caption)}</caption><thead><tr>')
        body.append("".join(f"<th>{esc(title)}</th>" for _, title in header) + "</tr></thead><tbody>")
        for r in rows:
            cells = [f'<td data-col="{esc(i)}">{esc(v)}</td>' for (i, _), v in zip(header, r)]
            body.append("<tr>" + "".join(cells) + "</tr>")
        body.append("</tbody></table>")
    for png in charts:
        data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
        body.append(f'<img alt="{esc(Path(png).stem)}" src="data:image/png;base64,{data}">')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_all(board: Board, out_dir: str | os.PathLike, baseline: str | None = None,
              title: str = "aligncot leaderboard", note: str | None = None, charts: list[Path] = ()) -> list[Path]:
    """Write leaderboard.md, leaderboard.csv and leaderboard.html into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        atomic.write_text(out / "leaderboard.md", f"# {title}\n\n" + markdown(board, baseline, note)),
        atomic.write_text(out / "leaderboard.csv", csv_text(board, baseline)),
        atomic.write_text(out / "leaderboard.html", html_page(board, baseline, title, note, charts)),
    ]
