"""The one matching helper every answer-type scorer is built on.

It knows how models *commit* to an answer ("The answer is ...", "Answer: ...",
"#### ...", ``\\boxed{...}``) and how to strip presentation (Markdown emphasis, LaTeX
dollars); answer-type modules only decide what an answer of their type looks like.
"""

from __future__ import annotations

import re

#: A phrase after which a model states its final answer. Covers "The answer is",
#: "the correct option is", "So the answer is", Kojima's "Therefore, among A through E, the
#: answer is" and "the answer (arabic numerals) is", "Answer:", "Final answer:", "####".
ANSWER_CUE_RE = re.compile(
    r"(?:\b(?:the\s+)?(?:final\s+|correct\s+|best\s+|right\s+|most\s+likely\s+|only\s+)?"
    r"(?:answer|option|choice)(?:\s*\([^)]{0,40}\))?\s*(?:is|would\s+be|will\s+be|should\s+be|=)\s*:?"
    r"|\b(?:final\s+)?answer\s*:"
    r"|####)",
    re.IGNORECASE,
)

#: Markdown/LaTeX presentation that never changes what an answer is.
MARKUP_RE = re.compile(r"\*\*|__|`|\\text(?:bf|it)?\{([^{}]*)\}")


def strip_markup(text: str) -> str:
    r"""Remove Markdown emphasis, backticks and ``\text{}`` wrappers.

    >>> strip_markup("**B**")
    'B'
    >>> strip_markup(r"\textbf{(C)} `x`")
    '(C) x'
    """
    return MARKUP_RE.sub(lambda m: m.group(1) or "", text)


def answer_tails(text: str) -> list[str]:
    """The text after each answer cue, the last commitment first.

    Args:
        text: A model's generation.

    Returns:
        For every answer cue in ``text``, the rest of the text after it, ordered from the
        last cue to the first; empty if the text has no cue.

    >>> answer_tails("I think the answer is A. No wait, the answer is (B).")
    ['(B).', 'A. No wait, the answer is (B).']
    >>> answer_tails("no commitment here")
    []
    """
    return [text[m.end():] for m in reversed(list(ANSWER_CUE_RE.finditer(text)))]


def last_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` or ``\fbox{...}``, nested braces included.

    >>> last_boxed(r"so \boxed{1} and finally \boxed{\frac{1}{2}}.")
    '\\frac{1}{2}'
    >>> last_boxed(r"\boxed 5") is None
    True
    >>> last_boxed(r"unclosed \boxed{1") is None
    True
    """
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None


#: Token :func:`words` emits for a sentence end (``.``/``!``/``?`` before a space, a newline).
EOS = "<eos>"
#: Token :func:`words` emits for a clause separator (``,`` ``;`` ``:``).
SEP = "<sep>"
#: Words, sentence ends, clause separators, and symbols that change meaning (``-1`` is not
#: ``1``); brackets, quotes, Markdown marks, dollars and apostrophes are presentation.
WORD_RE = re.compile(r"(\w+)|([.!?]+(?=\s|$)|\n)|([,;:])|([^\w\s.!?,;:()\[\]{}\"'`*$“”‘’_])")


def words(text: str) -> list[str]:
    """Case-folded tokens of ``text`` for comparing answers written in words.

    >>> words("The Answer: dark, room.\\nNo")
    ['the', 'answer', '<sep>', 'dark', '<sep>', 'room', '<eos>', '<eos>', 'no']
    >>> words("x = -1.5 (approx.)") == words("X = -1.5 approx")
    True
    """
    out = []
    for m in WORD_RE.finditer(text):
        word, end, sep, symbol = m.groups()
        out.append(word.casefold() if word else EOS if end else SEP if sep else symbol)
    return out
