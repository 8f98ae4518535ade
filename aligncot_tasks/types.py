"""The data types every part of the suite passes around: :class:`Item` and :class:`Score`.

This module imports nothing from the project, so prompts, items, scoring, hooks and training
can all depend on it without import cycles. ``aligncot_tasks.items`` and
``aligncot_tasks.scoring`` re-export both names, so existing imports keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A dataset row, in its hub dataset's own schema (JSON: string keys, values of any type).
Doc = dict[str, Any]


@dataclass(frozen=True)
class Item:
    """A benchmark question in canonical form.

    Attributes:
        question: Question text as shown to the model.
        gold: Reference answer: an option letter for multiple choice, the reference
            answer string otherwise (a number, a LaTeX expression, a BBH target).
        options: Option texts for multiple-choice questions (labelled A, B, ...); empty
            for open-ended questions.

    >>> Item("q", "B", ("x", "y", "z")).letters, Item("q", "B", ("x", "y")).gold_index
    ('ABC', 1)
    """

    question: str
    gold: str
    options: tuple[str, ...] = field(default_factory=tuple)

    @property
    def letters(self) -> str:
        """Option letters this item has, e.g. ``"ABCD"`` (A, B, C, ... by position, as the
        prompts' ``OPTION_LETTERS`` label them; computed here so this module imports nothing)."""
        return "".join(chr(ord("A") + i) for i in range(len(self.options)))

    @property
    def gold_index(self) -> int:
        """Index of the gold option (multiple choice only)."""
        return self.letters.index(self.gold)


@dataclass(frozen=True)
class Score:
    """Outcome of scoring one generation.

    Attributes:
        extracted: The answer the generation commits to, or None if there is none.
        correct: Whether ``extracted`` matches the gold answer.
        cued: Whether a commitment (an answer cue, a box, a structured answer) stated
            ``extracted``, rather than a fallback salvaging it from a text without one; None
            where the answer type does not say (only numeric answers do, see
            :mod:`aligncot_tasks.scoring.numeric`). Left out of the repr and of equality, so
            a verdict reads and compares as (extracted, correct).

    >>> Score("18", True, cued=False) == Score("18", True), Score("18", True, cued=False)
    (True, Score(extracted='18', correct=True))
    """

    extracted: str | None
    correct: bool
    cued: bool | None = field(default=None, repr=False, compare=False)
