"""The suite's tasks and groups over the one benchmark table, and the per-row entry points.

Everything that needs to know "what is task X" -- the YAML generator, the lm-eval task class,
``aligncot score``, annotation, demonstrations, self-refine -- asks this module. The
benchmark table is :mod:`aligncot_tasks.benchmarks` (every name in it is re-exported here:
``suite.BENCHMARKS``, ``suite.BBH_SUBTASKS``, ...), prompts come from
:mod:`aligncot_tasks.prompts`, answers are judged by :mod:`aligncot_tasks.scoring`; this
module only wires rows to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aligncot_tasks import prompts, scoring
from aligncot_tasks.benchmarks import (
    BBH_SUBTASKS,
    BENCHMARKS,
    LL,
    MAJ_K,
    MAJ_TEMPERATURE,
    MATH_TYPES,
    MMLU_SUBJECTS,
    VARIANTS,
    Benchmark,
)
from aligncot_tasks.items import ADAPTERS
from aligncot_tasks.types import Doc, Item

__all__ = [
    "BBH_SUBTASKS",
    "BENCHMARKS",
    "Benchmark",
    "LL",
    "MAJ_K",
    "MAJ_TEMPERATURE",
    "MATH_TYPES",
    "MMLU_SUBJECTS",
    "NotGenerative",
    "TaskSpec",
    "UnknownTask",
    "VARIANTS",
    "all_tasks",
    "answer_sentence",
    "chance",
    "chat_messages",
    "generative_task",
    "get_task",
    "groups",
    "item",
    "maj_task_name",
    "prompt_text",
    "render_prompt",
    "score",
    "task_name",
]


class UnknownTask(KeyError):
    """A task name that is not part of the suite."""

    def __str__(self) -> str:
        return f"unknown task {self.args[0]!r} (run `aligncot tasks` to list them)"


class NotGenerative(ValueError):
    """A log-likelihood (``ll``) task where a task that generates text is needed."""

    def __str__(self) -> str:
        return f"{self.args[0]} ranks options by log-likelihood; use its zs or cot task"


@dataclass(frozen=True)
class TaskSpec:
    """One lm-eval task of the suite.

    Attributes:
        name: Task name, e.g. ``aligncot_mmlu_cot_anatomy``.
        benchmark: The benchmark it belongs to.
        variant: ``zs``, ``cot`` or ``ll``.
        config: Dataset config (MMLU subject, MATH type, BBH subtask) or None.
        samples: Generations per question: 1, or ``k`` for a self-consistency (maj@k) task,
            whose variant is ``cot``.
    """

    name: str
    benchmark: Benchmark
    variant: str
    config: str | None
    samples: int = 1

    @property
    def dataset_config(self) -> str | None:
        """Dataset config name to load."""
        return self.config or self.benchmark.config_name

    @property
    def answer_type(self) -> str:
        """Answer type used to score this task (BBH's: its subtask's)."""
        if self.benchmark.answer_type:
            return self.benchmark.answer_type
        assert self.config is not None  # a benchmark of mixed answer types has a config per task
        return BBH_SUBTASKS[self.config]

    @property
    def chance_level(self) -> bool:
        """Whether rows have lettered options, so that chance is 1 / number of options."""
        return self.benchmark.multiple_choice

    @property
    def gen_prefix(self) -> str | None:
        """What opens the model's turn: the CoT trigger for ``cot`` tasks."""
        return prompts.COT_TRIGGER if self.variant == "cot" else None


def task_name(key: str, variant: str, config: str | None = None) -> str:
    """Public task name.

    >>> task_name("csqa", "cot")
    'aligncot_csqa_cot'
    >>> task_name("mmlu", "zs", "anatomy")
    'aligncot_mmlu_zs_anatomy'
    """
    return f"aligncot_{key}_{variant}" + (f"_{config}" if config else "")


def maj_task_name(key: str, k: int) -> str:
    """Name of a benchmark's self-consistency task.

    >>> maj_task_name("gsm8k", 8)
    'aligncot_gsm8k_cot_maj8'
    """
    return f"{task_name(key, 'cot')}_maj{k}"


