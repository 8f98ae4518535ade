"""Multiple-choice answers: which option letter a generation commits to.

(Foundation version; hardened against real outputs in the scoring work.)
"""

from __future__ import annotations

import re

from aligncot_tasks.items import Item
from aligncot_tasks.scoring._match import answer_tails, strip_markup

#: A bare option letter, optionally in brackets, not part of a word.
LETTER_RE = re.compile(r"^\s*[\(\[]?([A-Z])[\)\]]?(?=$|[\s.,:;)!])")


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """Option letter the generation commits to, or None.

    >>> from aligncot_tasks.items import Item
    >>> extract("So the answer is (B).", Item("q", "A", ("x", "y")))
    'B'
    """
    text = strip_markup(generation)
    for tail in answer_tails(text) or ([text] if variant == "zs" else []):
        m = LETTER_RE.match(tail)
        if m and m.group(1) in item.letters:
            return m.group(1)
    return None


def is_correct(extracted: str, item: Item) -> bool:
    """Letter equality.

    >>> from aligncot_tasks.items import Item
    >>> is_correct("B", Item("q", "B", ("x", "y")))
    True
    """
    return extracted == item.gold


def answer_sentence(item: Item) -> str:
    """Canonical answer sentence.

    >>> from aligncot_tasks.items import Item
    >>> answer_sentence(Item("q", "C", ("x", "y", "z")))
    'The answer is (C).'
    """
    return f"The answer is ({item.gold})."
