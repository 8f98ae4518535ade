"""The one matching helper every answer-type scorer is built on.

It knows how models *commit* to an answer ("The answer is ...", "Answer: ...",
"#### ...", ``\\boxed{...}``), where a made-up next question or a concluding sentence
starts, and how to strip presentation (Markdown emphasis, LaTeX dollars); answer-type
modules only decide what an answer of their type looks like.

:func:`commitments` is where numeric, MATH and BBH answers are read from (each answer cue's
text runs up to the next commitment). Multiple choice reads the same cues and boxes but
places them itself (:mod:`aligncot_tasks.scoring.choice`): there an answer may precede its
verdict ("(B) is correct") and a cue may only walk through the options.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

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


def match_end(pattern: re.Pattern[str], text: str, pos: int = 0) -> int:
    """Where ``pattern``'s match at ``pos`` ends (``pos`` if none): the skip past an optional
    prefix, for the patterns (``(...)*``) that always match, if only the empty string.

    >>> match_end(re.compile(r"[ (]*"), "  (B)"), match_end(re.compile(r"[ (]*"), "B")
    (3, 0)
    """
    m = pattern.match(text, pos)
    return m.end() if m is not None else pos


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


#: Answer lines of solution formats that never say "the answer is": GPT-3's GSM8K
#: solutions and Q:/A: few-shot prompts end in a line "A: 18"; Fine-tune-CoT completions
#: end in "... --> 18". (Not part of ANSWER_CUE_RE: "A:" would read as option A there.)
SOLUTION_CUE_RE = re.compile(r"(?m)^[ \t]*A[ \t]*:|-->")

#: Opening of a ``\boxed{...}`` / ``\fbox{...}``.
BOXED_OPEN_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BRACE_RE = re.compile(r"[{}]")

#: How much text after a cue can hold the answer (an answer is stated right after its cue);
#: bounds the work per cue on adversarial text full of cues.
MAX_TAIL_CHARS = 1000


@dataclass(frozen=True)
class Commitment:
    r"""One place where a text commits to an answer (offsets into ``source``, no copies).

    Attributes:
        source: The whole text.
        start: Offset of the cue or box.
        begin: Offset where the answer text starts (after the cue, inside the box).
        end: Offset where it ends (a box's closing brace; for a cue, the next commitment,
            at most :data:`MAX_TAIL_CHARS` after ``begin``).
        boxed: Whether this is a ``\boxed{}`` (its ``text`` is exactly the answer).
    """

    source: str = field(repr=False)
    start: int
    begin: int
    end: int
    boxed: bool

    @property
    def text(self) -> str:
        """The answer text: a cue's tail or a box's content."""
        return self.source[self.begin : self.end]


def boxed_spans(text: str) -> list[Commitment]:
    r"""Every closed ``\boxed{...}`` / ``\fbox{...}`` in order, nested braces included.

    One linear pass matches all braces, so text with thousands of boxes stays fast.

    >>> [c.text for c in boxed_spans(r"\boxed{1} then \fbox{\frac{1}{2}} and \boxed{3")]
    ['1', '\\frac{1}{2}']
    """
    opens = {m.end() - 1: m.start() for m in BOXED_OPEN_RE.finditer(text)}
    if not opens:
        return []
    out, stack = [], []
    for m in _BRACE_RE.finditer(text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            brace = stack.pop()
            if brace in opens:
                out.append(Commitment(text, opens[brace], brace + 1, m.start(), True))
    return sorted(out, key=lambda c: c.start)


def commitments(text: str, extra_cues: re.Pattern[str] | None = None) -> list[Commitment]:
    r"""Every answer commitment of ``text`` -- answer cues and boxes -- in text order.

    Args:
        text: A model's generation.
        extra_cues: Further cue patterns of one answer type (e.g. :data:`SOLUTION_CUE_RE`).

    >>> [(c.boxed, c.text) for c in commitments(r"x. The answer is $\boxed{5}$.")]
    [(False, '$'), (True, '5')]
    >>> [c.text for c in commitments("The answer is 4. No, the answer is 5.")]
    ['4. No, ', '5.']
    >>> [c.text for c in commitments("16-3=13\nA: 13", SOLUTION_CUE_RE)]
    [' 13']
    """
    cues = list(ANSWER_CUE_RE.finditer(text))
    if extra_cues is not None:
        cues += extra_cues.finditer(text)
    boxes = boxed_spans(text)
    # A cue's answer ends where the next commitment starts: that keeps the work linear in
    # the text however many cues it has, and an answer never runs into the next one.
    starts = sorted([m.start() for m in cues] + [b.start for b in boxes])
    found = []
    for m in cues:
        i = bisect.bisect_left(starts, m.end())
        end = min(len(text), m.end() + MAX_TAIL_CHARS, starts[i] if i < len(starts) else len(text))
        found.append(Commitment(text, m.start(), m.end(), end, False))
    return sorted(found + boxes, key=lambda c: (c.start, c.boxed))


#: A new question starting after the answer: a model rambling on with a made-up next
#: problem ("\n\nQuestion: ...", "\nQ: ...", "**Question:**", a "### Question" heading or
#: a "Question" line of its own, "### Related Questions"); nothing after it answers *this*
#: question. Numbered headings ("Question 6:") are the solution's own parts, and GSM8K's
#: "####" is an answer cue, not a heading.
RAMBLE_RE = re.compile(
    r"\n[ \t]*(?:\*\*|__)?(?:Q|Question)[ \t]*(?:\*\*|__)?[ \t]*:"
    r"|\n[ \t]*#{1,3}[ \t]+(?i:(?:Related|Similar|More|Practice|Additional|Follow[- ]?up|Next|New|Another|Example)"
    r"[ \t]+(?:Questions?|Problems?|Exercises?)|Questions?\b)"
    r"|\n[ \t]*(?:\*\*|__)?(?:New[ \t]+|Next[ \t]+)?Question(?:\*\*|__)?[ \t]*\n"
)


def before_ramble(text: str) -> str:
    """``text`` up to a made-up next question, if the model started one.

    >>> before_ramble("The answer is 4.\\n\\nQuestion: What is 3+3? The answer is 6.")
    'The answer is 4.\\n'
    >>> before_ramble("So 4.\\n### Related Questions\\n1. What is 3+3?"), before_ramble("#### 4\\n#### 5")
    ('So 4.', '#### 4\\n#### 5')
    >>> before_ramble("\\n**Question:** 2+2?\\nSo 4.\\n\\nQuestion: 3+3?")
    '\\n**Question:** 2+2?\\nSo 4.\\n'

    """
    for m in RAMBLE_RE.finditer(text):
        if text[: m.start()].strip():  # a generation that opens by restating its question goes on
            return text[: m.start()]
    return text


#: The key of a structured answer: ``"answer":``, ``'Final Answer':``, ``"final_answer":``
#: in a JSON object or Python dict (a ```json fence changes nothing), any case.
STRUCTURED_KEY_RE = re.compile(r"""["'](?:final[ _]?)?answer["'][ \t]*:[ \t]*""", re.IGNORECASE)
#: A structured answer's value: a quoted string, or a bare value (a number, an expression)
#: up to the object's next key, its end or the line's end.
STRUCTURED_VALUE_RE = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^,}\n]*)""")


def structured_answer(text: str) -> str | None:
    r"""The value of the last ``"answer"`` key in ``text``, or None when there is none.

    >>> structured_answer('```json\n{"reasoning": "2+2", "Answer": "B) sunlight"}\n```')
    'B) sunlight'
    >>> structured_answer('{"answer": 56/8*2}'), structured_answer('{"answer": "\\u00bd"}')
    ('56/8*2', '½')
    >>> structured_answer(r'{"answer": "\frac{1}{2}", "x": 1}'), structured_answer(r'{"answer": "\\sqrt{2}"}')
    ('\\frac{1}{2}', '\\sqrt{2}')
    >>> structured_answer("The answer: 4") is None
    True
    """
    keys = list(STRUCTURED_KEY_RE.finditer(text))
    if not keys:
        return None
    key = keys[-1]
    m = STRUCTURED_VALUE_RE.match(text, key.end())
    assert m is not None  # its last alternative matches the empty string
    quoted = m.group(1) if m.group(1) is not None else m.group(2)
    value = m.group(3).strip() if quoted is None else JSON_ESCAPE_RE.sub(_unescape, quoted)
    return value or None


#: The JSON escapes a structured answer's value is decoded for. Others stay as written:
#: models write LaTeX as ``"\frac{1}{2}"``, and JSON would read ``\f`` as a form feed.
JSON_ESCAPE_RE = re.compile(r"""\\(["'\\/])|\\u([0-9a-fA-F]{4})""")


def _unescape(m: re.Match[str]) -> str:
    return m.group(1) or chr(int(m.group(2), 16))


#: A complete closing sentence that draws a conclusion ("Therefore, Bob has (B)."); group 1
#: is what it concludes. A sentence cut off mid-way ("So Bob has (B), since") concludes nothing.
CONCLUSION_RE = re.compile(
    r"""(?:^|[.!?]\s+)(?:therefore|thus|hence|so|in\s+conclusion|in\s+summary)\b,?([^.!?\n]*)[.!]["'*_\s]*$""",
    re.IGNORECASE,
)

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
