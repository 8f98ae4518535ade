"""The jinja2 environment of the leaderboard and drill-down pages (templates are package data)."""

from __future__ import annotations

import functools

import jinja2

#: Package whose ``templates/`` folder holds the ``*.j2`` files.
PACKAGE = "training.evaluate.leaderboard"


def md_escape(text: object) -> str:
    """Make text safe inside a Markdown table cell.

    >>> md_escape("a|b")
    'a\\\\|b'
    """
    return str(text).replace("|", "\\|").replace("\n", " ")


@functools.cache
def environment(markdown: bool = False) -> jinja2.Environment:
    """The template environment: HTML autoescaped; Markdown with an ``md`` escape filter."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "templates"),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,  # a misspelt variable is an error, not an empty cell
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    return env
