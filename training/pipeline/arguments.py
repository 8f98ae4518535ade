"""The one place that maps a pipeline recipe to each stage command's arguments.

:class:`StageArguments` binds a recipe to a run directory and knows its layout (``models/``,
``annotate/<task>/``, ``demos/``, ``sft/``, ``dpo/``, ``eval/``, ``leaderboard/``); each
``*_args`` method is the argument list of one ``aligncot`` command, and :meth:`eval_config`
the ``aligncot eval`` config. :class:`training.pipeline.run.Pipeline` runs them.
"""

from __future__ import annotations

from pathlib import Path

from training.distill.demos import QUESTIONS_NAME
from training.pipeline import trainers
from training.pipeline.evaluation import BASE, DPO, SFT, TEACHER
from training.pipeline.recipe import PipelineRecipe, resolve_file

#: Printed by every run that builds its own tiny models.
DEMO_NOTE = (
    "Tiny models built on the spot: this run exercises the machinery end to end "
    "(teacher -> annotations -> SFT -> self-refine -> lm-eval -> leaderboard); the numbers are not a result."
)
#: Prompt note of a recorded teacher's leaderboard row.
RECORDED_PROMPT = "the teacher's own few-shot CoT prompt (recorded), not the suite's"
#: lm-eval base URL of OpenAI itself, for an API teacher without ``base_url``.
OPENAI_URL = "https://api.openai.com/v1"


