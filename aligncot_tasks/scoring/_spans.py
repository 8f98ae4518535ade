"""What a multiple-choice answer span commits to: the letter or option text that opens it.

A span is the text after a cue, a zero-shot generation's opening, or the sentence before a
verdict; :mod:`aligncot_tasks.scoring.choice` decides which spans to read, in which order.
Letters and option texts themselves are resolved by :mod:`aligncot_tasks.scoring._options`.
Each reader returns ``(status, letter)``: :data:`~aligncot_tasks.scoring._options.ANSWER`
with the letter, ``STOP`` (committed to no single option), or ``NOTHING`` (no answer here).
"""

from __future__ import annotations

import re

from aligncot_tasks.scoring._match import EOS, SEP, match_end, words
from aligncot_tasks.scoring._options import ANSWER, ARTICLES, NOTHING, STOP, Choices, letter_at, squash, text_answer

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
#: A sentence's end inside a line, or a line's end.
SENTENCE_END_RE = re.compile(r"\n|[.!?](?=\s)")


def read_span(span: str, ch: Choices, stop_on_letters: bool, text_ok: bool = True) -> tuple[str, str | None]:
    """Read the answer at the start of ``span`` (the text after a cue, or a zs generation).

    ``stop_on_letters``: when no answer opens the span, the sentence may still name one
    option in brackets ("Answer: the shape drawn is (B) kite"); naming several ("the answer
    is either (A) or (B)") is uncommitted, not absent.
    ``text_ok``: whether an option's text (not only its letter) may be the answer.
    """
    start = match_end(FILLER_RE, span)
    letter, end = letter_at(span, start, ch)
    if letter is not None:
        clause = after_own_text(SENTENCE_END_RE.split(span[end : end + 300], maxsplit=1)[0], letter, ch)
        other = OTHER_LETTER_RE.search(clause)
        if letter not in ch.letters or (other and (other.group(1) or other.group(2)).upper() in ch.letters):
            return STOP, None
        return ANSWER, letter
    if text_ok:
        status, letter = text_answer(span[match_end(TEXT_FILLER_RE, span) :], ch, exact=False)
        if status != NOTHING:
            return status, letter
    sentence = SENTENCE_END_RE.split(span[start : start + 300], maxsplit=1)[0]
    if REJECTION_RE.match(span, start):
        return STOP, None
    if NEGATION_RE.match(span, start):
        instead = INSTEAD_RE.search(sentence)
        return read_span(sentence[instead.end() :], ch, stop_on_letters, text_ok) if instead else (NOTHING, None)
    named = bracketed(sentence) & set(ch.letters)
    if stop_on_letters and named:
        return (ANSWER, named.pop()) if len(named) == 1 else (STOP, None)
    return NOTHING, None


def after_own_text(clause: str, letter: str, ch: Choices) -> str:
    """``clause`` less the option's own text that opens it: the letters inside "C. Both A and
    B" (C's text) are what C says, not other answers.

    >>> after_own_text(" Both A and B, or D", "C", Choices.of("ABCD", ("x", "y", "Both A and B", "z")))
    ', or D'
    """
    if letter not in ch.letters or not ch.squashed:
        return clause
    own = ch.squashed[ch.letters.index(letter)].rstrip(".").casefold()
    head = squash(clause.lstrip(" \t:-–—)"))
    return head[len(own) :] if own and head.casefold().startswith(own) else clause


def bracketed(text: str) -> set[str]:
    """The letters ``text`` names in brackets, upper case: ``{"A", "C"}`` for "(a) or [C]"."""
    return {m.group(1).upper() for m in BRACKETED_RE.finditer(text)}


def read_whole(span: str, ch: Choices) -> tuple[str, str | None]:
    """``span`` is entirely an answer: a letter with at most its option's text, or a text."""
    start = match_end(FILLER_RE, span)
    letter, end = letter_at(span, start, ch)
    if letter is None:
        return text_answer(span[match_end(TEXT_FILLER_RE, span) :], ch, exact=True)
    if letter not in ch.letters:
        return STOP, None
    rest = tuple(t for t in words(span[end:]) if t not in (EOS, SEP))
    rest = rest[1:] if rest and rest[0] in ARTICLES else rest
    own = ch.tokens[ch.letters.index(letter)] if ch.tokens else ()
    return (ANSWER, letter) if not rest or own[: len(rest)] == rest else (NOTHING, None)
