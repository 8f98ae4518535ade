"""BBH dyck_languages answers: the bracket sequence that closes the input.

The answer is read as its bracket characters alone, so spacing, quotes and commas between
them (``] ] >``, ``]]>``, ``"]", "]", ">"``) do not matter.
"""

from __future__ import annotations

import re

from aligncot_tasks.items import Item
from aligncot_tasks.scoring._match import match_end
from aligncot_tasks.scoring.bbh._reader import answer_sentence, committed

__all__ = ["answer_sentence", "extract", "is_correct"]

#: Bracket characters of the task.
BRACKETS = "()[]{}<>"
#: What may open an answer before its first bracket.
OPENING_RE = re.compile(r"""[\s"'`,]*""")
#: A run of brackets with the spacing, quotes and commas between them. Maximal runs are
#: found in one linear pass; a run that touches a word ("(the stack)") is prose, no answer.
SPAN_RE = re.compile(r"""[()\[\]{}<>][()\[\]{}<>\s"'`,]*""")


def _canonical(run: str) -> str:
    return " ".join(c for c in run if c in BRACKETS)


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _run(text: str, m: re.Match[str] | None) -> tuple[str, int] | None:
    """The run matched by ``m`` and where its last bracket ends, unless it touches a word."""
    if m is None:
        return None
    end = m.start() + max(m.group().rfind(c) for c in BRACKETS) + 1
    if _is_word_char(text[m.start() - 1 : m.start()]) or _is_word_char(text[end : end + 1]):
        return None
    return _canonical(m.group()), end


class BracketReader:
    """:class:`~aligncot_tasks.scoring.bbh._reader.Reader` of bracket sequences."""

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The bracket run ``text`` opens with.

        >>> BracketReader().at_start('"]", "]", ">".')
        ('] ] >', 12)
        >>> BracketReader().at_start("(the stack is empty)") is None
        True
        """
        return _run(text, SPAN_RE.match(text, match_end(OPENING_RE, text)))

    def first(self, text: str) -> str | None:
        """The first bracket run anywhere in ``text``.

        >>> BracketReader().first("We close (the stack) with ] ] > here")
        '] ] >'
        """
        for m in SPAN_RE.finditer(text):
            found = _run(text, m)
            if found is not None:
                return found[0]
        return None


READER = BracketReader()


def extract(generation: str, item: Item, variant: str = "cot") -> str | None:
    """The bracket sequence ``generation`` commits to (space-separated), or None.

    >>> q = Item("Complete the rest of the sequence ... Input: < [ [", "] ] >")
    >>> extract('So, we need "]", "]", ">". So the answer is ] ] >.', q)
    '] ] >'
    >>> extract("]]>", q, "zs")
    '] ] >'
    >>> extract("The final stack is empty. So the answer is empty.", q) is None
    True
    """
    return committed(generation, READER, variant)


def is_correct(extracted: str, item: Item) -> bool:
    """Same brackets in the same order.

    >>> is_correct("] ] >", Item("q", "]]>"))
    True
    """
    return _canonical(extracted) == _canonical(item.gold)
