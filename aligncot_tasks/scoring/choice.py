"""Multiple-choice answers: which option letter a generation commits to.

A generation commits to an option by a *cue* followed by an answer ("The answer is (B).",
"Answer: B", "I'd go with C"), by an answer followed by a verdict ("(B) is correct"), or --
for zero-shot -- by starting with one ("B) sunlight because ..."). An answer is a letter
("(B)", "B)", "B.", "**B**", "option b") or an option's own text ("dark"), matched
through :func:`aligncot_tasks.scoring._match.tokens` so case, punctuation and articles do not
matter. Whatever is not one unambiguous option is not credited: lists ("probably (A), (B),
or (D)"), text shared by two options, letters the item does not have.

Public API (also used by BBH's multiple-choice scorer): :func:`choose` works on a bare
letter set and option texts; :func:`inline_options` reads options written inside a
question as ``(A) ...`` lines. ``extract``/``is_correct``/``answer_sentence`` are the
answer-type interface of :mod:`aligncot_tasks.scoring`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from aligncot_tasks.items import Item
from aligncot_tasks.scoring import _match
from aligncot_tasks.scoring._match import EOS, SEP, strip_markup, words

#: Cues that commit to an option, besides the shared answer cues of ``_match``.
CHOICE_CUE_RE = re.compile(
    r"\bI(?:'ll|\s+will|'d|\s+would|\s+must)?\s+(?:go\s+with|choose|pick|select|opt\s+for|say)\b"
    r"|\banswer\s+(?:to|for)\s+(?:this|the)\s+question\s+is\b"
    r"|\banswer\s+(?:must|has\s+to|can\s+only|would\s+have\s+to)\s+be\b"
    r"|\b(?:correct|right|best|final)\s+(?:option|choice|letter)\s*:"
    r"|\b(?:correct|right|best|better|final)\s+(?:solution|response|statement|one)\s+(?:is|would\s+be)\b"
    r"|\\(?:boxed|fbox)\{",
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
    "first second third fourth fifth last next other another each every remaining previous".split()
)
#: Where a model starts a new question (the tasks' stop sequences, and few-shot "Q:"):
#: nothing after it answers this one.
NEW_QUESTION_RE = re.compile(r"\n[^\S\n]*(?:Q:|Question:|Choose the answer to the question)")
#: Marks between a cue and its answer that do not change the answer.
PUNCT_FILLER = r"[\s:,=>\"'“”‘’*#$~–—]|\\\(|\\\["
#: Hedges between a cue and its answer that do not change which option it is.
HEDGES = (
    r"probably|likely|most\s+likely|definitely|certainly|clearly|obviously|indeed|therefore|thus|hence|so|then|"
    r"actually|simply|just|surely|undoubtedly|it\s+is|it's|i\s+(?:think|believe|guess|would\s+say)|i'd\s+say"
)
#: Before answers written as text only marks and hedges are skipped (an option may begin
#: "the answer ..."); before letters also the words that label them ("the correct answer: B").
TEXT_FILLER_RE = re.compile(rf"(?:{PUNCT_FILLER}|(?i:\b(?:{HEDGES})\b))*")
LABELS = r"most|correct|right|best|final|the|answer|that"
FILLER_RE = re.compile(rf"(?:{PUNCT_FILLER}|(?i:\b(?:{HEDGES}|{LABELS})\b))*")
#: A letter, as models write one. ``wk`` (a bare capital before more words) and ``co`` ("B:")
#: are letters only when what follows backs them (see :func:`_letter`): "A lamp" is usually
#: an article, "A: Let's think" a dialogue turn.
LETTER_RE = re.compile(
    r"(?i:option|choice|letter)\s*[:#]?\s*[(\[]?\s*(?P<kw>[A-Za-z])\s*[)\]]?(?![\w'])"
    r"|[(\[{<]\s*(?P<br>[A-Za-z])\s*[)\]}>]"
    r"|(?P<pu>[A-Za-z])(?:\)|\.(?![\w.])|\s*[-–—](?=\s))"
    r"|(?P<en>[A-Za-z])(?=\s*(?:$|[\n,;!?\"”*}$\]<]|['’](?!\w))|\s+\.(?!\w)|\s+\()"
    r"|(?P<co>[A-Za-z]):(?![\w:])"
    r"|(?P<wk>[A-HJ-Z])(?=\s+\w)"
)
#: What may follow a bare capital letter that is an answer ("B because ..."); "C is correct"
#: is a verdict (:data:`VERDICT_RE`), and "A is wrong" must not read as A.
LETTER_CONTINUATION_RE = re.compile(r"\s+(?:because|since|as)\b")
#: Words that may follow an option's text in an answer ("dark because it is night").
TEXT_CONTINUATIONS = frozenset("because since as so therefore thus hence which".split())
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
#: A line that lists an option ("A) ...", "(B) ...", "C. ...").
ENUMERATION_RE = re.compile(r"\s*[(\[]?[A-Z][).\]]\s")
#: BBH-style options inside a question: "(A) text" on their own lines.
INLINE_OPTION_RE = re.compile(r"^\(([A-Z])\)[ \t]*(.*?)[ \t]*$", re.MULTILINE)

WINDOW = 600  # chars read after a cue (plus the longest option): answers sit right after cues
MAX_CUES = 64  # commitments examined per generation: bounds the work on pathological text
ARTICLES = frozenset({"a", "an", "the"})

ANSWER, NOTHING, STOP = "answer", "nothing", "stop"  # STOP: committed to no single valid option
CUE, LETTER_CUE, VERDICT = "cue", "letter cue", "verdict"  # kinds of commitment


@dataclass(frozen=True)
class Choices:
    """An item's options as the scorer compares them.

    Attributes:
        letters: Option letters, e.g. ``"ABCD"``.
        tokens: Each option's text as :func:`words` (leading article and final stop dropped);
            empty when the texts are unknown.
        squashed: Each option's exact text with white space collapsed: it tells apart
            options that differ only in case or marks ("Bb" and "BB", "6'" and "6''").
    """

    letters: str
    tokens: tuple[tuple[str, ...], ...]
    squashed: tuple[str, ...]

    @classmethod
    def of(cls, letters: str, options: Sequence[str]) -> Choices:
        """Build from letters and option texts (texts ignored unless one per letter)."""
        options = tuple(options) if len(options) == len(letters) else ()
        return cls(letters, tuple(_option_words(o) for o in options), tuple(_squash(o) for o in options))


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
    >>> choose("probably (A), (B), or (D)", "ABCD") is None
    True
    >>> choose("The answer is (F).", "ABCDE") is None
    True
    """
    if not isinstance(generation, str) or not letters:
        return None
    ch = Choices.of(letters, options)
    limit = WINDOW + max(map(len, ch.squashed), default=0)
    raw = _squash(generation[: 2 * limit])
    lone = LONE_LETTER_RE.fullmatch(raw)
    if lone and lone.group(1).upper() in letters:  # a letter reads as a letter, even if an option is "B"
        return lone.group(1).upper()
    if len(generation) <= limit and raw in ch.squashed:  # verbatim an option ("**" too)
        hits = [i for i, o in enumerate(ch.squashed) if o == raw]
        return letters[hits[0]] if len(hits) == 1 else None
    text = unicodedata.normalize("NFKC", strip_markup(generation))
    cut = NEW_QUESTION_RE.search(text)
    text = text[: cut.start()] if cut and text[: cut.start()].strip() else text
    if len(text) <= limit:  # the whole generation is one option's text
        status, letter = _text_answer(text, ch, exact=True)
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
    return _final_line(text, ch)


