r"""MATH answers: the LaTeX expression a generation commits to, judged for equivalence.

Extraction reads the final commitment: the last ``\boxed{}``/``\fbox{}`` or answer cue
("The final answer is $...$", "The answer is ..."); zero-shot answers may also be the
bare text right after ``Answer:``. Equivalence is decided in three steps, cheapest first:
equal after :func:`normalize` (units, ``\left``, ``\dfrac``, spaces, ``^\circ``, ``\text{}``,
``\$``, ...); equal as exact rationals (``0.5`` = ``\frac12`` = ``1/2``); else equal
symbolically (:mod:`aligncot_tasks.scoring.symbolic`, time-bounded, LaTeX parser only).
"""

from __future__ import annotations

import re

from aligncot_tasks.items import Item
from aligncot_tasks.scoring import symbolic
from aligncot_tasks.scoring._match import (
    MAX_TAIL_CHARS,
    before_ramble,
    commitments,
    last_boxed,
    structured_answer,
)
from aligncot_tasks.scoring.numbers import CLAUSE_END_RE, exact_number

#: A math span opening an answer: ``$$...$$``, ``$...$``, ``\(...\)`` or ``\[...\]``
#: (escaped ``\$`` inside stays part of the answer).
MATH_SPAN_RE = re.compile(
    r"\$\$((?:\\.|[^\\$])*)\$\$|\$((?:\\.|[^\\$])*)\$|\\\(((?:\\.|[^\\])*?)\\\)|\\\[((?:\\.|[^\\])*?)\\\]",
    re.S,
)

#: Longer "answers" are runaway text, not answers (the longest MATH gold has 81 characters).
MAX_ANSWER_CHARS = 5000

#: What may surround an answer after its cue: spacing, the cue's colon, Markdown emphasis.
EDGE_CHARS = " \t\n:*_`"

#: LaTeX spellings that never change an answer's value, removed outright.
NOISE_RE = re.compile(
    r"\\(?:left|right|displaystyle|mathrm\{th\})(?![a-zA-Z])|(?<!\\)\\[!,;: ]|\^\s*\{?\\circ\}?|°|\\degree"
    r"|\\?\$|\\?%|\{,\}|~"
)
#: A ``\text{...}``-like wrapper; its content is kept unless it is a unit.
TEXT_WRAPPER_RE = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm|mathbf|operatorname)\{([^{}]*)\}")
#: A unit after a quantity: ``\text{ cm}^2``, ``\text{ square feet}`` or a plain unit word.
UNIT_RE = re.compile(
    r"(?<=[\d}).])\s*(?:\\(?:text|mbox|mathrm)\{\s*[a-zA-Z][a-zA-Z .]*\}(?:\^\{?\d\}?)?"
    r"|\s(?:square\s+|cubic\s+|sq\.?\s+)?(?:units?|feet|foot|ft|inches|inch|cm|centimeters?|meters?|km|miles?"
    r"|mph|hours?|minutes?|seconds?|days?|weeks?|years?|degrees?|dollars?|cents?|pounds?|ounces?"
    r"|ways|people|students|digits|points)(?:\^\{?\d\}?)?\b)\.?\s*$",
    re.IGNORECASE,
)
#: Display and text-style fractions (``\dfrac``, ``\tfrac``) are plain ``\frac``.
DFRAC_RE = re.compile(r"\\[dt]frac")
SPACE_RE = re.compile(r"\s+")
#: Shorthand fractions and roots: ``\frac12``, ``\frac1{2}``, ``\frac{1}2``, ``\sqrt2``.
FRAC_SHORT_RE = re.compile(r"\\frac(\d)(\d)|\\frac(\d)(?=\{)|(\\frac\{[^{}]*\})(\d)")
SQRT_SHORT_RE = re.compile(r"\\sqrt(\w)")
#: A one-character sub/superscript in braces: ``x^{2}`` = ``x^2``, ``1011_{2}`` = ``1011_2``.
SCRIPT_BRACES_RE = re.compile(r"([_^])\{(\w)\}")
#: A short variable assignment in front of an answer: ``x=5``, ``k = 3``.
ASSIGNMENT_RE = re.compile(r"^[a-zA-Z](?:_\{?\w\}?)?=(?!.*=)")
#: A lone option letter, possibly bracketed: ``(C)``.
LETTER_RE = re.compile(r"^\(([A-E])\)$")
#: Thousands separators in a plain number: ``1,000,000``.
THOUSANDS_RE = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def reference_answer(solution: str) -> str:
    r"""MATH's gold answer: the reference solution's last boxed expression.

    >>> reference_answer(r"So $x = \boxed{\frac{1}{2}}$.")
    '\\frac{1}{2}'
    """
    boxed = last_boxed(solution)
    return (boxed if boxed is not None else solution).strip()


