r"""Numeric answers (GSM8K, MultiArith): the number a generation commits to, compared exactly.

Zero-shot answers are read from the first commitment (or the first number, as Kojima et al.
read zero-shot outputs); chain-of-thought answers from the final commitment, falling back
to the last number of the text when the model never commits (e.g. a truncated generation).
Numbers are compared as exact rationals, so ``18.00`` = ``18``, ``$1,234`` = ``1234`` and
``3/4`` = ``0.75``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from aligncot_tasks.items import Item
from aligncot_tasks.scoring._match import SOLUTION_CUE_RE, before_ramble, commitments, strip_markup

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

#: Numbers written as words right after a cue ("The answer is twenty-five.").
ONES = {w: i for i, w in enumerate("zero one two three four five six seven eight nine".split())}
TEENS = {w: i for i, w in enumerate("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split(), 10)}
TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
WORD_NUMBER_RE = re.compile(
    rf"(?i)^\W{{0,3}}(?:(?P<tens>{'|'.join(TENS)})(?:[- ](?P<ones>{'|'.join(list(ONES)[1:])}))?"
    rf"|(?P<small>{'|'.join([*ONES, *TEENS])}))\b(?!\s+of\b)"  # not "one of them"
)


def _word_value(m: re.Match) -> Fraction:
    if m.group("small"):
        return Fraction({**ONES, **TEENS}[m.group("small").lower()])
    return Fraction(TENS[m.group("tens").lower()] + ONES.get((m.group("ones") or "zero").lower(), 0))


#: Longest digit string read as a number (longer ones are noise, and Python refuses to
#: convert over 4300 digits).
MAX_DIGITS = 100


def _value(m: re.Match) -> Fraction | None:
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
        value = _value(m)
        if value is not None:
            return value
    return None


def exact_number(text: str) -> Fraction | None:
    r"""The value of ``text`` if it is exactly one number (as :data:`NUMBER_RE` spells it).

    >>> exact_number(r"-\frac{3}{4}"), exact_number("0.5"), exact_number("x+1")
    (Fraction(-3, 4), Fraction(1, 2), None)
    """
    m = NUMBER_RE.fullmatch(text)
    return _value(m) if m else None


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


def committed_number(answer: str) -> Fraction | None:
    """The number an answer clause states: the result of its last ``=``, else its first number.

    >>> committed_number(" 9 * 2 = $18 a day. Then 5 more")
    Fraction(18, 1)
    >>> committed_number(" eighteen."), committed_number(" Twenty-five"), committed_number(" the total cost.")
    (Fraction(18, 1), Fraction(25, 1), None)
    """
    answer = answer.lstrip(" \t\n:")
    end = CLAUSE_END_RE.search(answer)
    clause = answer[: end.start()] if end else answer
    value = parse_number(clause.rpartition("=")[2]) if "=" in clause else None
    if value is None:
        value = parse_number(clause)
    if value is None and (word := WORD_NUMBER_RE.match(clause)):
        value = _word_value(word)
    return value


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The number the generation commits to (canonical spelling), or None.

    >>> it = Item("q", "18")
    >>> extract("She makes 9 * 2 = $<<9*2=18>>18 a day.\\nA: 18", it)
    '18'
    >>> extract("Therefore, the answer (arabic numerals) is 70.", it)
    '70'
    >>> extract(r"So $\\boxed{1,234}$ dollars.", it)
    '1234'
    >>> extract("The answer is 12.\\n\\nQuestion: How many? The answer is 5.", it)
    '12'
    >>> extract("16 - 3 - 4 = 9 eggs, so she makes", it)  # truncated: last number
    '9'
    >>> extract(" 18 dollars. She sells 9 eggs", it, "zs")
    '18'
    """
    text = strip_markup(before_ramble(generation))
    found = commitments(text, SOLUTION_CUE_RE)
    for c in found if variant == "zs" else reversed(found):
        value = committed_number(c.text)
        if value is not None:
            return canonical(value)
    matches = NUMBER_RE.finditer(text) if variant == "zs" else reversed(list(NUMBER_RE.finditer(text)))
    value = next((v for v in map(_value, matches) if v is not None), None)
    return None if value is None else canonical(value)


def is_correct(extracted: str, item: Item) -> bool:
    """Exact numeric equality with the gold answer (string equality if gold is no number).

    >>> is_correct("18", Item("q", "18.00")), is_correct("0.75", Item("q", "3/4"))
    (True, True)
    >>> is_correct("18", Item("q", "1,800"))
    False
    """
    gold = parse_number(item.gold)
    if gold is None:
        return extracted.strip() == item.gold.strip()
    return parse_number(extracted) == gold


def answer_sentence(item: Item) -> str:
    """Canonical answer sentence.

    >>> answer_sentence(Item("q", "1,600"))
    'The answer is 1600.'
    """
    gold = parse_number(item.gold)
    return f"The answer is {canonical(gold) if gold is not None else item.gold}."
