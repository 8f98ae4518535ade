"""BBH integer answers (object_counting, multistep_arithmetic_two).

An integer may be written in digits (``-35``, ``1,024``, ``24.0``), with a sign word
(``minus 5``) or in English words (``seven``, ``twenty-one``). A number that is an operand
of an expression (``46 - 22 = 24``) is not an answer; the expression's result is.

Number words and their values are :mod:`aligncot_tasks.scoring.numeric`'s. The number
pattern is not: BBH integers are found anywhere in a line and may be words or signed in
words ("minus five"), where GSM8K/MultiArith numbers may be money or fractions, so each
type keeps the pattern of its own answers.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from aligncot_tasks.items import Item
from aligncot_tasks.scoring._match import match_end
from aligncot_tasks.scoring.bbh._reader import answer_sentence, committed
from aligncot_tasks.scoring.numbers import SCALES, WORD_VALUES, words_to_int

__all__ = ["answer_sentence", "extract", "is_correct"]

_WORD = "|".join(sorted(WORD_VALUES, key=len, reverse=True))
#: A number: sign (symbol or word), then digits (thousands commas allowed) or number words.
NUMBER_RE = re.compile(
    rf"(?<![\w.])(?P<sign>(?<![)\]])[-−–](?=\d)|\b(?:minus|negative)\s+)?"
    rf"(?:(?P<digits>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?!\w)"
    rf"|(?P<words>\b(?:{_WORD})(?:[\s-]+(?:{_WORD}|{'|'.join(SCALES)}|and\s+(?={_WORD})))*\b))",
    re.IGNORECASE,
)
#: What may open an answer before its number.
OPENING_RE = re.compile(r"""^[\s"'(\[]*""")
#: An arithmetic operator right after a number: the number is an operand, not a result.
OPERATOR_AFTER_RE = re.compile(r"[\s)\]]*(?:[+*/×÷^]|[-−–]\s*[\d(])")
#: An operator right before a number.
OPERATOR_BEFORE_RE = re.compile(r"[+*/×÷^\-−–]\s*\(?\s*$")
#: ``= <number>``: an expression's result.
RESULT_RE = re.compile(r"=\s*(?=\S)")


def _value(m: re.Match[str]) -> str:
    """Canonical string of a :data:`NUMBER_RE` match (``24.0`` -> ``24``)."""
    negative = bool(m.group("sign"))
    value = Decimal(words_to_int(m.group("words"))) if m.group("words") else Decimal(m.group("digits").replace(",", ""))
    value = -value if negative else value
    return str(value.to_integral_value()) if value == value.to_integral_value() else str(value.normalize())


def _is_operand(text: str, m: re.Match[str]) -> bool:
    return bool(OPERATOR_AFTER_RE.match(text, m.end()) or OPERATOR_BEFORE_RE.search(text[: m.start()]))


class IntegerReader:
    """:class:`~aligncot_tasks.scoring.bbh._reader.Reader` of integers."""

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The number ``text`` opens with, or the result of the expression it opens with.

        >>> IntegerReader().at_start("-35.")
        ('-35', 3)
        >>> IntegerReader().at_start("46 - 22 = 24.")
        ('24', 12)
        >>> IntegerReader().at_start("Seven objects.")
        ('7', 5)
        """
        m = NUMBER_RE.match(text, match_end(OPENING_RE, text))
        if m is None:
            return None
        if not OPERATOR_AFTER_RE.match(text, m.end()):
            return _value(m), m.end()
        line_end = text.find("\n") if "\n" in text else len(text)
        results = list(RESULT_RE.finditer(text, 0, line_end))
        for r in reversed(results):
            n = NUMBER_RE.match(text, r.end())
            if n and not OPERATOR_AFTER_RE.match(text, n.end()):
                return _value(n), n.end()
        return None

    def first(self, text: str) -> str | None:
        """The first number in ``text`` that is not an operand.

        >>> IntegerReader().first("so (-1 + 2) * 3 = 3, I think")
        '3'
        >>> IntegerReader().first("46 - 22 = 24 and 46-22 = 24")
        '24'
        >>> IntegerReader().first("the 3rd item, item4 and 5")
        '5'
        """
        for m in NUMBER_RE.finditer(text):
            if not _is_operand(text, m):
                return _value(m)
        return None


READER = IntegerReader()


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The integer ``generation`` commits to, canonical (``"-35"``), or None.

    >>> extract("A - B = 46 - 22 = 24. So the answer is 24.", Item("q", "24"))
    '24'
    >>> extract("So the answer is 135,210.", Item("q", "0"))
    '135210'
    >>> extract("seven", Item("q", "7"), "zs")
    '7'
    >>> extract("Then A - B = 46 - 22 = (46 - 22) =", Item("q", "24")) is None
    True
    """
    return committed(generation, READER, variant)


def is_correct(extracted: str, item: Item) -> bool:
    """Numeric equality.

    >>> is_correct("-8", Item("q", "-8")), is_correct("8", Item("q", "-8"))
    (True, False)
    """
    try:
        return Decimal(extracted) == Decimal(item.gold.strip().replace(",", ""))
    except InvalidOperation:
        return False
