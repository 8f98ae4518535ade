"""The order of a leaderboard's rows: the base model, then the students, then the teacher.

A reader compares every student with the model it started from and with the model it
learned from, so those two frame the students instead of sorting among them by name. The
rule, decided per row from what its results files say:

- **teacher**: the ``--teacher`` row, or a row scored from recorded generations (a
  teacher's CoT re-scored by the suite; :mod:`training.evaluate.recorded`);
- **base**: the ``--baseline`` row, a row whose label has the word ``base``, or a row none of
  whose results files names a ``peft`` adapter in lm-eval's ``model_args`` (a student of
  this project is the base model plus an adapter; a merged fine-tune therefore sorts with
  the bases unless it is renamed);
- **student**: every other row.

Within a group rows keep the board's order (results files in path order).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from training.evaluate.leaderboard.board import Board
from training.evaluate.leaderboard.results import model_args

BASE, STUDENT, TEACHER = "base", "student", "teacher"
#: Groups in display order.
GROUPS = (BASE, STUDENT, TEACHER)
#: A label naming a base model ("base", "student-base", "SmolLM2 base").
BASE_WORD_RE = re.compile(r"(?i)(?<![a-z0-9])base(?![a-z0-9])")


def has_adapter(source: str) -> bool:
    """Whether the results file at ``source`` was evaluated with a ``peft`` adapter."""
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(model_args(data).get("peft"))


def role(board: Board, row: str, baseline: str | None = None, teacher: str | None = None) -> str:
    """Which group ``row`` belongs to (see the module docstring for the rule)."""
    if row == teacher or (row in board.recorded and row != baseline):
        return TEACHER
    if row == baseline or BASE_WORD_RE.search(row):
        return BASE
    sources = {s.source for (r, _), s in board.scores.items() if r == row}
    return STUDENT if any(has_adapter(src) for src in sources) else BASE


def ordered(rows: list[str], roles: dict[str, str]) -> list[str]:
    """``rows`` grouped base, students, teacher, each group in its given order.

    >>> ordered(["teacher", "sft", "base", "dpo"], {"teacher": "teacher", "base": "base"})
    ['base', 'sft', 'dpo', 'teacher']
    """
    return sorted(rows, key=lambda r: GROUPS.index(roles.get(r, STUDENT)))


def reorder(board: Board, baseline: str | None = None, teacher: str | None = None) -> dict[str, str]:
    """Put ``board.rows`` in display order; return each row's group."""
    roles = {row: role(board, row, baseline, teacher) for row in board.rows}
    board.rows[:] = ordered(board.rows, roles)
    return roles
