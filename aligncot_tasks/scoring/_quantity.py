"""Which number a numeric answer states: the result of an equation chain or of a list's
last step, the number a sentence's verb states, an arithmetic expression's exact value
(:mod:`.arithmetic`), one value restated equally ("25%. As a fraction, 1/4"); an answer that
restates its value as a different one ("5, or 6") states none (:class:`Uncommitted`).

:mod:`.numeric` applies it to the commitments of a generation; :mod:`.numbers` reads how
each number is spelled.
"""

from __future__ import annotations

import re
from fractions import Fraction

from aligncot_tasks.scoring import arithmetic
from aligncot_tasks.scoring._match import MAX_TAIL_CHARS
from aligncot_tasks.scoring.numbers import (
    CLAUSE_END_RE,
    NUMBER_RE,
    WORD_NUMBER_RE,
    canonical,
    exact_number,
    match_value,
    words_to_int,
)

#: A list item opening a line ("1. ", "2) ", "- "): after a cue, the answer is the last item.
LIST_ITEM_RE = re.compile(r"[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+")
#: A verb stating what a sentence's subject amounts to, right before the number it states
#: ("Allen's age 10 years from now is 109", "... will be about $30").
COPULA_RE = re.compile(
    r"\b(?:is|are|was|were|will\s+be|would\s+be|equals?|comes\s+to|totals?)[ \t]+"
    r"(?:(?:about|approximately|exactly|now|then|only|just|still|equal\s+to|a\s+total\s+of)[ \t]+)*(?=[-−$\\.\d])",
    re.IGNORECASE,
)
#: A relative pronoun right before a verb: "5, which is 2 more" restates no answer.
RELATIVE_RE = re.compile(r"\b(?:which|that|who|it|this|what)[ \t]*$", re.IGNORECASE)
#: A phrase fronted before a sentence's subject: "10 years from now, Allen will be 109"
#: (not "18, so the total is 36": a number the answer states, then more).
FRONTED_RE = re.compile(r"[ \t]+[^\W\d][^,]*,")
CONJUNCTION_RE = re.compile(r"\b(?:so|and|but|then|thus|therefore|hence|since|because|which|while)\b", re.IGNORECASE)
#: A percent sign or word right after a number.
PERCENT_RE = re.compile(r"[ \t]*(?:\\?%|percent\b)", re.IGNORECASE)
#: What joins a restatement of one value to it: "25%. As a fraction, 1/4", "6/12, or 50%",
#: "1/4 (25%)". Group ``paren``: the restatement must close its bracket.
RESTATEMENT_RE = re.compile(
    r"[ \t]*(?:,?[ \t]*(?:or|i\.e\.,?|that\s+is,)[ \t]+|(?P<paren>\()[ \t]*(?:or[ \t]+)?"
    r"|[.,;]?[ \t]*(?:as|or)[ \t]+an?[ \t]+(?:fraction|decimal|percent(?:age)?)[ \t]*,?[ \t]*"
    r"(?:(?:this|that|it)[ \t]+is[ \t]+|it's[ \t]+)?)",
    re.IGNORECASE,
)
#: Most restatements read after one value (bounds the work on looping text).
MAX_RESTATEMENTS = 4

#: A quantity as stated: its value and whether it was stated as a percent (25% is 25 here).
Quantity = tuple[Fraction, bool]


def _last_step(answer: str) -> str:
    """The line holding the result when ``answer`` opens with a list or an equation chain.

    ``"1. 6 x 20 = 120\\n2. 120 + 67 = 187"`` and ``"16 - 3 - 4 = 9\\n9 x $2 = $18"`` state
    their answer in their last step; any other answer is returned unchanged.
    """
    lines = answer[:MAX_TAIL_CHARS].split("\n")
    marker = LIST_ITEM_RE.match(lines[0])
    if marker is None and "=" not in CLAUSE_END_RE.split(lines[0], maxsplit=1)[0]:
        return answer
    steps = [lines[0][marker.end() :] if marker else lines[0]]
    for line in lines[1:]:
        if not line.strip():
            if marker:  # numbered items may be separated by blank lines
                continue
            break
        item = LIST_ITEM_RE.match(line)
        if marker and item:
            steps.append(line[item.end() :])
        elif not marker and "=" in line:
            steps.append(line)
        else:
            break
    # One "item" without an equation is no list: "8. I hope this helps" ends a sentence.
    if marker and len(steps) < 2 and "=" not in steps[0]:
        return answer
    # The last equation holds the result (items after it explain: "2. This is because ..."),
    # else the last step that states a number ("3. That is all." states none).
    with_equation = (step for step in reversed(steps) if "=" in step)
    with_number = (step for step in reversed(steps) if NUMBER_RE.search(step))
    return next(with_equation, None) or next(with_number, steps[-1])


