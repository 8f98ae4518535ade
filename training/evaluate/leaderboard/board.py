"""The leaderboard's data: models x (benchmark, variant) cells and the views derived from them.

Cells come from lm-eval results files (:mod:`training.evaluate.leaderboard.results`); the
paired comparison with a baseline row comes from the samples files beside them. Rendering
lives in :mod:`training.evaluate.leaderboard.render`, charts in
:mod:`training.evaluate.leaderboard.charts`, the command in
:mod:`training.evaluate.cli`.
"""

from __future__ import annotations

import math
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

from aligncot_tasks import suite
from training.errors import ResultsError
from training.evaluate.leaderboard.cells import Column, Score
from training.evaluate.leaderboard.results import (
    VARIANT_ORDER,
    find_results_files,
    generation_backend,
    read_results_file,
    recorded_note,
    variant_rank,
)
from training.evaluate.samples import Sample, above_chance, pair, read_entry

if typing.TYPE_CHECKING:  # the paired tests import numpy: a Board is built and read without it
    from training.evaluate import paired as paired_test

__all__ = ["VARIANT_ORDER", "Board", "Column", "Score", "build_board"]


@dataclass
class Board:
    """Models x (benchmark, variant) accuracies, plus the derived views.

    Attributes:
        scores: (row, column) -> newest score.
        rows: Row labels in first-seen order.
        recorded: Row -> prompt note, for rows scored from recorded generations.
        backends: Row -> the lm-eval backends that made its scores.
    """

    scores: dict[tuple[str, Column], Score] = field(default_factory=dict)
    rows: list[str] = field(default_factory=list)
    recorded: dict[str, str] = field(default_factory=dict)
    backends: dict[str, set[str]] = field(default_factory=dict)
    _samples: dict[tuple[Path, ...], list[Sample]] = field(default_factory=dict, repr=False)
    _paired: dict[tuple[str, str, Column], paired_test.Paired | None] = field(default_factory=dict, repr=False)

    def add(self, row: str, column: Column, score: Score) -> None:
        """Record a score; of two for the same cell, the newer evaluation wins."""
        if row not in self.rows:
            self.rows.append(row)
        old = self.scores.get((row, column))
        if old is None or score.date >= old.date:
            self.scores[(row, column)] = score

    @property
    def columns(self) -> list[Column]:
        """Columns present, in suite order: benchmark-major, so a benchmark's zs and cot sit side by side."""
        present = {c for _, c in self.scores}
        order = list(suite.BENCHMARKS)
        return sorted(
            present, key=lambda c: (variant_rank(c[1])[0] == len(VARIANT_ORDER), order.index(c[0]), variant_rank(c[1]))
        )

    @property
    def variants(self) -> list[str]:
        """Variants present, in order (maj@k families last)."""
        return sorted({c[1] for c in self.columns}, key=variant_rank)

    @property
    def gain_benchmarks(self) -> list[str]:
        """Benchmarks with both a zs and a cot column (the CoT gain is defined)."""
        cols = set(self.columns)
        return [b for b in suite.BENCHMARKS if (b, "zs") in cols and (b, "cot") in cols]

    def reports_no_cue(self, column: Column) -> bool:
        """Whether any row's cell in ``column`` reports the ``no_cue`` share (numeric tasks)."""
        return any(s.no_cue is not None for (_, c), s in self.scores.items() if c == column)

    def get(self, row: str, column: Column) -> Score | None:
        """The score of a cell, or None."""
        return self.scores.get((row, column))

    def average(self, row: str, variant: str) -> tuple[float, float | None] | None:
        """Unweighted mean over the variant's columns, with the stderr of a mean of
        independent estimates; None when the row misses any of those columns (a mean over a
        different set of benchmarks would not be comparable)."""
        columns = [c for c in self.columns if c[1] == variant]
        cells = [s for c in columns if (s := self.get(row, c)) is not None]
        if not cells or len(cells) < len(columns):
            return None
        k = len(cells)
        mean = sum(s.acc for s in cells) / k
        ses = [s.stderr for s in cells if s.stderr is not None]
        se = None if len(ses) < k else math.sqrt(sum(x * x for x in ses)) / k
        return mean, se

    def gain(self, row: str, benchmark: str) -> tuple[float, float | None] | None:
        """CoT gain ``cot - zs`` and its stderr (treating the two runs as independent, which
        overstates it: both score the same questions)."""
        cot, zs = self.get(row, (benchmark, "cot")), self.get(row, (benchmark, "zs"))
        if cot is None or zs is None:
            return None
        se = None if cot.stderr is None or zs.stderr is None else math.hypot(cot.stderr, zs.stderr)
        return cot.acc - zs.acc, se

    def delta(self, row: str, baseline: str, column: Column) -> float | None:
        """Accuracy difference of ``row`` to the ``baseline`` row on a column."""
        a, b = self.get(row, column), self.get(baseline, column)
        return None if a is None or b is None else a.acc - b.acc

    def samples(self, row: str, column: Column) -> list[Sample] | None:
        """The cell's questions from its samples files (read once), None when not logged."""
        s = self.get(row, column)
        if s is None or s.samples is None:
            return None
        if s.samples not in self._samples:
            self._samples[s.samples] = read_entry(s.samples)
        return self._samples[s.samples]

    def paired(self, row: str, baseline: str, column: Column) -> paired_test.Paired | None:
        """Exact McNemar and paired bootstrap of ``row`` vs ``baseline`` on the questions
        both answered; None without samples on both sides or without a shared question."""
        if (row, baseline, column) not in self._paired:  # every rendering asks again
            a, b = self.samples(row, column), self.samples(baseline, column)
            x, y, _ = pair(a, b) if a is not None and b is not None else ([], [], 0)
            from training.evaluate import paired as paired_test

            self._paired[(row, baseline, column)] = paired_test.compare(x, y) if x else None
        return self._paired[(row, baseline, column)]

    def above_chance(self, row: str, column: Column) -> float | None:
        """Chance-normalised accuracy: lm-eval's metric when reported, else from the samples."""
        s = self.get(row, column)
        if s is None:
            return None
        if s.above_chance is not None:
            return s.above_chance
        rows = self.samples(row, column)
        return above_chance(rows) if rows else None

    @property
    def limits(self) -> set[float | None]:
        """The distinct ``--limit`` values behind the table (not {None}: a smoke run)."""
        return {s.limit for s in self.scores.values()}


def build_board(paths: list[str | os.PathLike], renames: dict[str, str] | None = None) -> Board:
    """Read every results file under ``paths`` into a :class:`Board`.

    Args:
        paths: Results files or directories holding them.
        renames: Row label -> new label.

    Raises:
        ResultsError: No file, an unreadable file, or no ``aligncot_*`` benchmark entry at all.
    """
    files = find_results_files(paths)
    if not files:
        raise ResultsError(f"no results_*.json under {', '.join(map(str, paths))}")
    board = Board()
    for path in files:
        label, scores = read_results_file(path)
        label = (renames or {}).get(label, label)
        for column, score in scores.items():
            board.add(label, column, score)
        if scores and (note := recorded_note(path)) is not None:
            board.recorded[label] = note
        if scores:
            board.backends.setdefault(label, set()).add(generation_backend(path))
    if not board.scores:
        raise ResultsError(
            "none of the results files has a benchmark-level aligncot_* entry "
            "(e.g. aligncot_csqa_cot, or a group like aligncot_mmlu_cot)"
        )
    for row, column in list(board.scores):
        # Read (and cache) every cell's samples now: a file holding a question twice is
        # refused here, before any page or chart is written, not halfway through rendering.
        board.samples(row, column)
    return board
