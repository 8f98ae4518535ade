r"""Numbers as models spell them: digits, currency, thousands separators, fractions, words.

:func:`parse_number` and :func:`exact_number` read them as exact rationals, so ``18.00`` =
``18``, ``$1,234`` = ``1234`` and ``3/4`` = ``0.75``; :func:`canonical` writes one back;
English number words (:func:`words_to_int`) are read here for every answer type, BBH's
integers included. *Which* number a generation commits to is :mod:`.numeric`'s business.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

#: A number as models write it: optional sign and currency, thousands separators, decimals,
#: a plain fraction ``3/4`` or a LaTeX ``\frac{3}{4}``. Not preceded by a letter, digit or
#: point (so ``16-3`` reads 16 and 3, and ``x2`` or ``1.5`` yield no stray number).
NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<neg>[-−])?(?:\\?\$[ \t]?)?"
    r"(?:\\[dt]?frac\{(?P<fnum>\d+)\}\{(?P<fden>\d+)\}"
    r"|(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:[ \t]*/[ \t]*(?P<den>\d+)(?![\d.]))?)"
)

#: Where the clause stating an answer ends: a sentence-final period or a line break.
CLAUSE_END_RE = re.compile(r"\.(?=\s|$)|\n")

#: Number words below twenty, in order.
UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
#: Multiples of ten from twenty, in order.
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
#: Number word -> value.
WORD_VALUES = {w: i for i, w in enumerate(UNITS)} | {w: 20 + 10 * i for i, w in enumerate(TENS)}
#: Number words that multiply what precedes them.
SCALES = {"hundred": 100, "thousand": 1000}


def words_to_int(words: str) -> int:
    """Value of an English number.

    >>> words_to_int("seven"), words_to_int("twenty-one"), words_to_int("one hundred and five")
    (7, 21, 105)
    >>> words_to_int("two thousand three hundred")
    2300
    """
    total = current = 0
    for w in re.split(r"[\s-]+", words.lower()):
        if w in WORD_VALUES:
            current += WORD_VALUES[w]
        elif w == "hundred":
            current = max(current, 1) * SCALES[w]
        elif w == "thousand":  # closes a group: "two thousand three hundred"
            total, current = total + max(current, 1) * SCALES[w], 0
    return total + current


#: A number written in words right after a cue ("The answer is twenty-five."), below 100.
WORD_NUMBER_RE = re.compile(
    rf"(?i)^\W{{0,3}}(?P<words>(?:{'|'.join(TENS)})(?:[- ](?:{'|'.join(UNITS[1:10])}))?|(?:{'|'.join(UNITS)}))"
    r"\b(?!\s+of\b)"  # not "one of them"
)


#: Longest digit string read as a number (longer ones are noise, and Python refuses to
#: convert over 4300 digits).
MAX_DIGITS = 100


def match_value(m: re.Match[str]) -> Fraction | None:
    """The exact value of a :data:`NUMBER_RE` match, or None (too long, zero denominator).

    >>> match_value(NUMBER_RE.search("costs -$1,234.50")), match_value(NUMBER_RE.search("1/0"))
    (Fraction(-2469, 2), None)
    """
    if len(m.group()) > MAX_DIGITS:
        return None
    if m.group("fnum"):
        num, den = Fraction(m.group("fnum")), int(m.group("fden"))
    else:
        num, den = Fraction(m.group("num").replace(",", "")), int(m.group("den") or 1)
    if den == 0:
        return None
    return -num / den if m.group("neg") else num / den


def parse_number(text: str) -> Fraction | None:
    """The first number in ``text`` as an exact rational, or None.

    >>> parse_number("costs $1,234.50 per year")
    Fraction(2469, 2)
    >>> parse_number(r"-\\frac{3}{4}"), parse_number("3/4 of them"), parse_number("none")
    (Fraction(-3, 4), Fraction(3, 4), None)
    """
    for m in NUMBER_RE.finditer(text):
        value = match_value(m)
        if value is not None:
            return value
    return None


def exact_number(text: str) -> Fraction | None:
    r"""The value of ``text`` if it is exactly one number (as :data:`NUMBER_RE` spells it).

    >>> exact_number(r"-\frac{3}{4}"), exact_number("0.5"), exact_number("x+1")
    (Fraction(-3, 4), Fraction(1, 2), None)
    """
    m = NUMBER_RE.fullmatch(text)
    return match_value(m) if m else None


def canonical(value: Fraction) -> str:
    """Shortest exact spelling: an integer, a terminating decimal, or ``p/q``.

    >>> canonical(Fraction(18)), canonical(Fraction(3, 4)), canonical(Fraction(-1, 3))
    ('18', '0.75', '-1/3')
    """
    if value.denominator == 1:
        return str(value.numerator)
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return f"{value.numerator}/{value.denominator}"
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