class StageArguments:
    """A recipe bound to a run directory: paths and command arguments."""

    def __init__(self, recipe: PipelineRecipe, run_dir: Path):
        self.r, self.run_dir = recipe, run_dir.resolve()
        self.models = self.run_dir / "models"
        self.data_dir = recipe.resolved_data_dir()

    # ----- paths -----
    @property
    def teacher_model(self) -> str:
        return str(self.models / "teacher") if self.r.tiny_teacher else self.r.teacher.model

    @property
    def student_model(self) -> str:
        if self.r.student.pull:
            from training.models.registry import model_dir

            return str(model_dir(self.r.student.pull))
        return str(self.models / "student") if self.r.tiny_student else self.r.student.base_model

    @property
    def student_title(self) -> str:
        """The student as the run's last line names it (a pulled model by its hub name)."""
        if self.r.student.pull:
            from training.models.registry import lookup

            return lookup(self.r.student.pull).hub_id.rsplit("/", 1)[-1]
        return Path(self.student_model).name

    def final_rows(self) -> tuple[str, ...]:
        """The student rows the eval stage evaluates, in order."""
        rows = (BASE, SFT, DPO) if self.r.self_refine is not None else (BASE, SFT)
        return tuple(r for r in rows if self.r.eval.students is None or r in self.r.eval.students)

    @property
    def sft_demos(self) -> Path:
        """The SFT demonstrations (``demos/``)."""
        return self.run_dir / "demos"

    @property
    def refine_demos(self) -> Path:
        """The demonstrations self-refine answers (a smaller sample with ``refine_questions``)."""
        return self.run_dir / "refine-demos" if self.r.refine_questions else self.sft_demos

    def annotation_dir(self, task: str) -> Path:
        return self.run_dir / "annotate" / task

    # ----- recipe -> command arguments (the one place) -----
    def annotate_args(self, task: str, base_url: str | None) -> list[str]:
        t = self.r.teacher
        if t.recorded:
            imports = [arg for name in t.recorded_files for arg in ("--import", resolve_file(name))]
            return ["annotate", "--task", task, "--out", str(self.annotation_dir(task)), *imports]
        args = [
            "annotate",
            "--task",
            task,
            "--out",
            str(self.annotation_dir(task)),
            "--backend",
            t.backend,
            "--model",
            self.teacher_model,
            "--chat" if t.chat else "--completions",
            "--max-tokens",
            str(t.max_tokens),
            "--samples",
            str(t.samples),
            "--quiet",
        ]
        args += ["--base-url", base_url] if base_url else []
        return args + (["--limit", str(self.r.annotate.limit)] if self.r.annotate.limit else [])

    def demos_args(self, refine: bool = False) -> list[str]:
        """``aligncot demos``; ``refine``: the self-refine sample (``refine_questions`` rows).

        The self-refine sample is drawn from the questions the SFT demonstrations leave out
        (``--exclude-questions demos/questions.txt``: their train and validation questions), so
        the student does not self-refine on questions it was fine-tuned on. It holds out the
        same share of its questions for validation as the SFT sample (``demos.val_fraction``:
        ``ceil(share / (1 - share) * questions)``, so at least one; self-refine's
        ``max_eval_pairs`` caps what is evaluated).
        """
        d = self.r.demos
        balance = self.r.refine_questions if refine else d.balance
        args = [
            "demos",
            *(str(self.annotation_dir(t)) for t in self.r.annotate.tasks),
            "--out",
            str(self.refine_demos if refine else self.sft_demos),
            "--kind",
            d.kind,
            "--style",
            d.style,
            "--fraction",
            str(d.fraction),
            "--val-fraction",
            str(d.val_fraction),
        ]
        args += ["--exclude-questions", str(self.sft_demos / QUESTIONS_NAME)] if refine else []
        return args + (["--balance", str(balance)] if balance is not None else [])

    @staticmethod
    def trainer_args(command: str, section: dict, stage_fields: dict) -> list[str]:
        """``aligncot sft``/``self-refine``: ``--recipe FILE`` (when the section names one), the
        section's overrides, then the fields the stage sets."""
        path = trainers.trainer_file(section)
        recipe = ["--recipe", str(path)] if path is not None else []
        return [command, *recipe, *trainers.as_args({**trainers.overrides(section), **stage_fields})]

    @property
    def trainer_files(self) -> list[Path]:
        """The published trainer recipes the run reads (hashed: editing one re-runs its stage)."""
        sections = [self.r.sft, self.r.self_refine or {}]
        return [p for p in map(trainers.trainer_file, sections) if p is not None]

    def sft_args(self) -> list[str]:
        fields = {
            "base_model": self.student_model,
            "data": str(self.sft_demos),
            "output_dir": str(self.run_dir / "sft"),
        }
        return self.trainer_args("sft", self.r.sft, fields)

    def self_refine_args(self) -> list[str]:
        fields = {
            "base_model": self.student_model,
            "data": str(self.refine_demos),
            "sft_adapter": str(self.run_dir / "sft"),
            "output_dir": str(self.run_dir / "dpo"),
        }
        return self.trainer_args("self-refine", self.r.self_refine or {}, fields)

    def eval_config(self, teacher_url: str | None) -> dict:
        """The ``aligncot eval`` config: base, SFT, SFT+DPO students (+ the API teacher)."""
        e, s, t = self.r.eval, self.r.student, self.r.teacher
        student = {"pretrained": self.student_model, "chat_template": s.chat_template, "backend": e.backend}
        if e.batch_size:
            student["batch_size"] = e.batch_size
        models = [
            {"name": BASE, **student},
            {"name": SFT, **student, "peft": str(self.run_dir / "sft")},
        ]
        if self.r.self_refine is not None:
            models.append({"name": DPO, **student, "peft": str(self.run_dir / "dpo")})
        models = [m for m in models if m["name"] in self.final_rows()]  # eval.students: a time budget's choice
        if t.evaluated:
            root = (teacher_url or OPENAI_URL).rstrip("/")
            endpoint = (
                ("local-chat-completions", "chat/completions") if t.chat else ("local-completions", "completions")
            )
            models.insert(
                0,
                {
                    "name": TEACHER,
                    "pretrained": self.teacher_model,
                    "backend": endpoint[0],
                    "base_url": f"{root}/{endpoint[1]}",
                    "chat_template": t.chat,
                },
            )
        return {
            "models": models,
            "tasks": list(e.tasks),
            "limit": e.limit,
            "gen_kwargs": e.gen_kwargs,
            "output_dir": str(self.run_dir / "eval" / "results"),
        }

    def score_args(self) -> list[str]:
        """``aligncot score``: the recorded teacher's row on the students' evaluation questions."""
        limit = self.r.eval.limit
        assert self.r.teacher.recorded_eval is not None  # only a recipe with recorded_eval scores it
        args = [
            "score",
            "--task",
            self.r.annotate.tasks[0],
            "--input",
            resolve_file(self.r.teacher.recorded_eval),
            "--generation-key",
            "completion",
            "--results-dir",
            str(self.run_dir / "eval" / "results"),
            "--label",
            TEACHER,
            "--prompt-note",
            RECORDED_PROMPT,
        ]
        return args + (["--limit", str(int(limit))] if limit and limit >= 1 else [])

    def leaderboard_args(self) -> list[str]:
        note = self.r.note or (DEMO_NOTE if self.r.tiny else None)
        args = [
            "leaderboard",
            str(self.run_dir / "eval" / "results"),
            "--out-dir",
            str(self.run_dir / "leaderboard"),
            "--baseline",
            BASE,
            "--title",
            f"aligncot run {self.r.name}",
        ]
        args += ["--teacher", TEACHER] if self.r.teacher.evaluated or self.r.teacher.recorded_eval else []
        return args + (["--note", note] if note else [])
