"""valid/invalid answers (formal_fallacies)."""

from __future__ import annotations

from aligncot_tasks.scoring.bbh._reader import answer_sentence
from aligncot_tasks.scoring.bbh.labels import VALIDITY

extract = VALIDITY.extract
is_correct = VALIDITY.is_correct

__all__ = ["answer_sentence", "extract", "is_correct"]
