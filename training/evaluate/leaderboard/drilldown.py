"""Per-question drill-down pages: static, self-contained, generated from lm-eval's samples files.

``questions/view.html#m=<model>&col=<column>`` lists every question of one leaderboard cell
(the question and its options first, the prompt as sent collapsed below it; generation,
extracted answer and target with their option texts; verdict) with filters for wrong /
invalid / truncated rows and a search box; ``questions/compare.html#a=..&b=..&col=..`` shows
two models side by side where they disagree, headed by the difference A - B with its paired
bootstrap CI and exact McNemar p (:mod:`training.evaluate.paired`, as the difference table;
computed here for every pair of rows, one ``data/paired/<column>.js`` per column). No server:
the pages load their data as ``.js`` files through ``<script>`` tags (``fetch`` of
``file://`` URLs is blocked by browsers).

Sized for MMLU's 14k questions: each cell's data is an *index* (one status character,
one truncation character and one pairing key per question: a few hundred KB at 15k rows)
plus chunks of :data:`CHUNK` full rows. A page loads the index, then only the chunks of the
rows it shows (50 per page); a search loads the cell's chunks on demand.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.items import Item
from training import atomic
from training.errors import ResultsError
from training.evaluate import paired as paired_test
from training.evaluate.leaderboard.board import Board
from training.evaluate.leaderboard.cells import Column
from training.evaluate.leaderboard.tables import col_id, col_title
from training.evaluate.leaderboard.templating import PACKAGE, environment
from training.evaluate.samples import Sample

#: Folder of the drill-down pages inside the leaderboard's output folder.
FOLDER = "questions"
#: Full rows per data chunk.
CHUNK = 500
#: Static files copied beside the pages.
ASSETS = ("questions.js", "questions.css")


def slug(label: str) -> str:
    """A file-name-safe, collision-free name for a row label.

    >>> slug("/m/student sft")
    'm_student_sft-f321e2'
    """
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", label).strip("_.")[:40] or "model"
    return f"{safe}-{hashlib.sha1(label.encode('utf-8')).hexdigest()[:6]}"


def status(s: Sample) -> str:
    """One character per question: ``c`` correct, ``i`` invalid (no answer), ``w`` wrong.

    A row that is invalid counts as invalid, not as wrong: the two filters are disjoint.
    """
    if s.correct:
        return "c"
    return "i" if s.invalid else "w"


def pair_key(s: Sample, prefix: str) -> str:
    """What the compare page pairs questions by: leaf suffix, doc_id and a doc_hash prefix."""
    return f"{s.task.removeprefix(prefix)}/{s.doc_id}/{s.doc_hash[:10]}"


def cell_index(samples: list[Sample], column: Column) -> dict:
    """The small per-question summary a page filters and pairs on."""
    prefix = f"aligncot_{column[0]}_{column[1]}"
    return {
        "n": len(samples),
        "chunk": CHUNK,
        "status": "".join(status(s) for s in samples),
        "trunc": "".join("-" if s.truncated is None else "1" if s.truncated else "0" for s in samples),
        "keys": [pair_key(s, prefix) for s in samples],
    }


def item_of(s: Sample) -> Item | None:
    """The suite's item of a question (its question text and options), None for a task or
    row the suite cannot read."""
    spec = suite.all_tasks().get(s.task)
    try:
        return suite.item(spec, s.doc) if spec is not None else None
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def labelled(answer: str | None, item: Item | None) -> str | None:
    """An answer with its option's text when it is one of the item's letters.

    >>> labelled("B", Item("q", "A", ("bank", "library"))), labelled("42", None)
    ('B) library', '42')
    """
    if answer is None or item is None or len(answer) != 1 or answer not in item.letters:
        return answer
    return f"{answer}) {item.options[item.letters.index(answer)]}"


def chunk_rows(samples: list[Sample]) -> list[list]:
    """Full rows of one chunk: task, doc_id, prompt, generation(s), extracted, target (both
    with their option's text), the question, its options (empty when open-ended)."""
    sep = "\n\n──── next sample ────\n\n"
    rows = []
    for s in samples:
        it = item_of(s)
        rows.append(
            [
                s.task,
                s.doc_id,
                s.prompt,
                sep.join(s.generations),
                labelled(s.extracted, it),
                labelled(s.target, it),
                it.question if it else None,
                list(it.options) if it else [],
            ]
        )
    return rows


def write(path: Path, text: str) -> Path:
    """Write one page or data file atomically, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_text(path, text)


def js_data(key: str, data) -> str:
    """A data file: one call that hands the JSON to the page's loader."""
    return f"AC.put({json.dumps(key)},{json.dumps(data, ensure_ascii=False, separators=(',', ':'))});\n"


def write_cell(root: Path, model: str, column: Column, samples: list[Sample]) -> list[Path]:
    """Write one cell's index and chunks under ``root/data/<model slug>/<column>/``."""
    base = f"data/{slug(model)}/{col_id(column)}"
    out = [write(root / base / "index.js", js_data(f"{base}/index", cell_index(samples, column)))]
    for i in range(0, len(samples), CHUNK):
        key = f"{base}/chunk-{i // CHUNK:04d}"
        out.append(write(root / f"{key}.js", js_data(key, chunk_rows(samples[i : i + CHUNK]))))
    return out


def paired_row(r: paired_test.Paired) -> list:
    """One pair's comparison as the compare page reads it: Δ, CI low, CI high, p, n, only A, only B."""
    return [r.delta, r.ci[0], r.ci[1], r.p, r.n, r.only_a, r.only_b]


def paired_data(board: Board, column: Column, rows: list[str]) -> dict:
    """Every ordered pair of rows with samples in ``column``: the paired test of A - B
    (:meth:`Board.paired`, the difference table's), or why there is none."""
    pairs: dict[str, list | str] = {}
    for a in rows:
        for b in rows:
            if a == b:
                continue
            try:
                r = board.paired(a, b, column)
            except ResultsError as e:  # different documents under one doc_id: no pairing
                pairs[f"{slug(a)}|{slug(b)}"] = str(e)
                continue
            pairs[f"{slug(a)}|{slug(b)}"] = paired_row(r) if r else "no question in both"
    return {
        "test": paired_test.TEST_NAME,
        "alpha": 1 - paired_test.LEVEL,  # a * marks p below it, as in the difference table
        "ci": f"{100 * paired_test.LEVEL:g}% {paired_test.CI_NAME}, "
        f"{paired_test.RESAMPLES} resamples, seed {paired_test.SEED}",
        "pairs": pairs,
    }


def manifest(board: Board, cells: dict[str, dict[str, dict]]) -> dict:
    """Models, columns and per-cell counts: what the pages' menus offer."""
    return {
        "models": [{"label": r, "slug": slug(r), "recorded": board.recorded.get(r)} for r in board.rows],
        "columns": [{"id": col_id(c), "title": col_title(c)} for c in board.columns],
        "cells": cells,
    }


def write_pages(board: Board, root: Path, baseline: str | None = None) -> tuple[list[Path], dict]:
    """Write the drill-down pages and data for every cell that has samples files.

    Returns:
        (files written, links: (table id, row, column id) -> URL relative to the leaderboard).
    """
    written: list[Path] = []
    links: dict[tuple[str, str, str], str] = {}
    cells: dict[str, dict[str, dict[str, int]]] = {}  # row slug -> column id -> counts
    for row in board.rows:
        for column in board.columns:
            samples = board.samples(row, column)
            if not samples:
                continue
            written += write_cell(root, row, column, samples)
            counts = {k: sum(status(s) == k[0] for s in samples) for k in ("correct", "wrong", "invalid")}
            counts["truncated"] = sum(bool(s.truncated) for s in samples)
            cells.setdefault(slug(row), {})[col_id(column)] = {"n": len(samples), **counts}
            links[("accuracy", row, col_id(column))] = f"{FOLDER}/view.html#m={slug(row)}&col={col_id(column)}"
            if baseline and row != baseline and board.samples(baseline, column):
                links[("delta", row, f"delta_{col_id(column)}")] = (
                    f"{FOLDER}/compare.html#a={slug(row)}&b={slug(baseline)}&col={col_id(column)}"
                )
    if not cells:
        return [], {}
    for column in board.columns:
        rows = [r for r in board.rows if col_id(column) in cells.get(slug(r), {})]
        if len(rows) > 1:
            key = f"data/paired/{col_id(column)}"
            written.append(write(root / f"{key}.js", js_data(key, paired_data(board, column, rows))))
    written.append(write(root / "data" / "manifest.js", js_data("manifest", manifest(board, cells))))
    for page in ("view.html", "compare.html"):
        written.append(write(root / page, environment().get_template(f"{page}.j2").render()))
    assets = resources.files(PACKAGE) / "templates"
    for name in ASSETS:
        written.append(write(root / name, (assets / name).read_text(encoding="utf-8")))
    return written, links
