"""Per-question drill-down pages: static, self-contained, generated from lm-eval's samples files.

``questions/view.html#m=<model>&col=<column>`` lists every question of one leaderboard cell
(prompt, generation, extracted answer, target, verdict) with filters for wrong / invalid /
truncated rows and a search box; ``questions/compare.html#a=..&b=..&col=..`` shows two
models side by side where they disagree. No server: the pages load their data as ``.js``
files through ``<script>`` tags (``fetch`` of ``file://`` URLs is blocked by browsers).

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

from training import atomic
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


def chunk_rows(samples: list[Sample]) -> list[list]:
    """Full rows of one chunk: task, doc_id, prompt, generation(s), extracted, target."""
    sep = "\n\n──── next sample ────\n\n"
    return [[s.task, s.doc_id, s.prompt, sep.join(s.generations), s.extracted, s.target] for s in samples]


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
    written, links, cells = [], {}, {}
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
    written.append(write(root / "data" / "manifest.js", js_data("manifest", manifest(board, cells))))
    for page in ("view.html", "compare.html"):
        written.append(write(root / page, environment().get_template(f"{page}.j2").render()))
    assets = resources.files(PACKAGE) / "templates"
    for name in ASSETS:
        written.append(write(root / name, (assets / name).read_text(encoding="utf-8")))
    return written, links
