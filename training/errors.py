"""The one exception type for bad input to the training commands.

Anything the user can fix -- a recipe key, a missing file, a wrong column, an adapter
trained on another base -- is raised as :class:`UserError`; the CLI prints its message
as a one-line error and exits non-zero. Every other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input to ``aligncot sft`` / ``aligncot self-refine``, reported in one line."""