def _answer_text(tail: str) -> str | None:
    # The answer stated right after a cue: an opening math span, else the clause up to the
    # sentence's end, where a math span inside the clause wins over the prose around it.
    tail = tail.lstrip(EDGE_CHARS)
    span = MATH_SPAN_RE.match(tail)
    if span is None:
        end = CLAUSE_END_RE.search(tail)
        clause = tail[: end.start()] if end else tail
        spans = list(MATH_SPAN_RE.finditer(clause))
        if not spans:
            return clause.strip(EDGE_CHARS).rstrip(".") or None
        span = spans[-1]
    content = next(g for g in span.groups() if g is not None)
    boxed = last_boxed(content)
    return (boxed if boxed is not None else content).strip().rstrip(".").strip() or None


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    r"""The LaTeX answer the generation commits to, or None.

    The last box wins; without one, the first (zs) or last (cot) answer cue; a zero-shot
    generation without any may state its answer bare, right after ``Answer:``.

    >>> it = Item("q", "5")
    >>> extract(r"Thus $x=\boxed{\dfrac{1}{2}}$. Done.", it)
    '\\dfrac{1}{2}'
    >>> extract("Final Answer: The final answer is $(1, 2)$. I hope it is correct.", it)
    '(1, 2)'
    >>> extract("The answer is 3.5.", it), extract(" $\\frac{1}{3}$\n\nExplanation: ...", it, "zs")
    ('3.5', '\\frac{1}{3}')
    >>> extract("I am not sure.", it) is None, extract('{"answer": "$\\\\frac{1}{2}$"}', it)
    (True, '\\frac{1}{2}')
    """
    text = before_ramble(generation)
    structured = structured_answer(text)  # {"answer": "\\frac{1}{2}"} is the answer
    if structured is not None and (answer := _answer_text(structured)):
        return answer
    found = commitments(text)
    boxes = [c for c in found if c.boxed]
    ordered = reversed(boxes) if boxes else found if variant == "zs" else reversed(found)
    for c in ordered:
        answer = c.text.strip() if c.boxed else _answer_text(c.text)
        if answer:
            return answer
    return _answer_text(text[:MAX_TAIL_CHARS]) if variant == "zs" else None


def normalize(answer: str) -> str:
    r"""Canonical spelling of a LaTeX answer for exact comparison.

    >>> normalize(r"\left( \dfrac12, 3 \right)")
    '(\\frac{1}{2},3)'
    >>> normalize(r"x = 135^\circ"), normalize(r"12\text{ cm}^2"), normalize(r"\$1,000.")
    ('135', '12', '1000')
    >>> normalize(r"\text{(C)}"), normalize(r"\text{ Sunday }"), normalize(r"\sqrt2/2")
    ('C', 'Sunday', '\\sqrt{2}/2')
    """
    s = answer.strip()
    boxed = last_boxed(s)
    if boxed is not None:
        s = boxed
    s = DFRAC_RE.sub(r"\\frac", s)
    s = UNIT_RE.sub("", s)
    s = NOISE_RE.sub("", s)
    s = TEXT_WRAPPER_RE.sub(lambda m: m.group(1), s)
    s = SPACE_RE.sub("", s)
    s = SQRT_SHORT_RE.sub(r"\\sqrt{\1}", s)
    s = SCRIPT_BRACES_RE.sub(r"\1\2", s)
    s = FRAC_SHORT_RE.sub(_fix_frac, s)
    s = ASSIGNMENT_RE.sub("", s)
    s = s.rstrip(".")
    if THOUSANDS_RE.match(s):
        s = s.replace(",", "")
    if s.startswith("."):
        s = "0" + s
    letter = LETTER_RE.match(s)
    return letter.group(1) if letter else s


def _fix_frac(m: re.Match[str]) -> str:
    if m.group(1):
        return f"\\frac{{{m.group(1)}}}{{{m.group(2)}}}"
    if m.group(3):
        return f"\\frac{{{m.group(3)}}}"
    return f"{m.group(4)}{{{m.group(5)}}}"


def is_correct(extracted: str, item: Item) -> bool:
    r"""Normalised match, then exact rational match, then bounded symbolic equivalence.

    >>> is_correct(r"\frac12", Item("q", "0.5")), is_correct("3", Item("q", r"\frac{6}{2}"))
    (True, True)
    >>> is_correct("(-\\infty, 4)", Item("q", "(-\\infty,4]"))
    False
    """
    if len(extracted) > MAX_ANSWER_CHARS:
        return False
    pred, gold = normalize(extracted), normalize(item.gold)
    if not pred:
        return False
    if pred == gold:
        return True
    pred_value, gold_value = exact_number(pred), exact_number(gold)
    if pred_value is not None and gold_value is not None:
        return pred_value == gold_value
    return symbolic.equivalent(item.gold, extracted)


def answer_sentence(item: Item) -> str:
    r"""Canonical answer sentence; :func:`extract` reads the boxed gold back.

    >>> answer_sentence(Item("q", r"\frac{1}{2}"))
    'The answer is $\\boxed{\\frac{1}{2}}$.'
    """
    return f"The answer is $\\boxed{{{item.gold}}}$."
