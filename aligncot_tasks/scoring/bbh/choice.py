"""BBH multiple choice: the option a generation picks, by letter ``(B)`` or by its text.

BBH keeps its options inside the question (``Options:\\n(A) ...\\n(B) ...``), so they are
read from there. A generation may name an option by its letter or write the option's text
instead; text counts only when it names exactly one option. A few BBH targets are text,
not a letter (rows whose options were split at commas, e.g. ``Monsters, Inc``); such a
target is one more answer text, matched like an option's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from aligncot_tasks.items import Item
from aligncot_tasks.scoring.bbh._reader import answer_sentence, committed

__all__ = ["answer_sentence", "extract", "is_correct"]

#: One option line of a BBH question: ``(C) some text``.
OPTION_LINE_RE = re.compile(r"^\(([A-R])\)[ \t]*(.*?)[ \t]*$", re.MULTILINE)
#: A target that is an option letter.
GOLD_LETTER_RE = re.compile(r"^\(([A-R])\)$")
#: An option letter opening a text: ``(B)``, ``[B]``, ``B)``, ``option B.`` -- a bare capital
#: only when punctuation or the end follows, so the article in "A kite" is not a letter.
LETTER_AT_START_RE = re.compile(
    r"""^[\s"'*•-]*(?:(?i:option|choice)\s*)?(?:[(\[]([A-R])[)\]]|([A-R])(?:\)|(?=\s*(?:$|[.,:;!]))))"""
)
#: A bracketed option letter anywhere: ``(B)``.
BRACKETED_LETTER_RE = re.compile(r"\(([A-R])\)")
#: Articles a model may put before an option's text ("the kite" for "kite").
ARTICLE_RE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
#: Quotes and spacing that do not change which text is meant.
QUOTES_RE = re.compile(r"""["“”‘’`]""")


def normalize(text: str) -> str:
    """Case, quotes and spacing folded away.

    >>> normalize('  The  "Kite" ')
    'the kite'
    """
    return " ".join(QUOTES_RE.sub("", text).casefold().split())


@dataclass(frozen=True)
class Options:
    """The options of one BBH question, as a reader of its answers.

    Attributes:
        texts: Option letter -> option text.
        gold_text: The target when it is text rather than a letter, else None.
    """

    texts: dict[str, str]
    gold_text: str | None = None

    @classmethod
    def of(cls, item: Item) -> Options:
        """Options of ``item`` (parsed from its question).

        >>> Options.of(Item("Pick:\\nOptions:\\n(A) red\\n(B) blue", "(B)")).texts
        {'A': 'red', 'B': 'blue'}
        """
        texts = dict(OPTION_LINE_RE.findall(item.question.rpartition("Options:")[2]))
        gold_text = None if GOLD_LETTER_RE.match(item.gold.strip()) else item.gold.strip()
        return cls(texts, gold_text)

    @cached_property
    def _answers(self) -> list[tuple[str, str]]:
        """(normalized text, canonical answer) pairs, longest text first; the answer is
        ``(X)`` for a text of one option only, "" when several options share the text."""
        by_text: dict[str, set[str]] = {}
        for letter, text in self.texts.items():
            by_text.setdefault(normalize(text), set()).add(f"({letter})")
        if self.gold_text:
            by_text[normalize(self.gold_text)] = {self.gold_text}
        pairs = [(t, next(iter(a)) if len(a) == 1 else "") for t, a in by_text.items() if t]
        return sorted(pairs, key=lambda p: len(p[0]), reverse=True)

    def _letter_ok(self, letter: str) -> bool:
        return not self.texts or letter in self.texts

    def _text_at_start(self, text: str) -> tuple[str, int] | None:
        # Compare on a normalized copy, then map the match length back through ``text``.
        # Option texts are one line each, so only the first line can open with one.
        text = text.split("\n", 1)[0]
        for candidate in (text, ARTICLE_RE.sub("", text, count=1)):
            folded = normalize(candidate)
            for norm, answer in self._answers:
                if folded.startswith(norm) and not folded[len(norm):len(norm) + 1].isalnum():
                    if not answer:
                        return None  # ambiguous: several options have this text
                    return answer, _raw_length(text, candidate, norm)
        return None

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The option ``text`` opens with: a letter, else exactly one option's text.

        >>> opts = Options({"A": "kite", "B": "line"})
        >>> opts.at_start("(B).")
        ('(B)', 3)
        >>> opts.at_start(" a kite, clearly")
        ('(A)', 7)
        >>> opts.at_start("C.") is None
        True
        """
        m = LETTER_AT_START_RE.match(text)
        if m:
            letter = m.group(1) or m.group(2)
            if self._letter_ok(letter):
                return f"({letter})", m.end()
        stripped = text.lstrip()
        found = self._text_at_start(stripped)
        return (found[0], found[1] + len(text) - len(stripped)) if found else None

    def first(self, text: str) -> str | None:
        """The first bracketed option letter anywhere in ``text``.

        >>> Options({"A": "x", "B": "y"}).first("I pick (B), not (A).")
        '(B)'
        """
        for m in BRACKETED_LETTER_RE.finditer(text):
            if self._letter_ok(m.group(1)):
                return f"({m.group(1)})"
        return None


def _raw_length(raw: str, candidate: str, norm: str) -> int:
    """Length of the prefix of ``raw`` whose folded form is ``norm`` (``candidate`` is
    ``raw`` or ``raw`` minus a leading article)."""
    offset = len(raw) - len(candidate)
    for end in range(len(candidate) + 1):
        if normalize(candidate[:end]) == norm:
            return offset + end
    return len(raw)


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The option ``generation`` commits to: ``(X)``, or the target's text when the target
    is text; None if it commits to none.

    >>> q = Item("Which shape?\\nOptions:\\n(A) circle\\n(B) kite\\n(C) line", "(B)")
    >>> extract("It has four sides. So the answer is (B).", q)
    '(B)'
    >>> extract("Four sides, two pairs equal: so the answer is kite.", q)
    '(B)'
    >>> extract("(C)", q, "zs")
    '(C)'
    >>> extract("I would go with (A) here.", q, "zs")
    '(A)'
    >>> extract("It has four sides, so it is a", q) is None
    True
    """
    return committed(generation, Options.of(item), variant)


def is_correct(extracted: str, item: Item) -> bool:
    """Whether the extracted option is the target.

    >>> is_correct("(B)", Item("q", "(B)"))
    True
    >>> is_correct("monsters, inc", Item("q", "Monsters, Inc"))
    True
    """
    return normalize(extracted) == normalize(item.gold)
