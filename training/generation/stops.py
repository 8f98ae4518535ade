"""The one stop-sequence cut, shared by every backend (teacher annotation and student answers)."""

from __future__ import annotations

from collections.abc import Sequence

from aligncot_tasks.prompts import STOP_SEQUENCES


def cut_at_stop(text: str, stop: Sequence[str] = tuple(STOP_SEQUENCES)) -> tuple[str, bool]:
    r"""``text`` up to the first stop sequence (lm-eval's ``until``), and whether one was found.

    >>> cut_at_stop("So (B).\nQuestion: next", ["\nQuestion:"])
    ('So (B).', True)
    >>> cut_at_stop(" 42")
    (' 42', False)
    """
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
