"""BBH word_sorting answers: the list's words in the order the generation gives them.

An answer is a run of words, most of them from the question's list (so that a sentence
about the words is not read as the words): space-separated as in the targets, or
comma-separated, quoted, or one per line as a bulleted/numbered list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aligncot_tasks.items import Item
from aligncot_tasks.scoring.bbh._reader import answer_sentence, committed

__all__ = ["answer_sentence", "extract", "is_correct"]

#: Where the question's word list starts.
LIST_MARK = "List:"
#: Separators between answer words.
SEPARATOR_RE = re.compile(r"[\s,;]+")
#: Quotes and brackets around a word.
WRAPPING = "\"'“”‘’`[]()"
#: A word as BBH lists write them (letters, digits, ``&``, inner apostrophes and hyphens).
WORD_RE = re.compile(r"^[\w&][\w&'’.-]*$")
#: The end of a sentence: a period before a space or the end.
SENTENCE_END_RE = re.compile(r"\.(?=\s|$)")
#: Most consecutive words from outside the list an answer may hold (misspellings, not prose).
MAX_UNKNOWN_RUN = 2
#: A bullet or number opening a list line.
LIST_MARKER_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def _tokens(text: str, vocabulary: frozenset[str]) -> list[str]:
    words = [w.strip(WRAPPING).casefold() for w in SEPARATOR_RE.split(text)]
    return [w for w in words if w and (w != "and" or w in vocabulary)]


@dataclass(frozen=True)
class WordList:
    """Reader of sorted-word answers for one question.

    Attributes:
        vocabulary: The question's words (case-folded).
    """

    vocabulary: frozenset[str]

    @classmethod
    def of(cls, item: Item) -> WordList:
        """The word list of ``item``'s question.

        >>> sorted(WordList.of(Item("Sort the following words alphabetically: List: b a", "a b")).vocabulary)
        ['a', 'b']
        """
        return cls(frozenset(item.question.rpartition(LIST_MARK)[2].casefold().split()))

    def _shaped(self, words: list[str]) -> bool:
        # Mostly the list's words, never a run of other words: "So the answer is apple fig"
        # is a sentence, while a list with a misspelt or invented word is still an answer.
        known = [w in self.vocabulary for w in words]
        unknown_run = max(len(run) for run in "".join("x" if k else "u" for k in known).split("x"))
        return (
            bool(words)
            and all(WORD_RE.match(w) for w in words)
            and 2 * sum(known) >= len(words)
            and unknown_run <= MAX_UNKNOWN_RUN
        )

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The words ``text`` opens with: one per line, or up to the end of the sentence.

        >>> wl = WordList(frozenset({"apple", "kiwi", "fig"}))
        >>> wl.at_start('apple, "fig" and kiwi. Done.')
        ('apple fig kiwi', 21)
        >>> wl.at_start("- apple\\n- fig\\n- kiwi\\n\\nDone.")
        ('apple fig kiwi', 20)
        >>> wl.at_start("These are sorted.") is None
        True
        """
        block, end = [], 0
        for line in text.split("\n"):
            entry = LIST_MARKER_RE.sub("", line).strip().rstrip(".")
            if len(entry.split()) != 1:
                break
            block.append(entry)
            end += len(line) + 1
        if len(block) >= 2:
            words = _tokens(" ".join(block), self.vocabulary)
            return (" ".join(words), end - 1) if self._shaped(words) else None
        line = text.split("\n", 1)[0]
        stop = SENTENCE_END_RE.search(line)
        end = stop.start() if stop else len(line)
        words = _tokens(LIST_MARKER_RE.sub("", line[:end]), self.vocabulary)
        return (" ".join(words), end) if self._shaped(words) else None

    def first(self, text: str) -> str | None:
        """The words that open a line, or the part of a line after its last colon, or the
        lines after a line that ends in a colon -- the first such, if any.

        >>> WordList(frozenset({"apple", "kiwi"})).first("Sure! Sorted list: apple kiwi")
        'apple kiwi'
        >>> WordList(frozenset({"apple", "kiwi"})).first("Sorted:\\n* apple\\n* kiwi")
        'apple kiwi'
        """
        lines = text.split("\n")
        for i, line in enumerate(lines):
            opening = line.rpartition(":")[2].strip()
            # a vertical list is at most one line per word (plus a little slack)
            following = lines[i + 1 : i + 2 + len(self.vocabulary)]
            found = self.at_start("\n".join([opening, *following] if opening else following))
            if found is not None:
                return found[0]
        return None


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The sorted words ``generation`` commits to, space-separated, or None.

    >>> q = Item("Sort the following words alphabetically: List: pear apple fig", "apple fig pear")
    >>> extract('"apple" < "fig" < "pear". So the answer is apple fig pear.', q)
    'apple fig pear'
    >>> extract("apple, fig, pear", q, "zs")
    'apple fig pear'
    """
    return committed(generation, WordList.of(item), variant)


def is_correct(extracted: str, item: Item) -> bool:
    """Same words in the same order (case and spacing aside).

    >>> is_correct("apple fig pear", Item("q", "apple  fig pear"))
    True
    """
    return extracted.casefold().split() == item.gold.casefold().split()
