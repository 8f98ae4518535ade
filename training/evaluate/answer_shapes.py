"""How a multiple-choice model answers: its letter distribution and its final answer sentence.

The analyses behind the SmolLM2 tuning log (``docs/pages/tuning.md``), read from lm-eval
``--log_samples`` files: which letters a model predicts against the gold letters (a letter
prior shows as one letter predicted far more often than it is gold), and whether a
generation ends in the suite's canonical answer sentence ("The answer is (C) bank."), and if
so whether the stated text is that letter's own option and whether it is the gold option's
text. The sentence's form comes from the suite (:func:`aligncot_tasks.scoring.answer_sentence`),
not from a copy of it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from aligncot_tasks import scoring, suite
from aligncot_tasks.types import Item
from training.errors import UserError
from training.evaluate.samples import read_samples, task_of

#: Label of a question without an extracted answer in the letter counts.
NONE = "none"


def sentence_head(item: Item, letter: str) -> str:
    """The canonical answer sentence for ``letter`` without its option text.

    >>> sentence_head(Item("q", "A", ("x", "y")), "B")
    'The answer is (B)'
    """
    blank = dataclasses.replace(item, gold=letter, options=("",) * len(item.options))
    return scoring.answer_sentence("choice", blank).rstrip(".")


def option_text(item: Item, letter: str) -> str:
    """The option text the canonical answer sentence states for ``letter``.

    >>> option_text(Item("q", "A", ("x", " a  bank.")), "B")
    'a bank'
    """
    sentence = scoring.answer_sentence("choice", dataclasses.replace(item, gold=letter))
    return sentence[len(sentence_head(item, letter)) :].strip().rstrip(".").strip()


def stated_answer(generation: str, item: Item) -> tuple[str, str] | None:
    """``(letter, text)`` of the last canonical answer sentence that ends the generation.

    None when the generation does not end in one, or states no option text.

    >>> item = Item("q", "A", ("bank", "library"))
    >>> stated_answer(" So ... The answer is (B) library.", item)
    ('B', 'library')
    >>> stated_answer("The answer is (B).", item) is None
    True
    """
    found = [(generation.rfind(sentence_head(item, letter)), letter) for letter in item.letters]
    start, letter = max(found)
    if start < 0:
        return None
    text = generation[start + len(sentence_head(item, letter)) :].strip().rstrip(".").strip()
    return (letter, text) if text else None


@dataclass(frozen=True)
class AnswerShapes:
    """Counts over one samples file (one row per question)."""

    questions: int
    predicted: Counter[str]
    gold: Counter[str]
    stated: int
    own_option: int
    gold_text: int


def analyse(path: Path) -> AnswerShapes:
    """Count letters and answer sentences in a multiple-choice task's samples file.

    Raises:
        UserError: The file's task is not a generative multiple-choice task of the suite.
    """
    task = task_of(path)
    spec = suite.all_tasks().get(task)
    if spec is None or spec.variant == suite.LL or spec.answer_type != "choice":
        raise UserError(f"{path}: {task} is not a generative multiple-choice task of the suite")
    predicted: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    stated = own = gold_text = 0
    samples = read_samples(path, task)
    for s in samples:
        item = suite.item(spec, s.doc)
        predicted[s.extracted or NONE] += 1
        gold[item.gold] += 1
        answer = stated_answer(s.generations[0], item) if s.generations else None
        if answer is None:
            continue
        letter, text = answer
        options = [option_text(item, letter) for letter in item.letters]
        stated += 1
        own += text == options[item.letters.index(letter)]
        gold_text += text == options[item.gold_index]
    return AnswerShapes(len(samples), predicted, gold, stated, own, gold_text)


def report(shapes: AnswerShapes) -> str:
    """The counts as three lines.

    >>> print(report(AnswerShapes(3, Counter("AAB"), Counter("ABC"), 2, 2, 1)))
    predicted: A 2, B 1 (n 3)
    gold: A 1, B 1, C 1
    answer sentences: 2 of 3 end in the canonical one with option text; text is X's own option in 2; text is the gold option's in 1
    """

    def counts(c: Counter[str]) -> str:
        return ", ".join(f"{k} {c[k]}" for k in sorted(c, key=lambda k: (k == NONE, k)))

    return (
        f"predicted: {counts(shapes.predicted)} (n {shapes.questions})\n"
        f"gold: {counts(shapes.gold)}\n"
        f"answer sentences: {shapes.stated} of {shapes.questions} end in the canonical one with option text; "
        f"text is X's own option in {shapes.own_option}; text is the gold option's in {shapes.gold_text}"
    )
