"""BBH multiple choice: the generic option reader with BBH's target format.

Which option a generation picks is read by :func:`aligncot_tasks.scoring.choice.choose`,
the one multiple-choice reader of the project, on the options that BBH writes inside the
question (``Options:\\n(A) ...``, read by :func:`~aligncot_tasks.scoring.choice.inline_options`).
Only two things are BBH's own: targets are written ``(B)``, and three targets are an
answer text rather than a letter (rows whose options were split at commas, e.g.
``Monsters, Inc`` for options ``(A) Monsters`` and ``(B) Inc``); such a target is one more
option that only its text can name.
"""

from __future__ import annotations

import re

from aligncot_tasks.items import Item
from aligncot_tasks.prompts import OPTION_LETTERS
from aligncot_tasks.scoring._match import words
from aligncot_tasks.scoring.bbh._reader import answer_sentence
from aligncot_tasks.scoring.choice import choose, inline_options

__all__ = ["answer_sentence", "extract", "is_correct", "options"]

#: A target that is an option letter.
GOLD_LETTER_RE = re.compile(r"^\(([A-Z])\)$")
#: Stands for a target written as text. Not a letter, so no letter a model writes names it:
#: :func:`~aligncot_tasks.scoring.choice.choose` can only match it by its text.
TEXT_TARGET = "#"


def options(item: Item) -> dict[str, str]:
    """Option letter -> option text, as written in ``item``'s question.

    >>> options(Item("Pick:\\nOptions:\\n(A) red\\n(B) blue", "(B)"))
    {'A': 'red', 'B': 'blue'}
    """
    return dict(zip(OPTION_LETTERS, inline_options(item.question)))


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The option ``generation`` commits to: ``(X)``, or the target itself when the target
    is text that the generation states; None if it commits to none.

    >>> q = Item("Which shape?\\nOptions:\\n(A) circle\\n(B) kite\\n(C) line", "(B)")
    >>> extract("It has four sides. So the answer is (B).", q)
    '(B)'
    >>> extract("Four sides, two pairs equal: so the answer is kite.", q)
    '(B)'
    >>> extract("(C)", q, "zs")
    '(C)'
    >>> extract("I would go with (A) here.", q, "zs")
    '(A)'
    >>> extract("It has four sides, so it is a", q) is None
    True
    >>> movie = Item("Similar?\\nOptions:\\n(A) Monsters\\n(B) Inc\\n(C) Heat", "Monsters, Inc")
    >>> extract("So the answer is Monsters, Inc.", movie), extract("So the answer is (A).", movie)
    ('Monsters, Inc', '(A)')
    """
    texts = inline_options(item.question)
    letters = OPTION_LETTERS[: len(texts)]
    gold = item.gold.strip()
    if not GOLD_LETTER_RE.match(gold):
        letters, texts = letters + TEXT_TARGET, (*texts, gold)
    letter = choose(generation, letters, texts, variant)
    if letter is None:
        return None
    return gold if letter == TEXT_TARGET else f"({letter})"


def is_correct(extracted: str, item: Item) -> bool:
    """Whether the extracted option is the target (case, quotes and spacing aside).

    >>> is_correct("(B)", Item("q", "(B)"))
    True
    >>> is_correct("monsters, inc", Item("q", "Monsters, Inc"))
    True
    >>> is_correct("(B)", Item("q", "(C)"))
    False
    """
    return words(extracted) == words(item.gold)
