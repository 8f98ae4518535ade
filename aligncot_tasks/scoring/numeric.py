r"""Numeric answers (GSM8K, MultiArith): the number a generation commits to, compared exactly.

Zero-shot answers are read from the first commitment (or the first number, as Kojima et al.
read zero-shot outputs); chain-of-thought answers from the final commitment, falling back
to the last number of the text when the model never commits (e.g. a truncated generation).
Numbers are compared as exact rationals (:mod:`.numbers` reads how they are spelled); which
number an answer states -- an equation chain's result, the number a sentence's verb states,
one value restated equally -- is :mod:`._quantity`'s.

**Salvaged answers (the ``no_cue`` metric).** The fallback to the last number is how
lm-eval's flexible extraction reads GSM8K, and accuracy keeps it: it reproduces published
verdicts. But it also reads a number out of a generation that never commits to an answer
-- one looping on the same step, or cut off by its token budget -- so ``invalid`` alone
makes such a model look as if it always answered. :func:`read` therefore says whether the
number was cued (see there), the scorer carries that as :attr:`Score.cued
<aligncot_tasks.types.Score.cued>`, and numeric tasks report ``no_cue``: the share of
generations whose answer was salvaged without any cue. ``invalid`` + ``no_cue`` is the
share of generations that no commitment closes: loops and cut-off texts, but also a chain
of thought that just stops at its last equation ("9 x $2 = $18"), whose number is read as
before. ``acc`` counts a salvaged number that happens to be right as correct.
"""

from __future__ import annotations

from aligncot_tasks.items import Item
from aligncot_tasks.scoring import _match
from aligncot_tasks.scoring._match import (
    MAX_TAIL_CHARS,
    SOLUTION_CUE_RE,
    before_ramble,
    commitments,
    strip_markup,
)
from aligncot_tasks.scoring._quantity import Uncommitted, committed_quantity, spell
from aligncot_tasks.scoring.numbers import (
    NUMBER_RE,
    canonical,
    match_value,
    parse_number,
)


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The number the generation commits to (canonical spelling), or None.

    A structured answer (``{"answer": ...}``) wins; then the commitments (the first for
    zero-shot, the last for chain of thought); then a zero-shot text's opening statement
    (an equation chain states its answer in its last result), else its first number; a
    chain of thought's last number.

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
    >>> extract(" 18 dollars. She sells 9 eggs", it, "zs"), extract(" 16 - 3 - 4 = 9\\n9 x $2 = $18", it, "zs")
    ('18', '18')
    >>> extract('{"reasoning": "9 * 2", "answer": "$14.00"}', it), extract("The answer is 5, or 6.", it)
    ('14', None)
    """
    return read(generation, item, variant)[0]


def read(generation: str, item: Item, variant: str = "cot") -> tuple[str | None, bool]:
    """:func:`extract`, and whether the number was *cued*: stated by a commitment.

    A commitment is an answer cue, a box or a structured answer, and for zero-shot also the
    generation's opening statement (it follows the prompt's "Answer:"). False means the
    number was salvaged from a text without one -- the last number of a chain of thought,
    the first of a zero-shot answer -- or that there is no number at all.

    >>> it = Item("q", "18")
    >>> read("9 * 2 = 18. The answer is 18.", it), read("9 * 2 = 18. So she makes 18 and then 9 * 2 =", it)
    (('18', True), ('2', False))
    >>> read(" 18 dollars.", it, "zs"), read(" Let me think. She has 9 eggs.", it, "zs"), read("No idea.", it)
    (('18', True), ('9', False), (None, False))
    """
    text = strip_markup(before_ramble(generation))
    try:
        return _committed_spelling(text, variant)
    except Uncommitted:
        return None, False


def _committed_spelling(text: str, variant: str) -> tuple[str | None, bool]:
    """:func:`read` on marked-up-free text; raises :class:`Uncommitted` (see there)."""
    structured = _match.structured_answer(text)
    quantity = committed_quantity(structured) if structured is not None else None
    if quantity is None:
        found = commitments(text, SOLUTION_CUE_RE)
        for c in found if variant == "zs" else reversed(found):
            quantity = committed_quantity(c.text)
            if quantity is not None:
                break
    # A zero-shot generation opens right after the prompt's own "Answer:" cue.
    if quantity is None and variant == "zs":
        quantity = committed_quantity(text[:MAX_TAIL_CHARS])
    if quantity is not None:
        return spell(quantity), True
    matches = NUMBER_RE.finditer(text) if variant == "zs" else reversed(list(NUMBER_RE.finditer(text)))
    value = next((v for v in map(match_value, matches) if v is not None), None)
    return (None if value is None else canonical(value)), False


def is_correct(extracted: str, item: Item) -> bool:
    """Exact numeric equality with the gold answer (string equality if gold is no number).

    >>> is_correct("18", Item("q", "18.00")), is_correct("0.75", Item("q", "3/4"))
    (True, True)
    >>> is_correct("18", Item("q", "1,800")), is_correct("25%", Item("q", "25")), is_correct("25%", Item("q", "0.25"))
    (False, True, True)
    """
    gold = parse_number(item.gold)
    if gold is None:
        return extracted.strip() == item.gold.strip()
    value = parse_number(extracted)
    # "25%" answers a percent question whose gold is 25, and a question whose gold is 0.25.
    return value == gold or (extracted.endswith("%") and value is not None and value / 100 == gold)


def answer_sentence(item: Item) -> str:
    """Canonical answer sentence.

    >>> answer_sentence(Item("q", "1,600"))
    'The answer is 1600.'
    """
    gold = parse_number(item.gold)
    return f"The answer is {canonical(gold) if gold is not None else item.gold}."