def _stated(clause: str, m: re.Match[str]) -> tuple[Fraction, int] | None:
    """The value stated from number ``m`` on: an arithmetic expression's, else the number's.

    Raises:
        Uncommitted: An expression the evaluator refuses (``1/0``, ``2 ** 100000``) states
            no number, not its first one.
    """
    head = clause[: m.start()].rstrip("( \t")  # "(56 / 8) x 2" opens with a bracket
    start = len(head) if "(" in clause[len(head) : m.start()] else m.start()
    expression = arithmetic.leading_expression(clause[start:])
    if expression is not None:
        value = arithmetic.evaluate(expression[0])
        if value is None:
            raise Uncommitted(expression[0])
        return value, start + len(expression[0].rstrip())
    value = match_value(m)
    return None if value is None else (value, m.end())


def _restated(text: str, value: Fraction, percent: bool, end: int) -> Quantity | None:
    """``(value, percent)`` after checking restatements at ``text[end:]``: equal ones may turn
    the quantity into its percent form; a different value commits to none (None)."""
    amount = value / 100 if percent else value
    for _ in range(MAX_RESTATEMENTS):
        joint = RESTATEMENT_RE.match(text, end)
        other = NUMBER_RE.match(text, joint.end()) if joint else None
        stated = _stated(text, other) if other else None
        if joint is None or stated is None:
            break
        pct = PERCENT_RE.match(text, stated[1])
        after = pct.end() if pct else stated[1]
        if joint.group("paren") and not text[after:].lstrip(" \t").startswith(")"):
            break
        if (stated[0] / 100 if pct else stated[0]) != amount:
            raise Uncommitted(text)
        if pct and not percent:
            value, percent = stated[0], True
        end = after
    return value, percent


class Uncommitted(ValueError):
    """An answer that states different values ("5, or 6") commits to none of them."""


def _subject_number(clause: str, m: re.Match[str]) -> re.Match[str]:
    """The number a sentence states when its first number ``m`` belongs to its subject or to
    a fronted phrase ("Allen's age 10 years from now is 109", "In 10 years, he will be 109");
    ``m`` itself when the sentence opens with its answer ("5 apples are left", "5, which is
    2 more")."""
    verb = COPULA_RE.search(clause, m.end())
    if verb is None or RELATIVE_RE.search(clause, 0, verb.start()):
        return m
    between = clause[m.end() : verb.start()]
    fronted = FRONTED_RE.match(between) and not CONJUNCTION_RE.search(between)
    if not (re.search(r"[^\W\d]", clause[: m.start()]) or fronted):
        return m
    return NUMBER_RE.match(clause, verb.end()) or m


def committed_quantity(answer: str) -> Quantity | None:
    """The quantity an answer states: the result of its last ``=``; else its leading
    expression or number, or -- when a sentence's subject holds a number -- the number its
    verb states; equal restatements are one quantity.

    Raises:
        Uncommitted: The answer restates its value as a different one.

    >>> committed_quantity(" 9 * 2 = $18 a day. Then 5 more")
    (Fraction(18, 1), False)
    >>> committed_quantity(" Allen's age 10 years from now is 109."), committed_quantity(" 56/8*2")
    ((Fraction(109, 1), False), (Fraction(14, 1), False))
    >>> committed_quantity(" 6/12, or 50%"), committed_quantity(" 25%. As a fraction, 1/4.")
    ((Fraction(50, 1), True), (Fraction(25, 1), True))
    >>> committed_quantity(" eighteen."), committed_quantity(" the total cost.")
    ((Fraction(18, 1), False), None)
    """
    bare = exact_number(answer.strip(" \t\n:").rstrip("."))
    if bare is not None:  # the common "A: 18": nothing else to read
        return bare, False
    answer = _last_step(answer.lstrip(" \t\n:"))
    end = CLAUSE_END_RE.search(answer)
    clause = answer[: end.start()] if end else answer
    m = NUMBER_RE.search(clause, clause.rfind("=") + 1) or ("=" in clause and NUMBER_RE.search(clause))
    if m and "=" not in clause:
        m = _subject_number(clause, m)
    stated = _stated(clause, m) if m else None
    if stated is None:
        word = WORD_NUMBER_RE.match(clause)
        return (Fraction(words_to_int(word.group("words"))), False) if word else None
    value, stop = stated
    pct = PERCENT_RE.match(answer, stop)
    return _restated(answer, value, pct is not None, pct.end() if pct else stop)


def committed_number(answer: str) -> Fraction | None:
    """The number an answer clause states (see :func:`committed_quantity`; 25% is 25).

    >>> committed_number(" 9 * 2 = $18 a day. Then 5 more")
    Fraction(18, 1)
    >>> committed_number(" eighteen."), committed_number(" Twenty-five"), committed_number(" the total cost.")
    (Fraction(18, 1), Fraction(25, 1), None)
    """
    try:
        quantity = committed_quantity(answer)
    except Uncommitted:
        return None
    return None if quantity is None else quantity[0]


def spell(quantity: Quantity) -> str:
    """Canonical spelling of a quantity, a percent kept as one.

    >>> spell((Fraction(25), True)), spell((Fraction(3, 4), False))
    ('25%', '0.75')
    """
    return canonical(quantity[0]) + ("%" if quantity[1] else "")
