"""Yes/No answers (causal_judgement, navigate, sports_understanding, web_of_lies)."""

from __future__ import annotations

from aligncot_tasks.scoring.bbh._reader import answer_sentence
from aligncot_tasks.scoring.bbh.labels import YES_NO

extract = YES_NO.extract
is_correct = YES_NO.is_correct

__all__ = ["answer_sentence", "extract", "is_correct"]
