"""The one scorer: extract the answer a generation commits to and judge it.

One module per answer type, all built on :mod:`aligncot_tasks.scoring._match`. Each
answer-type module exposes ``extract(generation, item, variant) -> str | None`` and
``is_correct(extracted, item) -> bool``, and ``answer_sentence(item) -> str`` -- the one
canonical sentence that states ``item``'s gold answer and that ``extract`` always reads
back. A module that can tell whether an answer was cued (:attr:`Score.cued`) exposes
``read(generation, item, variant) -> (extracted, cued)`` as well, and :func:`score` calls
that instead: one extraction, two facts. :func:`score` is what lm-eval, ``aligncot score``, annotation filtering, demonstrations
and self-refine all call.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from aligncot_tasks.types import Item, Score

__all__ = ["ANSWER_TYPES", "Item", "Score", "answer_module", "answer_sentence", "reads_cues", "score"]

#: answer type -> module implementing it (imported lazily: some pull in heavy parsers).
ANSWER_TYPES: dict[str, str] = {
    "choice": "aligncot_tasks.scoring.choice",
    "number": "aligncot_tasks.scoring.numeric",
    "math": "aligncot_tasks.scoring.latex",
    "bbh_choice": "aligncot_tasks.scoring.bbh.choice",
    "bbh_bool": "aligncot_tasks.scoring.bbh.truth",
    "bbh_yesno": "aligncot_tasks.scoring.bbh.yesno",
    "bbh_valid": "aligncot_tasks.scoring.bbh.validity",
    "bbh_integer": "aligncot_tasks.scoring.bbh.integer",
    "bbh_words": "aligncot_tasks.scoring.bbh.words",
    "bbh_dyck": "aligncot_tasks.scoring.bbh.dyck",
}


def answer_module(answer_type: str) -> ModuleType:
    """The module that implements ``answer_type``.

    Raises:
        KeyError: Unknown answer type.
    """
    if answer_type not in ANSWER_TYPES:
        raise KeyError(f"unknown answer type {answer_type!r}; known: {', '.join(sorted(ANSWER_TYPES))}")
    return importlib.import_module(ANSWER_TYPES[answer_type])


def reads_cues(answer_type: str) -> bool:
    """Whether ``answer_type``'s scores say if their answer was cued (:attr:`Score.cued`).

    >>> reads_cues("number"), reads_cues("choice")
    (True, False)
    """
    return hasattr(answer_module(answer_type), "read")


def score(answer_type: str, generation: object, item: Item, variant: str = "cot") -> Score:
    """Extract and judge; never raises on any generation.

    Args:
        answer_type: Key of :data:`ANSWER_TYPES`.
        generation: The model's text after the prompt (non-strings score invalid).
        item: The benchmark item with its gold answer.
        variant: ``"zs"`` or ``"cot"``: zero-shot answers are read from the start, CoT
            answers from the final commitment.

    >>> from aligncot_tasks.items import Item
    >>> score("choice", "The answer is (B).", Item("q", "B", ("x", "y")))
    Score(extracted='B', correct=True)
    >>> score("number", "16 - 3 = 13, so", Item("q", "13")).cued, score("choice", "(B)", Item("q", "B", ("x", "y"))).cued
    (False, None)
    """
    module = answer_module(answer_type)
    read = getattr(module, "read", None)
    uncued = None if read is None else False  # what an answer type that tells says of no answer
    if not isinstance(generation, str):
        return Score(None, False, uncued)
    try:
        extracted, cued = read(generation, item, variant) if read else (module.extract(generation, item, variant), None)
        return Score(extracted, extracted is not None and bool(module.is_correct(extracted, item)), cued)
    except Exception:  # a scorer bug must cost one item, never the whole evaluation run
        return Score(None, False, uncued)


def answer_sentence(answer_type: str, item: Item) -> str:
    """The canonical sentence stating ``item``'s gold answer (ends every demonstration).

    >>> from aligncot_tasks.items import Item
    >>> answer_sentence("choice", Item("q", "B", ("x", "y")))
    'The answer is (B) y.'
    """
    sentence: str = answer_module(answer_type).answer_sentence(item)
    return sentence
