"""Multiple-choice answers: which option letter a generation commits to.

A generation commits to an option by a *cue* followed by an answer ("The answer is (B).",
"Answer: B", "I'd go with C"), by an answer followed by a verdict ("(B) is correct"), or --
for zero-shot -- by starting with one ("B) sunlight because ..."); a chain of thought that
never commits may open with its answer on a line of its own ("B. sunlight\n\nExplanation: ..."). An answer is a letter
("(B)", "B)", "B.", "**B**", "option b") or an option's own text ("dark", read by
:mod:`aligncot_tasks.scoring._options`). Whatever is not one unambiguous option is not
credited: lists ("probably (A), (B), or (D)"), text shared by two options, letters the item
does not have.

The answer cues are :mod:`aligncot_tasks.scoring._match`'s, but where they commit is read
here, not by :func:`~aligncot_tasks.scoring._match.commitments`: an option may be named
*before* its verdict ("(B) is correct"), a shared cue may only walk through the options
("the second option is (B) ..."), and what follows a cue is read up to :data:`WINDOW`
characters, not up to the next cue ("the answer is not (A), the answer is ..." stays one).

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
from aligncot_tasks.scoring._match import EOS, SEP, strip_markup, words
from aligncot_tasks.scoring._options import (
    ANSWER,
    ARTICLES,
    NOTHING,
    STOP,
    WINDOW,
    Choices,
    inline_options,
    letter_at,
    squash,
    text_answer,
)

__all__ = ["answer_sentence", "choose", "extract", "inline_options", "is_correct"]

#: Cues that commit to an option, besides the shared answer cues of ``_match``.
CHOICE_CUE_RE = re.compile(
    r"\bI(?:'ll|\s+will|'d|\s+would|\s+must)?\s+(?:go\s+with|choose|pick|select|opt\s+for|say)\b"
    r"|\banswer\s+(?:to|for)\s+(?:this|the)\s+question\s+is\b"
    r"|\banswer\s+(?:must|has\s+to|can\s+only|would\s+have\s+to)\s+be\b"
    r"|\b(?:correct|right|best|final)\s+(?:option|choice|letter)\s*:"
    r"|\b(?:correct|right|best|better|final)\s+(?:solution|response|statement|one)\s+(?:is|would\s+be)\b",
    re.IGNORECASE,
)
#: A verdict *after* the answer: "(B) is correct", "Option B is the best answer".
VERDICT_RE = re.compile(
    r"\b(?:is|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?"
    r"(?:(?:most\s+)?(?:correct|right|best|appropriate|likely|plausible|suitable|accurate)\s+(?:answer|option|choice)"
    r"|correct|right|answer)\b",
    re.IGNORECASE,
)
#: A shared cue naming an answer (or a judged option: "the correct option is") rather than
#: just an option ("the option is"), which may describe an option instead of choosing it.
ANSWER_WORD_RE = re.compile(r"(?i:answer|correct|best|better|right|final|likely|only|####)")
#: A shared cue after one of these words ("the second option is (B) ...") walks through
#: the options instead of committing to one.
WALKTHROUGH_WORDS = frozenset(
    [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "last",
        "next",
        "other",
        "another",
        "each",
        "every",
        "remaining",
        "previous",
    ]
)
#: Where a model starts a new question: a made-up "Question:"/"Q:" (``_match``'s ramble)
#: or a new multiple-choice prompt; nothing after it answers this one.
NEW_QUESTION_RE = re.compile(rf"{_match.RAMBLE_RE.pattern}|\n[^\S\n]*{re.escape(MC_INSTRUCTION_HEAD)}")
#: Marks between a cue and its answer that do not change the answer.
PUNCT_FILLER = r"[\s:,=>\"'“”‘’*#$~–—]|\\\(|\\\["
#: Hedges between a cue and its answer that do not change which option it is.
HEDGES = (
    r"(?:most\s+)?likely\s+to\s+be|going\s+to\s+be|probably|likely|most\s+likely|definitely|certainly|clearly|obviously|indeed|therefore|thus|hence|so|then|"
    r"actually|simply|just|surely|undoubtedly|it\s+is|it's|i\s+(?:think|believe|guess|would\s+say)|i'd\s+say"
)
#: Before answers written as text only marks and hedges are skipped (an option may begin
#: "the answer ..."); before letters also the words that label them ("the correct answer: B").
TEXT_FILLER_RE = re.compile(rf"(?:{PUNCT_FILLER}|(?i:\b(?:{HEDGES})\b))*")
LABELS = r"most|correct|right|best|final|the|answer|that"
FILLER_RE = re.compile(rf"(?:{PUNCT_FILLER}|(?i:\b(?:{HEDGES}|{LABELS})\b))*")
#: Another letter joined to the first by "or", "and", a comma, a slash or "could also be":
#: no single answer.
OTHER_LETTER_RE = re.compile(
    r"(?:,|/|&|\bor\b|\band\b|\b(?:could|might|may|can)\s+(?:also\s+)?be\b|\balternatively\b)"
    r"\s*(?:(?:or|and)\s+)?(?:(?i:option|choice)\s+)?"
    r"(?:[(\[]\s*([A-Za-z])\s*[)\]]|\b([A-Z])(?=\s*(?:$|[,.;:)!?/]|\bor\b|\band\b)))"
    r"(?!\s*(?:is|was|are|were|would|could|can|does|has|seems)\b)"  # "(B), and (A) is wrong" still chooses B
)
#: A letter in brackets: its presence marks a cue's sentence as about options.
BRACKETED_RE = re.compile(r"[(\[]\s*([A-Za-z])\s*[)\]]")
NEGATION_RE = re.compile(r"(?i:not|n't|never)\b")
#: An answer that rejects every option: a commitment to none of them.
REJECTION_RE = re.compile(
    r"(?i:(?:none|neither)\b|no\s+(?:\w+\s+)?(?:answer|option|choice)|unclear|unknown"
    r"|(?:cannot|can't)\s+be\s+determined"
    r"|not\s+(?:given|listed|clear|possible|determinable|among|in\s+the\s+(?:options|choices|list)))"
)
#: After a negation, where the answer the model puts instead starts ("not (A) but (C)").
INSTEAD_RE = re.compile(r"(?i:\b(?:but|rather|instead)\b[,\s]*(?:it\s+is\b|it's)?)")
#: A generation that is one letter and nothing else: "B", "(b)", "**C**", "D."
LONE_LETTER_RE = re.compile(r"[(\[*\"']*([A-Za-z])[)\]*\"'.]*")
#: A sentence's end inside a line, or a line's end.
SENTENCE_END_RE = re.compile(r"\n|[.!?](?=\s)")
#: A line that ends in a lone lower-case letter after other words: read as a letter, it is
#: a word cut off ("So the a"), no answer; as the end of an option's text ("k = 2 x") it is one.
CUT_WORD_RE = re.compile(r"\S[ \t]+[a-z]$")
#: A line that lists an option ("A) ...", "(B) ...", "C. ...").
ENUMERATION_RE = re.compile(r"\s*[(\[]?[A-Z][).\]]\s")

MAX_CUES = 64  # commitments examined per generation: bounds the work on pathological text

CUE, LETTER_CUE, VERDICT = "cue", "letter cue", "verdict"  # kinds of commitment


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
    raw = squash(generation[: 2 * limit])
    lone = LONE_LETTER_RE.fullmatch(raw)
    if lone and lone.group(1).upper() in letters:  # a letter reads as a letter, even if an option is "B"
        return lone.group(1).upper()
    if len(generation) <= limit and raw in ch.squashed:  # verbatim an option ("**" too)
        hits = [i for i, o in enumerate(ch.squashed) if o == raw]
        return letters[hits[0]] if len(hits) == 1 else None
    text = unicodedata.normalize("NFKC", strip_markup(generation))
    cut = NEW_QUESTION_RE.search(text)
    text = text[: cut.start()] if cut and text[: cut.start()].strip() else text
    structured = _match.structured_answer(text)  # {"answer": "B) sunlight"} is the answer
    if structured is not None:
        status, letter = _span(structured, ch, stop_on_letters=True)
        if status != NOTHING:
            return letter
    if len(text) <= limit:  # the whole generation is one option's text
        status, letter = text_answer(text, ch, exact=True)
        if status != NOTHING:
            return letter
    if variant == "zs":
        status, letter = _span(text[:limit], ch, stop_on_letters=False)
        if status != NOTHING and not (status == ANSWER and _enumerates(text)):
            return letter
    cues = _commitments(text)
    for end, kind, start in cues[:MAX_CUES] if variant == "zs" else cues[::-1][:MAX_CUES]:
        if kind == VERDICT:
            status, letter = _verdict_subject(text, start, ch)
        else:
            status, letter = _span(text[end : end + limit], ch, stop_on_letters=True, text_ok=kind == CUE)
        if status != NOTHING:
            return letter
    final = _final_line(text, ch)
    if final is None and variant == "cot" and not _enumerates(text):
        # "B. sunlight\n\nExplanation: ...": an opening line that is an answer and nothing else.
        status, letter = _whole(text.lstrip().split("\n", 1)[0][:limit].rstrip(" .!"), ch)
        return letter if status == ANSWER else None
    return final


def _commitments(text: str) -> list[tuple[int, str, int]]:
    r"""Every commitment as ``(end, kind, start)`` in text order: a :data:`CUE` before its
    answer (an answer cue, a choice cue, a box's opening), a :data:`LETTER_CUE` ("the option
    is") that only a letter may follow (text after it describes an option: "the lamp option
    is dark"), a :data:`VERDICT` after its answer.

    >>> [(kind, end) for end, kind, _ in _commitments("(A) is wrong; the answer is \\boxed{B}")]
    [('cue', 28), ('cue', 35)]
    """
    found = []
    for m in _match.ANSWER_CUE_RE.finditer(text):
        before = text[max(0, m.start() - 16) : m.start()].split()[-1:]
        if before and before[0].casefold() in WALKTHROUGH_WORDS:
            continue
        named = ANSWER_WORD_RE.search(m.group()) or (before and ANSWER_WORD_RE.fullmatch(before[0]))
        found.append((m.end(), CUE if named else LETTER_CUE, m.start()))
    found += [(m.end(), CUE, m.start()) for m in CHOICE_CUE_RE.finditer(text)]
    found += [(m.end(), CUE, m.start()) for m in _match.BOXED_OPEN_RE.finditer(text)]
    found += [(m.end(), VERDICT, m.start()) for m in VERDICT_RE.finditer(text)]
    return sorted(found)


def _span(span: str, ch: Choices, stop_on_letters: bool, text_ok: bool = True) -> tuple[str, str | None]:
    """Read the answer at the start of ``span`` (the text after a cue, or a zs generation).

    ``stop_on_letters``: when no answer opens the span, the sentence may still name one
    option in brackets ("Answer: the shape drawn is (B) kite"); naming several ("the answer
    is either (A) or (B)") is uncommitted, not absent.
    ``text_ok``: whether an option's text (not only its letter) may be the answer.
    """
    start = FILLER_RE.match(span).end()
    letter, end = letter_at(span, start, ch)
    if letter is not None:
        clause = _after_own_text(SENTENCE_END_RE.split(span[end : end + 300], maxsplit=1)[0], letter, ch)
        other = OTHER_LETTER_RE.search(clause)
        if letter not in ch.letters or (other and (other.group(1) or other.group(2)).upper() in ch.letters):
            return STOP, None
        return ANSWER, letter
    if text_ok:
        status, letter = text_answer(span[TEXT_FILLER_RE.match(span).end() :], ch, exact=False)
        if status != NOTHING:
            return status, letter
    sentence = SENTENCE_END_RE.split(span[start : start + 300], maxsplit=1)[0]
    if REJECTION_RE.match(span, start):
        return STOP, None
    if NEGATION_RE.match(span, start):
        instead = INSTEAD_RE.search(sentence)
        return _span(sentence[instead.end() :], ch, stop_on_letters, text_ok) if instead else (NOTHING, None)
    named = _bracketed(sentence) & set(ch.letters)
    if stop_on_letters and named:
        return (ANSWER, named.pop()) if len(named) == 1 else (STOP, None)
    return NOTHING, None


def _after_own_text(clause: str, letter: str, ch: Choices) -> str:
    """``clause`` less the option's own text that opens it: the letters inside "C. Both A and
    B" (C's text) are what C says, not other answers.

    >>> _after_own_text(" Both A and B, or D", "C", Choices.of("ABCD", ("x", "y", "Both A and B", "z")))
    ', or D'
    """
    if letter not in ch.letters or not ch.squashed:
        return clause
    own = ch.squashed[ch.letters.index(letter)].rstrip(".").casefold()
    head = squash(clause.lstrip(" \t:-–—)"))
    return head[len(own) :] if own and head.casefold().startswith(own) else clause


def _verdict_subject(text: str, start: int, ch: Choices) -> tuple[str, str | None]:
    """Read "<answer> is correct": the answer must be all of the sentence before the verdict."""
    head = text[max(0, start - 300) : start]
    cut = max(head.rfind("\n"), *(head.rfind(p) for p in (". ", "! ", "? ", ", ", "; ")))
    return _whole(head[cut + 1 :], ch)


def _final_line(text: str, ch: Choices) -> str | None:
    """A generation without cues may end on its answer alone ("...\\n(B) sunlight"), or on
    a concluding sentence that names one option ("Therefore, Bob has (B) kite.")."""
    lines = [line for line in text[-4 * WINDOW :].split("\n") if line.strip()]
    if not lines or (len(lines) > 1 and letter_at(lines[-2], FILLER_RE.match(lines[-2]).end(), ch)[0]):
        return None  # the end of a list of options is not a choice among them
    last = lines[-1].rstrip(" .!")
    cut_word = CUT_WORD_RE.search(lines[-1])
    for span in (last, SENTENCE_END_RE.split(last)[-1]):
        if cut_word and letter_at(span, FILLER_RE.match(span).end(), ch)[1] == len(span):
            continue
        status, letter = _whole(span, ch)
        if status != NOTHING:
            return letter
    conclusion = _match.CONCLUSION_RE.search(lines[-1])
    named = _bracketed(conclusion.group(1)) if conclusion else set()
    return named.pop() if len(named) == 1 and named <= set(ch.letters) else None


def _bracketed(text: str) -> set[str]:
    """The letters ``text`` names in brackets, upper case: ``{"A", "C"}`` for "(a) or [C]"."""
    return {m.group(1).upper() for m in BRACKETED_RE.finditer(text)}


def _whole(span: str, ch: Choices) -> tuple[str, str | None]:
    """``span`` is entirely an answer: a letter with at most its option's text, or a text."""
    start = FILLER_RE.match(span).end()
    letter, end = letter_at(span, start, ch)
    if letter is None:
        return text_answer(span[TEXT_FILLER_RE.match(span).end() :], ch, exact=True)
    if letter not in ch.letters:
        return STOP, None
    rest = tuple(t for t in words(span[end:]) if t not in (EOS, SEP))
    rest = rest[1:] if rest and rest[0] in ARTICLES else rest
    own = ch.tokens[ch.letters.index(letter)] if ch.tokens else ()
    return (ANSWER, letter) if not rest or own[: len(rest)] == rest else (NOTHING, None)


def _enumerates(text: str) -> bool:
    """Whether a zs generation opens by listing options ("A) ...\\nB) ...") rather than choosing."""
    lines = [line for line in text[: 4 * WINDOW].split("\n") if line.strip()][:2]
    return len(lines) == 2 and all(ENUMERATION_RE.match(line) for line in lines)


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
