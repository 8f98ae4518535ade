"""Multiple-choice answers: which option letter a generation commits to.

A generation commits to an option by a *cue* followed by an answer ("The answer is (B).",
"Answer: B", "I'd go with C"), by an answer followed by a verdict ("(B) is correct"), or --
for zero-shot -- by starting with one ("B) sunlight because ..."); a chain of thought that
never commits may open with its answer on a line of its own ("B. sunlight\n\nExplanation: ..."). An answer is a letter
("(B)", "B)", "B.", "**B**", "option b") or an option's own text ("dark", read by
:mod:`aligncot_tasks.scoring._options`). Whatever is not one unambiguous option is not
credited: lists ("probably (A), (B), or (D)"), text shared by two options, letters the item
does not have.

Where a generation commits is found by :mod:`aligncot_tasks.scoring._cues` (the answer cues
are :mod:`aligncot_tasks.scoring._match`'s, but an option may be named *before* its verdict,
"(B) is correct", and a shared cue may only walk through the options, "the second option is
(B) ..."); what a span commits to is read by :mod:`aligncot_tasks.scoring._spans`, up to
:data:`WINDOW` characters after a cue, not up to the next cue ("the answer is not (A), the
answer is ..." stays one). This module decides which places to read, in which order.

Public API (also BBH's multiple-choice scorer, :mod:`aligncot_tasks.scoring.bbh.choice`):
:func:`choose` works on a bare letter set and option texts; :func:`inline_options` reads
options written inside a question as ``(A) ...`` lines. ``extract``/``is_correct``/
``answer_sentence`` are the answer-type interface of :mod:`aligncot_tasks.scoring`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from aligncot_tasks.items import Item
from aligncot_tasks.prompts import MC_INSTRUCTION_HEAD
from aligncot_tasks.scoring import _match
from aligncot_tasks.scoring._cues import CUE, VERDICT, commitments
from aligncot_tasks.scoring._match import match_end, strip_markup
from aligncot_tasks.scoring._options import (
    ANSWER,
    NOTHING,
    STOP,
    WINDOW,
    Choices,
    inline_options,
    letter_at,
    squash,
    text_answer,
)
from aligncot_tasks.scoring._spans import (
    FILLER_RE,
    SENTENCE_END_RE,
    TEXT_FILLER_RE,
    bracketed,
    read_span,
    read_whole,
)

__all__ = ["answer_sentence", "choose", "extract", "inline_options", "is_correct", "stated"]

#: Where a model starts a new question: a made-up "Question:"/"Q:" (``_match``'s ramble)
#: or a new multiple-choice prompt; nothing after it answers this one.
NEW_QUESTION_RE = re.compile(rf"{_match.RAMBLE_RE.pattern}|\n[^\S\n]*{re.escape(MC_INSTRUCTION_HEAD)}")
#: A generation that is one letter and nothing else: "B", "(b)", "**C**", "D."
LONE_LETTER_RE = re.compile(r"[(\[*\"']*([A-Za-z])[)\]*\"'.]*")
#: A line that ends in a lone lower-case letter after other words: read as a letter, it is
#: a word cut off ("So the a"), no answer; as the end of an option's text ("k = 2 x") it is one.
CUT_WORD_RE = re.compile(r"\S[ \t]+[a-z]$")
#: A line that lists an option ("A) ...", "(B) ...", "C. ...").
ENUMERATION_RE = re.compile(r"\s*[(\[]?[A-Z][).\]]\s")

MAX_CUES = 64  # commitments examined per generation: bounds the work on pathological text


def choose(generation: str, letters: str, options: Sequence[str] = (), variant: str = "cot") -> str | None:
    """The option letter ``generation`` commits to, or None.

    Args:
        generation: The model's text after the prompt.
        letters: The item's option letters, e.g. ``"ABCDE"``; other letters are invalid.
        options: The options' texts in letter order (may be empty: letters only).
        variant: ``"cot"`` reads the final commitment, ``"zs"`` the first answer-shaped span.

    Returns:
        One of ``letters``, or None when the text commits to no single one of them.

    >>> choose("Therefore, among A through E, the answer is E.", "ABCDE")
    'E'
    >>> choose("the answer is dark", "AB", ("a lamp", "Dark"))
    'B'
    >>> choose("B) sunlight because plants need it", "ABC", ("water", "sunlight", "soil"), "zs")
    'B'
    >>> choose("B. sunlight\\n\\nExplanation: plants need light.", "ABC", ("water", "sunlight", "soil"))
    'B'
    >>> choose("probably (A), (B), or (D)", "ABCD") is None
    True
    >>> choose("The answer is (F).", "ABCDE") is None
    True
    """
    if not isinstance(generation, str) or not letters:
        return None
    ch = Choices.of(letters, options)
    limit = WINDOW + max(map(len, ch.squashed), default=0)
    status, letter = _verbatim(generation, letters, ch, limit)
    if status != NOTHING:
        return letter
    text = _answer_text(generation)
    for read in (_direct, _cued):
        status, letter = read(text, ch, limit, variant)
        if status != NOTHING:
            return letter
    return _uncued(text, ch, limit, variant)


def _verbatim(generation: str, letters: str, ch: Choices, limit: int) -> tuple[str, str | None]:
    """A generation that is one letter and nothing else, or verbatim one option's text."""
    raw = squash(generation[: 2 * limit])
    lone = LONE_LETTER_RE.fullmatch(raw)
    if lone and lone.group(1).upper() in letters:  # a letter reads as a letter, even if an option is "B"
        return ANSWER, lone.group(1).upper()
    if len(generation) <= limit and raw in ch.squashed:  # verbatim an option ("**" too)
        hits = [i for i, o in enumerate(ch.squashed) if o == raw]
        return (ANSWER, letters[hits[0]]) if len(hits) == 1 else (STOP, None)
    return NOTHING, None