@cache
def all_tasks() -> dict[str, TaskSpec]:
    """Every task of the suite, by name."""
    out = {}
    for b in BENCHMARKS.values():
        for variant in VARIANTS + ((LL,) if b.multiple_choice else ()):
            for config in b.configs:
                spec = TaskSpec(task_name(b.key, variant, config), b, variant, config)
                out[spec.name] = spec
        if b.maj_k:
            spec = TaskSpec(maj_task_name(b.key, b.maj_k), b, "cot", None, samples=b.maj_k)
            out[spec.name] = spec
    return out


def get_task(name: str) -> TaskSpec:
    """Look a task up by name.

    Raises:
        UnknownTask: ``name`` is not a task of the suite.
    """
    try:
        return all_tasks()[name]
    except KeyError:
        raise UnknownTask(name) from None


def generative_task(name: str) -> TaskSpec:
    """Look up a task whose answers are generated text (zs or cot): what can be prompted,
    annotated, trained on and scored.

    Raises:
        UnknownTask: ``name`` is not a task of the suite.
        NotGenerative: ``name`` is a log-likelihood task.

    >>> generative_task("aligncot_csqa_cot").variant
    'cot'
    """
    spec = get_task(name)
    if spec.variant == LL:
        raise NotGenerative(name)
    return spec


def item(task: str | TaskSpec, doc: Doc) -> Item:
    """Canonical item for a row of ``task``'s dataset."""
    spec = get_task(task) if isinstance(task, str) else task
    return ADAPTERS[spec.benchmark.key](doc)


def prompt_text(task: str | TaskSpec, doc: Doc) -> str:
    """The user-turn text of a row (lm-eval's ``doc_to_text``), identical for zs and cot."""
    it = item(task, doc)
    return prompts.question_prompt(it.question, it.options)


def render_prompt(task: str | TaskSpec, doc: Doc) -> str:
    """The full plain-text prompt lm-eval sends for a row without a chat template.

    Teachers are prompted with this, students are trained on it, lm-eval evaluates it.
    """
    spec = get_task(task) if isinstance(task, str) else task
    text = prompt_text(spec, doc)
    return prompts.with_trigger(text) if spec.variant == "cot" else text


def chat_messages(task: str | TaskSpec, doc: Doc) -> list[dict[str, str]]:
    """The prompt as chat messages, as lm-eval builds them under ``--apply_chat_template``:
    the user turn, then for CoT tasks an assistant turn opened with the trigger (to be
    continued, not closed)."""
    spec = get_task(task) if isinstance(task, str) else task
    messages = [{"role": "user", "content": prompt_text(spec, doc)}]
    if spec.gen_prefix:
        messages.append({"role": "assistant", "content": spec.gen_prefix})
    return messages


def score(task: str | TaskSpec, doc: Doc, generation: object) -> scoring.Score:
    """Extract and judge ``generation`` for a row; never raises on the generation."""
    spec = get_task(task) if isinstance(task, str) else task
    variant = "zs" if spec.variant == "zs" else "cot"
    return scoring.score(spec.answer_type, generation, item(spec, doc), variant)


def chance(task: str | TaskSpec, doc: Doc) -> float | None:
    """Probability of answering a row right by guessing: 1 / its number of options (None
    for open-ended rows)."""
    spec = get_task(task) if isinstance(task, str) else task
    return 1.0 / len(item(spec, doc).options) if spec.chance_level else None


def answer_sentence(task: str | TaskSpec, doc: Doc) -> str:
    """The canonical sentence stating a row's gold answer."""
    spec = get_task(task) if isinstance(task, str) else task
    return scoring.answer_sentence(spec.answer_type, item(spec, doc))


def groups() -> dict[str, dict[str, Any]]:
    """Every group of the suite: name -> {"task": [children], "weight_by_size": bool, "metrics": [...]}
    (see :mod:`aligncot_tasks.groups`)."""
    from aligncot_tasks.groups import all_groups  # imported here: that module builds on this one

    return all_groups()