def _commitments(text: str) -> list[tuple[int, str, int]]:
    """Every commitment as ``(end, kind, start)`` in text order: a :data:`CUE` before its
    answer, a :data:`LETTER_CUE` ("the option is") that only a letter may follow (text after
    it describes an option: "the lamp option is dark"), a :data:`VERDICT` after its answer."""
    found = []
    for m in _match.ANSWER_CUE_RE.finditer(text):
        before = text[max(0, m.start() - 16) : m.start()].split()[-1:]
        if before and before[0].casefold() in WALKTHROUGH_WORDS:
            continue
        named = ANSWER_WORD_RE.search(m.group()) or (before and ANSWER_WORD_RE.fullmatch(before[0]))
        found.append((m.end(), CUE if named else LETTER_CUE, m.start()))
    found += [(m.end(), CUE, m.start()) for m in CHOICE_CUE_RE.finditer(text)]
    found += [(m.end(), VERDICT, m.start()) for m in VERDICT_RE.finditer(text)]
    return sorted(found)


def _span(span: str, ch: Choices, stop_on_letters: bool, text_ok: bool = True) -> tuple[str, str | None]:
    """Read the answer at the start of ``span`` (the text after a cue, or a zs generation).

    ``stop_on_letters``: when no answer is read but the sentence names options in brackets
    ("the answer is either (A) or (B)"), the commitment is uncommitted, not absent.
    ``text_ok``: whether an option's text (not only its letter) may be the answer.
    """
    start = FILLER_RE.match(span).end()
    letter, end = _letter(span, start, ch)
    if letter is not None:
        clause = SENTENCE_END_RE.split(span[end : end + 300], maxsplit=1)[0]
        other = OTHER_LETTER_RE.search(clause)
        if letter not in ch.letters or (other and (other.group(1) or other.group(2)).upper() in ch.letters):
            return STOP, None
        return ANSWER, letter
    if text_ok:
        status, letter = _text_answer(span[TEXT_FILLER_RE.match(span).end() :], ch, exact=False)
        if status != NOTHING:
            return status, letter
    sentence = SENTENCE_END_RE.split(span[start : start + 300], maxsplit=1)[0]
    if REJECTION_RE.match(span, start):
        return STOP, None
    if NEGATION_RE.match(span, start):
        instead = INSTEAD_RE.search(sentence)
        return _span(sentence[instead.end() :], ch, stop_on_letters, text_ok) if instead else (NOTHING, None)
    if stop_on_letters and any(m.group(1).upper() in ch.letters for m in BRACKETED_RE.finditer(sentence)):
        return STOP, None
    return NOTHING, None