def _answer_text(generation: str) -> str:
    """The generation as read for an answer: markup stripped, NFKC, cut where a new question starts."""
    text = unicodedata.normalize("NFKC", strip_markup(generation))
    cut = NEW_QUESTION_RE.search(text)
    return text[: cut.start()] if cut and text[: cut.start()].strip() else text


def _direct(text: str, ch: Choices, limit: int, variant: str) -> tuple[str, str | None]:
    """An answer that needs no cue: a structured answer field, the whole text as one option,
    or (zs) an answer-shaped opening that does not list the options."""
    structured = _match.structured_answer(text)  # {"answer": "B) sunlight"} is the answer
    if structured is not None:
        status, letter = read_span(structured, ch, stop_on_letters=True)
        if status != NOTHING:
            return status, letter
    if len(text) <= limit:  # the whole generation is one option's text
        status, letter = text_answer(text, ch, exact=True)
        if status != NOTHING:
            return status, letter
    if variant == "zs":
        status, letter = read_span(text[:limit], ch, stop_on_letters=False)
        if status != NOTHING and not (status == ANSWER and _enumerates(text)):
            return status, letter
    return NOTHING, None


def _cued(text: str, ch: Choices, limit: int, variant: str) -> tuple[str, str | None]:
    """The answer at a commitment: zs reads the first ones, cot the last ones."""
    cues = commitments(text)
    for end, kind, start in cues[:MAX_CUES] if variant == "zs" else cues[::-1][:MAX_CUES]:
        if kind == VERDICT:
            status, letter = _verdict_subject(text, start, ch)
        else:
            status, letter = read_span(text[end : end + limit], ch, stop_on_letters=True, text_ok=kind == CUE)
        if status != NOTHING:
            return status, letter
    return NOTHING, None


def _uncued(text: str, ch: Choices, limit: int, variant: str) -> str | None:
    """A generation without a readable commitment: its final line, else (cot) its opening line."""
    final = _final_line(text, ch)
    if final is None and variant == "cot" and not _enumerates(text):
        # "B. sunlight\n\nExplanation: ...": an opening line that is an answer and nothing else.
        status, letter = read_whole(text.lstrip().split("\n", 1)[0][:limit].rstrip(" .!"), ch)
        return letter if status == ANSWER else None
    return final


def _verdict_subject(text: str, start: int, ch: Choices) -> tuple[str, str | None]:
    """Read "<answer> is correct": the answer must be all of the sentence before the verdict."""
    head = text[max(0, start - 300) : start]
    cut = max(head.rfind("\n"), *(head.rfind(p) for p in (". ", "! ", "? ", ", ", "; ")))
    return read_whole(head[cut + 1 :], ch)


