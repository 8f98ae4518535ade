"""What a pipeline evaluates: its rows (the students, the teacher) and the ``eval:`` section."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from training.evaluate.config import LocalBackend
from training.validation import STRICT

#: A count of at least one.
Count = Annotated[int, Field(ge=1)]
#: Leaderboard rows (and results sub-directories) of the pipeline's models.
TEACHER, BASE, SFT, DPO = "teacher", "student-base", "student-sft", "student-sft-dpo"
#: The student rows ``eval.students`` may list.
StudentRow = Literal["student-base", "student-sft", "student-sft-dpo"]


@dataclass(frozen=True, config=STRICT)
class Evaluation:
    """What every model is evaluated on (``limit``: rows per task, <1 a fraction).

    ``students``: the student rows to evaluate (default: base, SFT and, with self-refine,
    SFT+DPO); the run's last line compares the base with the final student.

    ``batch_size``: the students' lm-eval batch size (None: ``aligncot eval``'s default, 32
    sequences in flight for ``hf-continuous``, else 1 on CPU). ``backend``: the students'
    lm-eval backend (``auto``: ``hf-continuous`` on CPU, ``hf`` on GPU).
    """

    tasks: tuple[str, ...] = ("aligncot_zs", "aligncot_cot")
    limit: Annotated[float, Field(gt=0)] | None = None
    gen_kwargs: str | None = None
    batch_size: Count | None = None
    backend: LocalBackend = "auto"
    #: Which student rows are evaluated (None: all; a time budget may leave out the SFT row).
    students: tuple[StudentRow, ...] | None = None
