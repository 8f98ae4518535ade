"""BBH dyck_languages answers: the bracket sequence that closes the input.

The answer is read as its bracket characters alone, so spacing, quotes and commas between
them (``] ] >``, ``]]>``, ``"]", "]", ">"``) do not matter.
"""

from __future__ import annotations

import re

from aligncot_tasks.items import Item
from aligncot_tasks.scoring.bbh._reader import answer_sentence, committed

__all__ = ["answer_sentence", "extract", "is_correct"]

#: Bracket characters of the task.
BRACKETS = "()[]{}<>"
#: A run of brackets, with spacing, quotes and commas between them, not running into a
#: word (so "(the stack is empty)" is no answer).
RUN_RE = re.compile(r"""[\s"'`,]*([()\[\]{}<>](?:[\s"'`,]*[()\[\]{}<>])*+)(?!\w)""")


def _canonical(run: str) -> str:
    return " ".join(c for c in run if c in BRACKETS)


class BracketReader:
    """:class:`~aligncot_tasks.scoring.bbh._reader.Reader` of bracket sequences."""

    def at_start(self, text: str) -> tuple[str, int] | None:
        """The bracket run ``text`` opens with.

        >>> BracketReader().at_start('"]", "]", ">".')
        ('] ] >', 12)
        >>> BracketReader().at_start("(the stack is empty)") is None
        True
        """
        m = RUN_RE.match(text)
        return (_canonical(m.group(1)), m.end(1)) if m else None

    def first(self, text: str) -> str | None:
        """The first bracket run anywhere in ``text``.

        >>> BracketReader().first("We close it with ] ] > here")
        '] ] >'
        """
        m = RUN_RE.search(text)
        return _canonical(m.group(1)) if m else None


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