def _final_line(text: str, ch: Choices) -> str | None:
    """A generation without cues may end on its answer alone ("...\\n(B) sunlight"), or on
    a concluding sentence that names one option ("Therefore, Bob has (B) kite.")."""
    lines = [line for line in text[-4 * WINDOW :].split("\n") if line.strip()]
    if not lines or (len(lines) > 1 and letter_at(lines[-2], match_end(FILLER_RE, lines[-2]), ch)[0]):
        return None  # the end of a list of options is not a choice among them
    last = lines[-1].rstrip(" .!")
    cut_word = CUT_WORD_RE.search(lines[-1])
    for span in (last, SENTENCE_END_RE.split(last)[-1]):
        if cut_word and letter_at(span, match_end(FILLER_RE, span), ch)[1] == len(span):
            continue
        status, letter = read_whole(span, ch)
        if status != NOTHING:
            return letter
    conclusion = _match.CONCLUSION_RE.search(lines[-1])
    named = bracketed(conclusion.group(1)) if conclusion else set()
    return named.pop() if len(named) == 1 and named <= set(ch.letters) else None


def _enumerates(text: str) -> bool:
    """Whether a zs generation opens by listing options ("A) ...\\nB) ...") rather than choosing."""
    lines = [line for line in text[: 4 * WINDOW].split("\n") if line.strip()][:2]
    return len(lines) == 2 and all(ENUMERATION_RE.match(line) for line in lines)


def stated(generation: str, letters: str, options: Sequence[str]) -> tuple[str | None, str]:
    """What a generation's final answer sentence states: its letter, and whose text it states.

    Reads the text after the generation's last cue (the sentence :func:`choose` reads in a
    CoT answer), letter and option text separately, so a sentence naming a letter with
    another option's text shows it: ``"The answer is (C) stand in line."`` states the
    letter C and D's text. Whether the text states an option is :func:`text_answer` on that
    option alone, so a text two options share states both (``"AC"``), and a text that is no
    option's states none (``""``).

    Returns:
        (the letter after the cue, or None; the letters whose option text follows it).

    >>> stated("Only standing in line works. The answer is (C) stand in line.", "ABCD",
    ...        ("have patience", "get in line", "sing", "stand in line"))
    ('C', 'D')
    >>> stated("So the answer is (A) mortal.", "ABC", ("mortal", "dying", "Mortal"))
    ('A', 'AC')
    >>> stated("I do not know.", "AB", ("x", "y"))
    (None, '')
    """
    ch = Choices.of(letters, options)
    text = _answer_text(generation)
    cues = [end for end, kind, _ in commitments(text) if kind != VERDICT]
    if not cues:
        return None, ""
    span = text[cues[-1] : cues[-1] + WINDOW + max(map(len, ch.squashed), default=0)]
    letter, end = letter_at(span, match_end(FILLER_RE, span), ch)
    if letter is None or letter not in ch.letters:
        letter, end = None, match_end(TEXT_FILLER_RE, span)
    rest = span[end:].lstrip(" \t:-–—)")
    own = [Choices(x, ch.tokens[i : i + 1], ch.squashed[i : i + 1]) for i, x in enumerate(ch.letters) if ch.tokens]
    return letter, "".join(c.letters for c in own if text_answer(rest, c, exact=False)[0] == ANSWER)


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """Option letter the generation commits to, or None (see :func:`choose`).

    >>> from aligncot_tasks.items import Item
    >>> extract("So the answer is (B).", Item("q", "A", ("x", "y")))
    'B'
    """
    return choose(generation, item.letters, item.options, variant)


def is_correct(extracted: str, item: Item) -> bool:
    """Letter equality.

    >>> from aligncot_tasks.items import Item
    >>> is_correct("B", Item("q", "B", ("x", "y")))
    True
    """
    return extracted == item.gold


def answer_sentence(item: Item) -> str:
    """Canonical answer sentence: the letter and the option's text.

    The text is there for students: a chain of thought names the chosen option by its text,
    and a small model trained on sentences that state only the letter learns the rationale
    but not the text-to-letter lookup (measured on SmolLM2-135M: letters collapsed onto one
    option; harness_configs/recipes/smollm2-135m-instruct/TUNING.md). The cue names the
    letter in brackets, so the reader takes the letter even when two options share a text.

    >>> from aligncot_tasks.items import Item
    >>> answer_sentence(Item("q", "C", ("x", "y", "z")))
    'The answer is (C) z.'
    """
    text = " ".join(item.options[item.gold_index].split()).rstrip(".")
    return f"The answer is ({item.gold}) {text}." if text else f"The answer is ({item.gold})."
