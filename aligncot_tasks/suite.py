"""The suite's one table: benchmarks, their tasks and groups, and the per-row entry points.

Everything that needs to know "what is task X" -- the YAML generator, the lm-eval task class,
``aligncot score``, annotation, demonstrations, self-refine -- asks this module. Prompts
come from :mod:`aligncot_tasks.prompts`, answers are judged by
:mod:`aligncot_tasks.scoring`; this module only wires rows to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aligncot_tasks import prompts, scoring
from aligncot_tasks.items import ADAPTERS, Item

VARIANTS = ("zs", "cot")
#: Variant that ranks the options by log-likelihood after ``Answer:`` (multiple choice only).
LL = "ll"
#: Default number of sampled CoT generations of a self-consistency (``cot_maj<k>``) task.
MAJ_K = 8
#: Sampling temperature of the self-consistency tasks (Wang et al. 2023 use 0.5-0.7).
MAJ_TEMPERATURE = 0.7

MMLU_SUBJECTS = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
]

MATH_TYPES = [
    "algebra",
    "counting_and_probability",
    "geometry",
    "intermediate_algebra",
    "number_theory",
    "prealgebra",
    "precalculus",
]

#: BBH subtask -> answer type (see aligncot_tasks.scoring.ANSWER_TYPES).
BBH_SUBTASKS: dict[str, str] = {
    "boolean_expressions": "bbh_bool",
    "causal_judgement": "bbh_yesno",
    "date_understanding": "bbh_choice",
    "disambiguation_qa": "bbh_choice",
    "dyck_languages": "bbh_dyck",
    "formal_fallacies": "bbh_valid",
    "geometric_shapes": "bbh_choice",
    "hyperbaton": "bbh_choice",
    "logical_deduction_five_objects": "bbh_choice",
    "logical_deduction_seven_objects": "bbh_choice",
    "logical_deduction_three_objects": "bbh_choice",
    "movie_recommendation": "bbh_choice",
    "multistep_arithmetic_two": "bbh_integer",
    "navigate": "bbh_yesno",
    "object_counting": "bbh_integer",
    "penguins_in_a_table": "bbh_choice",
    "reasoning_about_colored_objects": "bbh_choice",
    "ruin_names": "bbh_choice",
    "salient_translation_error_detection": "bbh_choice",
    "snarks": "bbh_choice",
    "sports_understanding": "bbh_yesno",
    "temporal_sequences": "bbh_choice",
    "tracking_shuffled_objects_five_objects": "bbh_choice",
    "tracking_shuffled_objects_seven_objects": "bbh_choice",
    "tracking_shuffled_objects_three_objects": "bbh_choice",
    "web_of_lies": "bbh_yesno",
    "word_sorting": "bbh_words",
}


@dataclass(frozen=True)
class Benchmark:
    """One benchmark of the suite.

    Attributes:
        key: Short name used in task names (``aligncot_<key>_<variant>``).
        title: Human-readable name.
        family: Group family: ``qa``, ``math_word``, ``math`` or ``bbh``.
        hub_id: Hugging Face dataset id.
        eval_split: Split evaluated by the tasks.
        train_split: Split annotated by the teacher by default (None: the benchmark has none).
        answer_type: Answer type for scoring, or None when it differs per config.
        max_gen_toks: Generation budget per variant.
        configs: Dataset configs that become one task each (MMLU subjects, MATH types, BBH
            subtasks); ``(None,)`` for a single-config benchmark.
        config_name: Dataset config of a single-config benchmark (e.g. gsm8k's ``main``).
        weight_by_size: Whether the per-config group averages by size (MMLU, MATH) or
            unweighted (BBH, as BBH results are reported).
        maj_k: Number of sampled CoT generations of the benchmark's self-consistency task
            ``aligncot_<key>_cot_maj<k>``, or None when it has none.
    """

    key: str
    title: str
    family: str
    hub_id: str
    eval_split: str
    train_split: str | None
    answer_type: str | None
    max_gen_toks: dict[str, int]
    configs: tuple[str | None, ...] = (None,)
    config_name: str | None = None
    weight_by_size: bool = True
    maj_k: int | None = None

    @property
    def multiple_choice(self) -> bool:
        """Whether questions carry lettered options in the prompt (the ``ll`` variant exists)."""
        return self.answer_type == "choice"

    @property
    def per_config(self) -> bool:
        """Whether the benchmark is split into one task per dataset config."""
        return self.configs != (None,)


_QA_TOKS = {"zs": 128, "cot": 512}
_MATH_WORD_TOKS = {"zs": 256, "cot": 512}
BENCHMARKS: dict[str, Benchmark] = {
    b.key: b
    for b in (
        Benchmark(
            "csqa", "CommonsenseQA", "qa", "tau/commonsense_qa", "validation", "train", "choice", _QA_TOKS, maj_k=MAJ_K
        ),
        Benchmark(
            "obqa",
            "OpenBookQA",
            "qa",
            "allenai/openbookqa",
            "test",
            "train",
            "choice",
            _QA_TOKS,
            config_name="main",
            maj_k=MAJ_K,
        ),
        Benchmark("piqa", "PIQA", "qa", "baber/piqa", "validation", "train", "choice", _QA_TOKS, maj_k=MAJ_K),
        Benchmark("siqa", "Social IQa", "qa", "lighteval/siqa", "validation", "train", "choice", _QA_TOKS, maj_k=MAJ_K),
        Benchmark("mmlu", "MMLU", "qa", "cais/mmlu", "test", "dev", "choice", _QA_TOKS, configs=tuple(MMLU_SUBJECTS)),
        Benchmark(
            "gsm8k",
            "GSM8K",
            "math_word",
            "openai/gsm8k",
            "test",
            "train",
            "number",
            _MATH_WORD_TOKS,
            config_name="main",
            maj_k=MAJ_K,
        ),
        Benchmark(
            "multiarith",
            "MultiArith",
            "math_word",
            "ChilleD/MultiArith",
            "test",
            "train",
            "number",
            _MATH_WORD_TOKS,
            maj_k=MAJ_K,
        ),
        Benchmark(
            "math",
            "MATH",
            "math",
            "EleutherAI/hendrycks_math",
            "test",
            "train",
            "math",
            {"zs": 512, "cot": 1024},
            configs=tuple(MATH_TYPES),
        ),
        Benchmark(
            "bbh",
            "BIG-Bench Hard",
            "bbh",
            "SaylorTwift/bbh",
            "test",
            None,
            None,
            {"zs": 256, "cot": 512},
            configs=tuple(BBH_SUBTASKS),
            weight_by_size=False,
        ),
    )
}


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
        """Answer type used to score this task."""
        return self.benchmark.answer_type or BBH_SUBTASKS[self.config]

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


def item(task: str | TaskSpec, doc: dict) -> Item:
    """Canonical item for a row of ``task``'s dataset."""
    spec = get_task(task) if isinstance(task, str) else task
    return ADAPTERS[spec.benchmark.key](doc)


def prompt_text(task: str | TaskSpec, doc: dict) -> str:
    """The user-turn text of a row (lm-eval's ``doc_to_text``), identical for zs and cot."""
    it = item(task, doc)
    return prompts.question_prompt(it.question, it.options)


def render_prompt(task: str | TaskSpec, doc: dict) -> str:
    """The full plain-text prompt lm-eval sends for a row without a chat template.

    Teachers are prompted with this, students are trained on it, lm-eval evaluates it.
    """
    spec = get_task(task) if isinstance(task, str) else task
    text = prompt_text(spec, doc)
    return prompts.with_trigger(text) if spec.variant == "cot" else text


def chat_messages(task: str | TaskSpec, doc: dict) -> list[dict[str, str]]:
    """The prompt as chat messages, as lm-eval builds them under ``--apply_chat_template``:
    the user turn, then for CoT tasks an assistant turn opened with the trigger (to be
    continued, not closed)."""
    spec = get_task(task) if isinstance(task, str) else task
    messages = [{"role": "user", "content": prompt_text(spec, doc)}]
    if spec.gen_prefix:
        messages.append({"role": "assistant", "content": spec.gen_prefix})
    return messages


def score(task: str | TaskSpec, doc: dict, generation: object) -> scoring.Score:
    """Extract and judge ``generation`` for a row; never raises on the generation."""
    spec = get_task(task) if isinstance(task, str) else task
    variant = "zs" if spec.variant == "zs" else "cot"
    return scoring.score(spec.answer_type, generation, item(spec, doc), variant)


def chance(task: str | TaskSpec, doc: dict) -> float | None:
    """Probability of answering a row right by guessing: 1 / its number of options (None
    for open-ended rows)."""
    spec = get_task(task) if isinstance(task, str) else task
    return 1.0 / len(item(spec, doc).options) if spec.chance_level else None


def answer_sentence(task: str | TaskSpec, doc: dict) -> str:
    """The canonical sentence stating a row's gold answer."""
    spec = get_task(task) if isinstance(task, str) else task
    return scoring.answer_sentence(spec.answer_type, item(spec, doc))


def groups() -> dict[str, dict]:
    """Every group of the suite: name -> {"task": [children], "weight_by_size": bool, "metrics": [...]}
    (see :mod:`aligncot_tasks.groups`)."""
    from aligncot_tasks.groups import all_groups  # imported here: that module builds on this one

    return all_groups()
