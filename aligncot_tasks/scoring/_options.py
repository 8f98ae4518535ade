"""How an answer names one option: by its letter (:func:`letter_at`) or text (:func:`text_answer`).

These read what stands at one place of a text; *where* a generation commits to its answer
is decided by :mod:`aligncot_tasks.scoring.choice`. Texts are compared as
:func:`aligncot_tasks.scoring._match.words`, so case, punctuation and a leading article do
not matter; only when several options match equally are the exact characters
(:attr:`Choices.squashed`) consulted, and text shared by two options names neither. A bare
capital ("A lamp") or "B:" is a letter only when what follows backs it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from aligncot_tasks.prompts import OPTION_LETTERS
from aligncot_tasks.scoring._match import EOS, SEP, strip_markup, words

#: Statuses of a reading: an answer; nothing answer-shaped; committed to no single valid
#: option (a list, a rejection, text shared by two options) -- reading must stop there.
ANSWER, NOTHING, STOP = "answer", "nothing", "stop"
#: Articles a model may put before an option's text ("the moon" for "moon").
ARTICLES = frozenset({"a", "an", "the"})
#: Words that may follow an option's text in an answer ("dark because it is night").
TEXT_CONTINUATIONS = frozenset(["because", "since", "as", "so", "therefore", "thus", "hence", "which"])
#: Characters read after a cue (plus the longest option): answers sit right after cues.
WINDOW = 600
#: A letter, as models write one. ``wk`` (a bare capital before more words) and ``co`` ("B:")
#: are letters only when what follows backs them (see :func:`letter_at`): "A lamp" is usually
#: an article, "A: Let's think" a dialogue turn.
LETTER_RE = re.compile(
    r"(?i:option|choice|letter)\s*[:#]?\s*[(\[]?\s*(?P<kw>[A-Za-z])\s*[)\]]?(?![\w'])"
    r"|[(\[{<]\s*(?P<br>[A-Za-z])\s*[)\]}>]"
    r"|(?P<pu>[A-Za-z])(?:\)|\.(?![\w.])|\s*[-–—](?=\s)|\s*(?:--|[–—])(?=[^\W\d_]))"
    r"|(?P<en>[A-Za-z])(?=\s*(?:$|[\n,;!?\"”*}$\]<]|['’](?!\w))|\s+\.(?!\w)|\s+\()"
    r"|(?P<co>[A-Za-z]):(?![\w:])"
    r"|(?P<wk>[A-HJ-Z])(?=\s+\w)"
)
#: What may follow a bare capital letter that is an answer ("B because ..."); "C is correct"
#: is a verdict (``_cues.VERDICT_RE``), and "A is wrong" must not read as A.
LETTER_CONTINUATION_RE = re.compile(r"\s+(?:because|since|as)\b")
#: BBH-style options inside a question: "(A) text" on their own lines.
INLINE_OPTION_RE = re.compile(r"^\(([A-Z])\)[ \t]*(.*?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Choices:
    """An item's options as the scorer compares them.

    Attributes:
        letters: Option letters, e.g. ``"ABCD"``.
        tokens: Each option's text as :func:`words` (leading article and final stops dropped);
            empty when the texts are unknown.
        squashed: Each option's exact text with white space collapsed: it tells apart
            options that differ only in case or marks ("Bb" and "BB", "6'" and "6''").
    """

    letters: str
    tokens: tuple[tuple[str, ...], ...]
    squashed: tuple[str, ...]

    @classmethod
    def of(cls, letters: str, options: Sequence[str]) -> Choices:
        """Build from letters and option texts (texts ignored unless one per letter).

        >>> Choices.of("AB", ("The moon.", "a  lamp"))
        Choices(letters='AB', tokens=(('moon',), ('lamp',)), squashed=('The moon.', 'a lamp'))
        """
        options = tuple(options) if len(options) == len(letters) else ()
        return cls(letters, tuple(option_words(o) for o in options), tuple(squash(o) for o in options))


def text_answer(span: str, ch: Choices, exact: bool) -> tuple[str, str | None]:
    """Which option's text ``span`` states (compared as :func:`words`).

    Args:
        span: Text that may open with an option's text (after a cue, or a whole answer).
        ch: The item's options.
        exact: The span must be the option's text. Otherwise, in order: its first sentence
            is an option's text; it starts with an option's text followed by the sentence's
            end or a connective ("dark because ..."); its first sentence is a prefix of one
            option's text (at least 3 words and half of it).

    Returns:
        ``(ANSWER, letter)``, ``(NOTHING, None)``, or ``(STOP, None)`` when several options
        match at the same step and their exact characters (``Choices.squashed``) do not
        tell them apart.

    >>> ch = Choices.of("ABC", ("dark", "a lamp", "dark"))
    >>> text_answer("The lamp, because it glows.", ch, exact=False)
    ('answer', 'B')
    >>> text_answer("dark", ch, exact=True)
    ('stop', None)
    >>> text_answer("lamp post", ch, exact=True)
    ('nothing', None)
    """
    tokens = _drop_articles(words(span))
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
            squashed = squash(span.lstrip(" \t\n:,\"'“”‘’*#$–—"))
            verbatim = [i for i in tier if _starts_with(squashed, ch.squashed[i])]
            longest = max((len(ch.squashed[i]) for i in verbatim), default=0)
            tier = [i for i in verbatim if len(ch.squashed[i]) == longest] or tier
        if len(tier) == 1:
            return ANSWER, ch.letters[tier[0]]
        if tier:
            return STOP, None
    return NOTHING, None


def _drop_articles(tokens: list[str]) -> list[str]:
    """``tokens`` without a leading article, said once or twice ("the The quail ..." names
    the option "The quail ..."); "a the" stays "the": its "a" may be the letter of "A) The ..."."""
    start = 1 if tokens and tokens[0] in ARTICLES else 0
    if start and len(tokens) > 1 and tokens[1] == tokens[0]:
        start = 2
    return tokens[start:]


def _ends_answer(tokens: list[str], n: int) -> bool:
    """Whether an option's text of ``n`` tokens at the start of ``tokens`` ends the answer."""
    return n == len(tokens) or tokens[n] in (EOS, SEP) or tokens[n] in TEXT_CONTINUATIONS