def _letter(span: str, pos: int, ch: Choices) -> tuple[str | None, int]:
    """The letter written at ``span[pos:]`` (upper case, maybe not one of the item's) and
    where it ends; ``(None, pos)`` when there is none."""
    m = LETTER_RE.match(span, pos)
    if not m:
        return None, pos
    weak = m.group("wk") or m.group("co")
    if weak:  # "B sunlight", "C is correct", "B: sunlight" -- not "A lamp", "A: Let's think"
        letter = weak.upper()
        after = span[m.end() : m.end() + WINDOW]
        if letter in ch.letters and ch.tokens:
            i = ch.letters.index(letter)
            own = Choices(letter, ch.tokens[i : i + 1], ch.squashed[i : i + 1])
            backed = _text_answer(after, own, exact=False)[0] == ANSWER
        else:
            backed = False
        rest_of_line = m.group("co") and not after.split("\n", 1)[0].strip()
        if not (backed or rest_of_line or (m.group("wk") and LETTER_CONTINUATION_RE.match(span, m.end()))):
            return None, pos
        return letter, m.end()
    return next(g for g in m.group("kw", "br", "pu", "en") if g).upper(), m.end()


def _text_answer(span: str, ch: Choices, exact: bool) -> tuple[str, str | None]:
    """Which option's text ``span`` states (compared as :func:`words`).

    ``exact``: the span must be the option's text. Otherwise, in order: its first sentence
    is an option's text; it starts with an option's text followed by the sentence's end or a
    connective ("dark because ..."); its first sentence is a prefix of one option's text
    (at least 3 words and half of it). Several candidates at a step are told apart only by
    the exact characters (``Choices.squashed``); otherwise they are ambiguous (STOP).
    """
    tokens = words(span)
    if tokens and tokens[0] in ARTICLES:
        tokens = tokens[1:]
    sentence = tokens if exact or EOS not in tokens else tokens[: tokens.index(EOS)]
    while sentence and sentence[-1] in (EOS, SEP):
        sentence = sentence[:-1]
    if not sentence or not ch.tokens:
        return NOTHING, None
    opts = list(enumerate(ch.tokens))
    tiers = [[i for i, o in opts if o and o == tuple(sentence)]]
    if not exact:
        tiers.append([i for i, o in opts if o and tuple(tokens[: len(o)]) == o and _ends_answer(tokens, len(o))])
        n = len(sentence)
        tiers.append([i for i, o in opts if n < len(o) and n >= max(3, len(o) / 2) and o[:n] == tuple(sentence)])
    for tier in tiers:
        if len(tier) > 1:  # the longest option written out verbatim, if one is
            squashed = _squash(span.lstrip(" \t\n:,\"'“”‘’*#$–—"))
            verbatim = [i for i in tier if _starts_with(squashed, ch.squashed[i])]
            longest = max((len(ch.squashed[i]) for i in verbatim), default=0)
            tier = [i for i in verbatim if len(ch.squashed[i]) == longest] or tier
        if len(tier) == 1:
            return ANSWER, ch.letters[tier[0]]
        if tier:
            return STOP, None
    return NOTHING, None


