"""Where a BBH generation commits to its answer, for every answer type.

An answer type is a :class:`Reader`: it can read an answer of its shape at the very start
of a text (``at_start``) and find the first answer-shaped span anywhere in a text
(``first``). :func:`committed` applies one policy to all types, on the text before any
made-up next question (:func:`aligncot_tasks.scoring._match.before_ramble`):

- both variants: a structured answer (``{"answer": ...}``,
  :func:`aligncot_tasks.scoring._match.structured_answer`) when it holds one;

- zero-shot: the answer the generation opens with (the prompt ends in ``Answer:``);
- then, both variants: the last commitment (:func:`aligncot_tasks.scoring._match.commitments`:
  the text after an answer cue -- "So the answer is", "Answer:", ... -- or inside a
  ``\\boxed{}``) that starts with an answer or, failing that, holds one on its first line;
- then zero-shot: the first answer-shaped span anywhere; chain of thought: the final line
  when it is an answer and nothing else, else an answer named in a closing sentence that
  concludes ("Therefore, Bob has (B).") -- never in a rationale cut off mid-way, which
  commits to nothing however answer-like its last words are.

The places are numeric's and MATH's; the policy is BBH's own (an answer may be any of seven
shapes, so each reader says what starts an answer). BBH's multiple-choice type does not use
it: options are read by :func:`aligncot_tasks.scoring.choice.choose`, like every other
multiple-choice benchmark's.
"""

from __future__ import annotations

import re
from typing import Protocol

from aligncot_tasks.items import Item
from aligncot_tasks.scoring._match import (
    CONCLUSION_RE,
    before_ramble,
    commitments,
    strip_markup,
    structured_answer,
)

#: The canonical answer sentence: how every BBH chain-of-thought exemplar ends.
ANSWER_SENTENCE = "So the answer is {target}."

#: How many commitments, from the last, may hold the answer. Earlier ones are never the
#: answer in practice, and a looping generation can hold thousands of cues.
MAX_COMMITMENTS = 8
#: What may trail an answer that fills its line: punctuation, quotes, brackets of emphasis.
TRAILING_RE = re.compile(r"""^[\s.!;:,"'*_)\]]*$""")


class Reader(Protocol):
    """What one answer type contributes to :func:`committed`."""

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The canonical answer ``text`` opens with and where it ends in ``text``, or None."""

    def first(self, text: str) -> str | None:
        """The first answer-shaped span anywhere in ``text`` (canonical), or None."""


def first_line(text: str) -> str:
    """Text up to the first line break.

    >>> first_line("a b\\nc")
    'a b'
    """
    return text.split("\n", 1)[0]


def final_line(text: str) -> str:
    """The last non-empty line of ``text``, stripped.

    >>> final_line("x\\n (B) \\n\\n")
    '(B)'
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _commitments(text: str) -> list[str]:
    r"""The answer text of the last :data:`MAX_COMMITMENTS` commitments (answer cues and
    boxes, :func:`aligncot_tasks.scoring._match.commitments`), the last first.

    >>> _commitments(r"Answer: (A). Hmm, \boxed{B}. So the answer is (C).")
    ['(C).', 'B', '(A). Hmm, ']
    """
    return [c.text.strip() if c.boxed else c.text.lstrip() for c in reversed(commitments(text)[-MAX_COMMITMENTS:])]


def committed(generation: str, reader: Reader, variant: str) -> str | None:
    """The answer ``generation`` commits to, canonical for ``reader``'s type, or None.

    Args:
        generation: The model's text after the prompt.
        reader: The answer type's reader.
        variant: ``"zs"`` or ``"cot"`` (see the module docstring for the difference).

    >>> from aligncot_tasks.scoring.bbh.labels import YES_NO
    >>> committed("So the answer is Yes.\\n\\nQuestion: Is it? So the answer is No.", YES_NO, "cot")
    'yes'
    >>> committed('{"reasoning": "So the answer is Yes.", "Answer": "No"}', YES_NO, "cot")
    'no'
    """
    text = strip_markup(before_ramble(generation))
    structured = structured_answer(text)  # {"answer": "True"} is the answer
    if structured is not None:
        found = reader.at_start(structured.strip())
        answer = found[0] if found is not None else reader.first(structured)
        if answer is not None:
            return answer
    if variant == "zs":
        opening = reader.at_start(text.lstrip())
        if opening is not None:
            return opening[0]
    for tail in _commitments(text):
        found = reader.at_start(tail)
        answer = found[0] if found is not None else reader.first(first_line(tail))
        if answer is not None:
            return answer
    if variant == "zs":
        return reader.first(text)
    line = final_line(text)
    found = reader.at_start(line)
    if found is not None and TRAILING_RE.match(line[found[1] :]):
        return found[0]
    conclusion = CONCLUSION_RE.search(line)
    return reader.first(conclusion.group(1)) if conclusion else None


def answer_sentence(item: Item) -> str:
    """``So the answer is <target>.`` -- the sentence every BBH reader reads back.

    >>> answer_sentence(Item("q", "(B)"))
    'So the answer is (B).'
    """
    return ANSWER_SENTENCE.format(target=item.gold)
