"""True/False answers (boolean_expressions)."""

from __future__ import annotations

from aligncot_tasks.scoring.bbh._reader import answer_sentence
from aligncot_tasks.scoring.bbh.labels import TRUTH

extract = TRUTH.extract
is_correct = TRUTH.is_correct

__all__ = ["answer_sentence", "extract", "is_correct"]
