"""The demo's recipe schema: the product pipeline recipe plus what only the offline demo needs.

A pipeline recipe with a top-level ``demo:`` section is a :class:`DemoRecipe`
(:func:`training.pipeline.recipe.load_recipe` selects it); without one, the product schema
(:class:`training.pipeline.recipe.PipelineRecipe`) refuses demo keys like any unknown key.
"""

from __future__ import annotations

from dataclasses import field

from pydantic import StrictBool
from pydantic.dataclasses import dataclass

from training.errors import RecipeError
from training.pipeline.recipe import Count, PipelineRecipe
from training.validation import STRICT


@dataclass(frozen=True, config=STRICT)
class Demo:
    """What the demo builds on the spot (training/demo/teacher.py).

    Attributes:
        tiny_teacher: Build a tiny local teacher and serve it with ``transformers serve``
            (the recipe's ``teacher.model`` is then ignored).
        tiny_student: Build a tiny local student (``student.base_model`` is then ignored).
        teacher_steps: Optimiser steps teaching the tiny teacher its answers.
    """

    tiny_teacher: StrictBool = True
    tiny_student: StrictBool = True
    teacher_steps: Count = 60


@dataclass(frozen=True, config=STRICT)
class DemoRecipe(PipelineRecipe):
    """A pipeline recipe whose models the run builds itself (``demo:``)."""

    demo: Demo = field(default_factory=Demo)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.demo.tiny_teacher and self.teacher.backend != "openai":
            raise RecipeError("demo.tiny_teacher is served by `transformers serve`: use teacher.backend openai")

    @property
    def tiny_teacher(self) -> bool:
        return self.demo.tiny_teacher

    @property
    def tiny_student(self) -> bool:
        return self.demo.tiny_student