def _ends_answer(tokens: list[str], n: int) -> bool:
    """Whether an option's text of ``n`` tokens at the start of ``tokens`` ends the answer."""
    return n == len(tokens) or tokens[n] in (EOS, SEP) or tokens[n] in TEXT_CONTINUATIONS


def _starts_with(text: str, prefix: str) -> bool:
    """``text`` starts with ``prefix`` as a whole (not "6" in "6'")."""
    if not prefix or not text.startswith(prefix):
        return False
    return len(text) == len(prefix) or not (text[len(prefix)].isalnum() or text[len(prefix)] in "'\"")


def _verdict_subject(text: str, start: int, ch: Choices) -> tuple[str, str | None]:
    """Read "<answer> is correct": the answer must be all of the sentence before the verdict."""
    head = text[max(0, start - 300) : start]
    cut = max(head.rfind("\n"), *(head.rfind(p) for p in (". ", "! ", "? ", ", ", "; ")))
    return _whole(head[cut + 1 :], ch)


def _final_line(text: str, ch: Choices) -> str | None:
    """A generation without cues may end on its answer alone: "...\\n(B) sunlight"."""
    lines = [line for line in text[-4 * WINDOW :].split("\n") if line.strip()]
    if not lines or (len(lines) > 1 and _letter(lines[-2], FILLER_RE.match(lines[-2]).end(), ch)[0]):
        return None  # the end of a list of options is not a choice among them
    last = lines[-1].rstrip(" .!")
    for span in (last, SENTENCE_END_RE.split(last)[-1]):
        status, letter = _whole(span, ch)
        if status != NOTHING:
            return letter
    return None


def _whole(span: str, ch: Choices) -> tuple[str, str | None]:
    """``span`` is entirely an answer: a letter with at most its option's text, or a text."""
    start = FILLER_RE.match(span).end()
    letter, end = _letter(span, start, ch)
    if letter is None:
        return _text_answer(span[TEXT_FILLER_RE.match(span).end() :], ch, exact=True)
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


def _squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _option_words(option: str) -> tuple[str, ...]:
    tokens = words(unicodedata.normalize("NFKC", strip_markup(option)))
    if tokens and tokens[0] in ARTICLES:
        tokens = tokens[1:]
    while tokens and tokens[-1] in (EOS, SEP):
        tokens = tokens[:-1]
    return tuple(tokens)


def inline_options(question: str) -> tuple[str, ...]:
    """Option texts written inside a question as ``(A) ...`` lines (BBH), in letter order.

    >>> inline_options("Which?\\nOptions:\\n(A) red\\n(B) blue")
    ('red', 'blue')
    >>> inline_options("no options")
    ()
    """
    found = {m.group(1): m.group(2) for m in INLINE_OPTION_RE.finditer(question)}
    texts = []
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if letter not in found:
            break
        texts.append(found[letter])
    return tuple(texts)


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
    """Canonical answer sentence.

    >>> from aligncot_tasks.items import Item
    >>> answer_sentence(Item("q", "C", ("x", "y", "z")))
    'The answer is (C).'
    """
    return f"The answer is ({item.gold})."
