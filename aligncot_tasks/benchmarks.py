"""The suite's benchmark table: every benchmark, its dataset, splits, configs and token budgets.

Pure data: it imports nothing from the project. Task names, task specs and the per-row entry
points built on this table live in :mod:`aligncot_tasks.suite`, which re-exports every name
defined here (``suite.BENCHMARKS``, ``suite.BBH_SUBTASKS``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

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
