"""Pipeline recipes: one YAML file -> a validated :class:`PipelineRecipe`.

A recipe names the teacher, the student, what to annotate, how demonstrations are built,
the SFT/DPO settings (``aligncot sft`` / ``aligncot self-refine`` fields, given as
overrides; the trainers' defaults are the papers'), and what to evaluate. Unknown keys
fail naming the key, and so do values of the wrong type or range (pydantic, :mod:`training.validation`). ``--set a.b=value`` on the command line overrides any field (the
value is read as YAML).
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool
from pydantic.dataclasses import dataclass

from aligncot_tasks import suite
from training.distill.demos import Kind, Style
from training.errors import RecipeError, UserError
from training.pipeline.evaluation import BASE, DPO, SFT, Count, Evaluation
from training.validation import STRICT, build
from training.yaml_mapping import load_mapping, parse_override

#: Bare recipe names are looked up here (a checkout; experiments/ holds grid recipes), then in the package (the demo).
RECIPE_DIRS = tuple(
    root / "harness_configs" / sub
    for root in (Path(), Path(__file__).resolve().parents[2])
    for sub in ("pipeline", "experiments")
)
#: The demo ships inside the package with the data slice it runs on.
DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"
#: ``data_dir`` value that means the data slice shipped with the package.
BUILTIN_DATA = "builtin:demo"
#: Recorded teacher files shipped with the package (``builtin:NAME`` in ``teacher.recorded``).
TEACHERS_DIR = Path(__file__).resolve().parents[1] / "data" / "teachers"
#: Prefix of a shipped file's name.
BUILTIN = "builtin:"


def resolve_file(name: str) -> str:
    """A recorded-teacher file: ``builtin:NAME`` -> the shipped file, else the path made absolute.

    >>> resolve_file("builtin:csqa_palm-540b_train.jsonl").endswith("data/teachers/csqa_palm-540b_train.jsonl")
    True
    """
    if name.startswith(BUILTIN):
        return str(TEACHERS_DIR / name.removeprefix(BUILTIN))
    return str(Path(name).expanduser().resolve())


@dataclass(frozen=True, config=STRICT)
class Teacher:
    """Who annotates.

    Attributes:
        model: Hub id / directory (hf, vllm) or API model name (openai).
        backend: ``aligncot annotate`` backend: openai (any OpenAI-compatible API), hf, vllm.
        base_url: API root, e.g. ``http://127.0.0.1:8000/v1``; None: OpenAI.
        chat: Chat messages (chat models) or the plain-text prompt (completions).
        max_tokens: Completion budget per answer.
        samples: Answers per question.
        evaluate: Evaluate the teacher too (default: when it is an API model, as it cannot
            be loaded by lm-eval's hf backend in a student-sized job).
        recorded: A recorded teacher's answers on the training split (``aligncot annotate
            --import``; ``builtin:NAME`` is a file in training/data/teachers): nothing is generated.
            A list of files imports them all into one store: several teachers' rationales for the
            same questions are several samples per question (Fine-tune-CoT's diverse reasoning).
        recorded_eval: The recorded teacher's answers on the evaluation split: a leaderboard
            row scored from them (``aligncot score --results-dir``) on the questions the
            students are evaluated on (the file's first ``eval.limit`` rows, in split order).
    """

    model: str = "tiny"
    backend: Literal["openai", "hf", "vllm"] = "openai"
    base_url: str | None = None
    chat: StrictBool = True
    max_tokens: Count = 512
    samples: Count = 1
    evaluate: StrictBool | None = None
    recorded: str | tuple[str, ...] | None = None
    recorded_eval: str | None = None

    def __post_init__(self) -> None:
        if self.recorded is not None and not self.recorded:
            raise RecipeError("teacher.recorded: an empty list (name a file, or leave the key out)")
        for key, names in (("recorded", self.recorded_files), ("recorded_eval", (self.recorded_eval,))):
            for name in names:
                if name and not Path(resolve_file(name)).is_file():
                    raise RecipeError(f"teacher.{key}: {name!r}: no such file")

    @property
    def recorded_files(self) -> tuple[str, ...]:
        """The recorded training-split files as named (``builtin:`` unresolved); () when none."""
        if self.recorded is None:
            return ()
        return (self.recorded,) if isinstance(self.recorded, str) else self.recorded

    @property
    def evaluated(self) -> bool:
        """Whether the teacher is evaluated live (a recorded teacher is scored from its file)."""
        if self.recorded:
            return False
        return self.backend == "openai" if self.evaluate is None else self.evaluate


@dataclass(frozen=True, config=STRICT)
class Student:
    """Who learns.

    Attributes:
        base_model: Hub id or directory (ignored with ``pull``).
        chat_template: Evaluate with the model's chat template.
        pull: A model ``aligncot models pull`` builds (e.g. ``smollm2-135m-instruct``): the
            run's first stage pulls it, and it is the base model.
    """

    base_model: str = "tiny"
    chat_template: StrictBool = False
    pull: str | None = None

    def __post_init__(self) -> None:
        if self.pull:
            from training.models.registry import lookup

            try:
                lookup(self.pull)
            except UserError as e:
                raise RecipeError(f"student.pull: {e}") from None


@dataclass(frozen=True, config=STRICT)
class Annotate:
    """What the teacher answers: suite tasks (their training split), ``limit`` rows each."""

    tasks: tuple[str, ...] = ()
    limit: Count | None = None

    def __post_init__(self) -> None:
        if not self.tasks:
            raise RecipeError("annotate.tasks: name at least one task whose training split the teacher answers")
        for task in self.tasks:
            if task not in suite.all_tasks():
                raise RecipeError(f"annotate.tasks: unknown task {task!r}")


@dataclass(frozen=True, config=STRICT)
class Demos:
    """``aligncot demos`` options (see ``aligncot demos --help``)."""

    kind: Kind = "truthful"
    style: Style = "cot"
    fraction: Annotated[float, Field(gt=0, le=1)] = 1.0
    balance: Annotated[int, Field(ge=0)] | None = None
    val_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.05


@dataclass(frozen=True, config=STRICT)
class PipelineRecipe:
    """One run: annotate -> demos -> sft -> self-refine -> eval -> leaderboard.

    Attributes:
        name: Recipe name (default run directory ``runs/<name>``).
        teacher, student, annotate, demos, eval: The sections above.
        sft: ``aligncot sft``: ``recipe`` (a published trainer recipe, e.g.
            ``harness_configs/recipes/smollm2-135m-instruct/sft.yaml``) and overrides of its
            fields (:mod:`training.pipeline.trainers`); base_model/data/output_dir are set here.
        self_refine: ``aligncot self-refine``, likewise; null: no self-refine stage (SFT only).
        data_dir: ``ALIGNCOT_DATA_DIR`` for every stage; ``builtin:demo`` is the shipped slice.
        refine_questions: Self-refine on a class-balanced sample of this many demonstration
            questions, drawn from those the SFT demonstrations leave out (a second ``aligncot
            demos`` run into ``refine-demos/``; needs ``demos.balance``, or no question is left);
            None: all of the SFT demonstrations (the student answers each one twice, which costs
            time).
        note: Shown above the leaderboard.
        gpu_recipe: Where torch sees a GPU, ``aligncot run`` runs this recipe (a name or path)
            instead, and says so: the demo's full-size counterpart.
    """

    name: str
    annotate: Annotate
    teacher: Teacher = field(default_factory=Teacher)
    student: Student = field(default_factory=Student)
    demos: Demos = field(default_factory=Demos)
    sft: dict[str, Any] = field(default_factory=dict)
    self_refine: dict[str, Any] | None = field(default_factory=dict)
    eval: Evaluation = field(default_factory=Evaluation)
    data_dir: str | None = None
    refine_questions: Count | None = None
    note: str | None = None
    gpu_recipe: str | None = None

    def __post_init__(self) -> None:
        if self.gpu_recipe is not None:
            try:
                find_recipe(self.gpu_recipe)
            except RecipeError as e:
                raise RecipeError(f"gpu_recipe: {e}") from None
        rows = self.eval.students
        if rows is not None and DPO in rows and self.self_refine is None:
            raise RecipeError(f"eval.students: {DPO} needs a self_refine stage (self_refine is null)")
        if rows is not None and (not rows or len(set(rows)) != len(rows)):
            raise RecipeError(f"eval.students: list each of {BASE}, {SFT}, {DPO} at most once, and one at least")
        if self.refine_questions and self.self_refine is not None and not self.demos.balance:
            raise RecipeError(
                "refine_questions: self-refine draws questions the SFT demonstrations leave out, so "
                "demos.balance must set their number (unset or 0, they can take every question)"
            )

    @property
    def tiny_teacher(self) -> bool:
        """Whether the run builds and serves its own teacher (only a demo recipe does)."""
        return False

    @property
    def tiny_student(self) -> bool:
        """Whether the run builds its own student (only a demo recipe does)."""
        return False

    @property
    def tiny(self) -> bool:
        """Whether the run builds its own tiny models (the demo: training/demo/schema.py)."""
        return self.tiny_teacher or self.tiny_student

    def resolved_data_dir(self) -> str | None:
        """``data_dir`` as an absolute path (``builtin:demo`` -> the package's slice)."""
        if self.data_dir == BUILTIN_DATA:
            return str(DEMO_DIR / "data")
        return str(Path(self.data_dir).resolve()) if self.data_dir else None


def find_recipe(name: str | os.PathLike) -> Path:
    """A recipe path: as given, else ``<name>.yaml`` in :data:`RECIPE_DIRS`, else the packaged demo."""
    path = Path(name)
    if path.is_file():
        return path
    for d in RECIPE_DIRS:
        if (d / f"{name}.yaml").is_file():
            return d / f"{name}.yaml"
    if str(name) == "demo":
        return DEMO_DIR / "recipe.yaml"
    raise RecipeError(
        f"recipe {name!r} not found (a YAML path, or a name in harness_configs/pipeline/ or experiments/)"
    )


def apply_override(raw: dict, text: str) -> None:
    """Apply ``a.b=value`` (value parsed as YAML) to a nested mapping in place.

    >>> raw = {"eval": {"limit": 5}}
    >>> apply_override(raw, "eval.limit=2"); apply_override(raw, "sft.max_steps=3"); raw
    {'eval': {'limit': 2}, 'sft': {'max_steps': 3}}
    """
    key, value = parse_override(text, "--set", RecipeError)
    *parents, leaf = key.split(".")
    node = raw
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise RecipeError(f"--set {text!r}: {p} is not a section")
    node[leaf] = value


def read_raw(name: str | os.PathLike, overrides: tuple[str, ...] = ()) -> tuple[dict, Path]:
    """Find and read a recipe file and apply ``--set`` overrides: its raw mapping and path."""
    path = find_recipe(name)
    raw = load_mapping(path, RecipeError)
    for text in overrides:
        apply_override(raw, text)
    return raw, path


def validate(raw: dict, where: str) -> PipelineRecipe:
    """Validate a raw recipe: its sections (pydantic), then ``sft``/``self_refine`` by the trainers' loader."""
    from training.pipeline.trainers import check_section

    schema = PipelineRecipe
    if "demo" in raw:  # the recipe selects the demo's schema itself
        from training.demo.schema import DemoRecipe

        schema = DemoRecipe
    recipe = build(schema, raw, where, RecipeError)
    check_section("sft", recipe.sft, where)
    if recipe.self_refine is not None:
        check_section("self_refine", recipe.self_refine, where)
    return recipe


def load_recipe(name: str | os.PathLike, overrides: tuple[str, ...] = ()) -> tuple[PipelineRecipe, Path]:
    """Find, read, override and validate a recipe; returns it with its path."""
    raw, path = read_raw(name, overrides)
    if "variants" in raw or "reference" in raw:
        raise RecipeError(f"{path}: a grid recipe (variants:); run it with `aligncot run`")
    return validate(raw, str(path)), path