def _starts_with(text: str, prefix: str) -> bool:
    """``text`` starts with ``prefix`` as a whole (not "6" in "6'")."""
    if not prefix or not text.startswith(prefix):
        return False
    return len(text) == len(prefix) or not (text[len(prefix)].isalnum() or text[len(prefix)] in "'\"")


def squash(text: str) -> str:
    """``text`` in NFKC with white space collapsed: equal for the same characters as written.

    >>> squash(" B \\n b ")
    'B b'
    """
    return " ".join(unicodedata.normalize("NFKC", text).split())


def option_words(option: str) -> tuple[str, ...]:
    """An option's text as compared: its :func:`words` less a leading article and final stops.

    >>> option_words("The **Moon**.")
    ('moon',)
    """
    tokens = _drop_articles(words(unicodedata.normalize("NFKC", strip_markup(option))))
    while tokens and tokens[-1] in (EOS, SEP):
        tokens = tokens[:-1]
    return tuple(tokens)


def letter_at(span: str, pos: int, ch: Choices) -> tuple[str | None, int]:
    """The letter written at ``span[pos:]`` (upper case, maybe not one of the item's) and
    where it ends; ``(None, pos)`` when there is none.

    >>> ch = Choices.of("AB", ("a lamp", "sunlight"))
    >>> letter_at("(b) it is", 0, ch), letter_at("B sunlight", 0, ch), letter_at("A dark room", 0, ch)
    (('B', 3), ('B', 1), (None, 0))
    """
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
            backed = text_answer(after, own, exact=False)[0] == ANSWER
        else:
            backed = False
        rest_of_line = m.group("co") and not after.split("\n", 1)[0].strip()
        if not (backed or rest_of_line or (m.group("wk") and LETTER_CONTINUATION_RE.match(span, m.end()))):
            return None, pos
        return letter, m.end()
    return next(g for g in m.group("kw", "br", "pu", "en") if g).upper(), m.end()


def inline_options(question: str) -> tuple[str, ...]:
    """Option texts written inside a question as ``(A) ...`` lines (BBH), in letter order.

    >>> inline_options("Which?\\nOptions:\\n(A) red\\n(B) blue")
    ('red', 'blue')
    >>> inline_options("no options")
    ()
    """
    found = {m.group(1): m.group(2) for m in INLINE_OPTION_RE.finditer(question)}
    texts = []
    for letter in OPTION_LETTERS:
        if letter not in found:
            break
        texts.append(found[letter])
    return tuple(texts)
