"""Which rows the leaderboard's difference tables compare, and their Holm family.

Three comparisons, each a table (Markdown, HTML) and a block of CSV columns:

- ``delta``: every row minus the baseline (the base student);
- ``vs_reference``: every row minus a grid's reference variant. A self-refined grid has two
  rows per variant, ``v.sft`` (SFT only) and ``v`` (SFT + self-refine): an SFT-only row is
  compared with the reference's SFT-only row, so that both sides went through the same stages;
- ``vs_sft``: self-refine's own effect, every row ``v`` that has a ``v.sft`` beside it minus that
  row.

A pair that two tables show (the baseline vs the reference; ``ref`` vs ``ref.sft``) is one test
of the Holm family, counted once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from training.evaluate import paired
from training.evaluate.leaderboard.board import Board
from training.evaluate.leaderboard.cells import Column

#: Suffix of a self-refined variant's SFT-only row (``aligncot run`` names them so).
SFT_SUFFIX = ".sft"


@dataclass(frozen=True)
class Comparison:
    """One difference table.

    Attributes:
        prefix: The CSV columns' prefix (``delta``, ``vs_reference``, ``vs_sft``).
        table_id: The table's id in the pages.
        title: The table's caption.
        against: Row -> the row it is compared with (None: not compared).
    """

    prefix: str
    table_id: str
    title: str
    against: Callable[[str], str | None]

    def pairs(self, board: Board) -> list[tuple[str, str]]:
        """(row, compared with) for every row this table shows."""
        return [(row, other) for row in board.rows if (other := self.against(row)) not in (None, row)]


def sft_row(row: str) -> str:
    """The SFT-only row of a self-refined variant's row.

    >>> sft_row("csqa")
    'csqa.sft'
    """
    return row + SFT_SUFFIX


def same_stage(row: str, reference: str, rows: list[str]) -> str:
    """The reference row ``row`` is compared with: the reference's SFT-only row for an SFT-only
    row (when the board has one), else the reference.

    >>> same_stage("obqa.sft", "csqa", ["csqa", "csqa.sft", "obqa", "obqa.sft"])
    'csqa.sft'
    >>> same_stage("obqa", "csqa", ["csqa", "csqa.sft"]), same_stage("x.sft", "csqa", ["csqa"])
    ('csqa', 'csqa')
    """
    if row.endswith(SFT_SUFFIX) and sft_row(reference) in rows:
        return sft_row(reference)
    return reference


def comparisons(board: Board, baseline: str | None, reference: str | None) -> list[Comparison]:
    """The difference tables this board shows, in page order (module docstring)."""
    out = []
    if baseline:
        out.append(Comparison("delta", "delta", f"Difference to {baseline} (percentage points)", lambda r: baseline))
    if reference:
        title = f"Difference to {reference} (percentage points)"
        if sft_row(reference) in board.rows:
            title = f"Difference to {reference}; an SFT-only row: to {sft_row(reference)} (percentage points)"
        out.append(Comparison("vs_reference", "delta_reference", title, lambda r: same_stage(r, reference, board.rows)))
    if any(sft_row(r) in board.rows for r in board.rows):
        out.append(
            Comparison(
                "vs_sft",
                "delta_sft",
                "Self-refine: each refined row minus its SFT-only row (percentage points)",
                lambda r: sft_row(r) if sft_row(r) in board.rows else None,
            )
        )
    return out


def holm_family(board: Board, tables: list[Comparison]) -> dict[tuple[str, str, Column], float]:
    """Holm-adjusted p of every paired test the difference tables show (each row vs the row its
    table compares it with, every column), adjusted together as one family; a pair that two
    tables show is one test, counted once."""
    keys = [(row, other, c) for t in tables for row, other in t.pairs(board) for c in board.columns]
    tests: dict[tuple[frozenset, Column], float] = {}
    for row, other, c in keys:
        if (test := board.paired(row, other, c)) is not None:
            tests.setdefault((frozenset((row, other)), c), test.p)
    adjusted = dict(zip(tests, paired.holm(list(tests.values()))))
    return {(r, o, c): adjusted[(frozenset((r, o)), c)] for r, o, c in keys if (frozenset((r, o)), c) in adjusted}
