"""Closed label sets: ``True``/``False``, ``Yes``/``No``, ``valid``/``invalid``.

A :class:`LabelSet` is the :class:`~aligncot_tasks.scoring.bbh._reader.Reader` of one set;
the answer-type modules :mod:`.truth`, :mod:`.yesno` and :mod:`.validity` each bind one.
Labels are compared case-insensitively (BBH writes ``yes`` in one subtask and ``Yes`` in
others; a model's capitalisation is not its answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aligncot_tasks.items import Item
from aligncot_tasks.scoring.bbh._reader import committed

#: What may open an answer before its first word: space, quotes, brackets, a bullet.
OPENING = r"""^[\s"'(\[*•-]*"""


@dataclass(frozen=True)
class LabelSet:
    """A closed set of answer words.

    Attributes:
        phrases: Phrase (lower case) -> label it means, e.g. ``{"not valid": "invalid"}``.
            Longer phrases are tried first, so "invalid" is never read as "valid".
    """

    phrases: dict[str, str]
    _alternation: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = sorted(self.phrases, key=len, reverse=True)
        words = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered)
        object.__setattr__(self, "_alternation", rf"\b({words})\b")

    def _label(self, phrase: str) -> str:
        return self.phrases[" ".join(phrase.lower().split())]

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The label ``text`` opens with.

        >>> YES_NO.at_start('"Yes", because ...')
        ('yes', 4)
        >>> YES_NO.at_start("Nobody knows") is None
        True
        """
        m = re.match(OPENING + self._alternation, text, re.IGNORECASE)
        return (self._label(m.group(1)), m.end()) if m else None

    def first(self, text: str) -> str | None:
        """The first label mentioned anywhere in ``text``.

        >>> VALIDITY.first("The argument is not valid, as shown.")
        'invalid'
        """
        m = re.search(self._alternation, text, re.IGNORECASE)
        return self._label(m.group(1)) if m else None

    def extract(self, generation: str, item: Item, variant: str = "cot") -> str | None:
        """The label ``generation`` commits to (lower case), or None.

        >>> TRUTH.extract("... = not True = False. So the answer is False.", Item("q", "False"))
        'false'
        >>> TRUTH.extract("True", Item("q", "False"), "zs")
        'true'
        """
        return committed(generation, self, variant)

    def is_correct(self, extracted: str, item: Item) -> bool:
        """Case-insensitive label equality (the gold may itself be a synonym).

        >>> YES_NO.is_correct("yes", Item("q", "Yes"))
        True
        """
        gold = " ".join(item.gold.lower().split())
        return extracted == self.phrases.get(gold, gold)


TRUTH = LabelSet({"true": "true", "false": "false"})
YES_NO = LabelSet({"yes": "yes", "no": "no"})
VALIDITY = LabelSet({"valid": "valid", "invalid": "invalid", "not valid": "invalid"})
