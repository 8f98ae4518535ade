"""The leaderboard's plain data types: a :data:`Column` and the :class:`Score` in a cell.

This module imports nothing from the project (and nothing heavy), so every part of the
leaderboard -- results reading, the :class:`~training.evaluate.leaderboard.board.Board`,
tables, rendering, charts -- can share these types without import cycles.
:mod:`~training.evaluate.leaderboard.results` and :mod:`~training.evaluate.leaderboard.board`
re-export both names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

Column = tuple[str, str]  # (benchmark key, variant)


@dataclass(frozen=True)
class Score:
    """One benchmark-level accuracy of one model.

    Attributes:
        acc: Accuracy in [0, 1].
        stderr: lm-eval's standard error, None when it reported none.
        n: Rows evaluated (after ``--limit``), None when unknown.
        limit: lm-eval's ``--limit`` (None: the full split).
        date: Evaluation start time (epoch seconds): the newest score wins.
        source: The results file it came from.
        invalid: Share of questions with no extractable answer (None: not reported).
        truncated: Share cut off at the token cap without an answer (None: not reported).
        pass_k: pass@k of a maj@k cell (None otherwise).
        above_chance: lm-eval's chance-normalised accuracy, when the task reports it.
        samples: The samples files of the entry's leaf tasks (None: not logged).
        no_cue: Share whose answer was salvaged from text without an answer cue (numeric
            tasks report it; None: not reported).
    """

    acc: float
    stderr: float | None
    n: int | None
    limit: float | None
    date: float
    source: str
    invalid: float | None = None
    truncated: float | None = None
    pass_k: float | None = None
    above_chance: float | None = None
    samples: tuple[Path, ...] | None = None
    no_cue: float | None = None
