"""``aligncot run RECIPE``: the whole distillation pipeline in one run directory.

Stages: [models ->] annotate -> demos [-> refine-demos] -> sft -> self-refine -> eval -> leaderboard. Each
stage is its own ``python -m training <command>`` process (the same command a user would
type; its output goes to ``RUN/logs/<stage>.log``), and is skipped when its inputs are
unchanged and its outputs exist (:mod:`training.pipeline.stages`). The one place that maps a recipe
to each command's arguments is :mod:`training.pipeline.arguments`.

Layout of RUN: ``models/`` (demo only), ``annotate/<task>/``, ``demos/``, ``refine-demos/``
(with ``refine_questions``), ``sft/``, ``dpo/``, ``eval/config.yaml`` + ``eval/results/``,
``leaderboard/``, ``logs/``, ``.stages/``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import yaml

from aligncot_tasks import suite
from aligncot_tasks.data import DATA_DIR_ENV, local_split_path
from training import atomic, threads
from training.demo.schema import Demo, DemoRecipe
from training.distill import checkpoints
from training.distill.demos import QUESTIONS_NAME
from training.errors import StageFailed
from training.evaluate.config import leaf_tasks
from training.pipeline import trainers
from training.pipeline.arguments import StageArguments
from training.pipeline.console import run_logged
from training.pipeline.recipe import resolve_file
from training.pipeline.stages import Stage


@contextlib.contextmanager
def output_to(log: Path):
    """Send this process's stdout and stderr to ``log`` for the block, at the file-descriptor
    level (tokenizers and other native code print there, past ``sys.stdout``)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(log, "a", encoding="utf-8") as f:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


class Pipeline(StageArguments):
    """A recipe bound to a run directory: builds the stages and runs their commands."""

    #: torch processes running at once: the stage command, plus the served teacher while it is up.
    torch_processes = 1

    # ----- running commands -----
    def env(self) -> dict[str, str]:
        """Child environment: the data directory, this checkout importable, offline for the demo,
        and each torch process's share of the cores (:mod:`training.threads`)."""
        env = threads.torch_env(os.environ, self.torch_processes)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        if self.data_dir:
            env[DATA_DIR_ENV] = self.data_dir
        if self.r.tiny:
            env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
        return env

    def command(self, stage: str, args: list[str]) -> None:
        """Run ``python -m training ARGS``, appending its output to ``logs/<stage>.log``.

        The console gets the log's path and, on a terminal, the log's live last line.
        """
        log = self.run_dir / "logs" / f"{stage}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"$ aligncot {' '.join(args)}\n")
        print(f"  aligncot {args[0]} ... log: {log}", flush=True)
        rc = run_logged([sys.executable, "-m", "training", *args], log, stage, self.env(), self.run_dir)
        if rc:
            tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
            raise StageFailed(f"stage {stage}: `aligncot {args[0]}` exited with {rc}; log {log}:\n{tail}")

    @contextlib.contextmanager
    def teacher_endpoint(self):
        """The teacher's API root: a ``transformers serve`` of the tiny teacher, or the recipe's."""
        if self.r.tiny_teacher:
            from training.demo.serving import served

            self.torch_processes = 2  # the server beside every command run meanwhile
            try:
                with served(self.teacher_model, env=self.env()) as url:
                    yield url
            finally:
                self.torch_processes = 1
        else:
            yield self.r.teacher.base_url

    @property
    def demo(self) -> Demo:
        """The demo's own settings (a demo recipe: :attr:`PipelineRecipe.tiny`)."""
        assert isinstance(self.r, DemoRecipe)
        return self.r.demo

    # ----- stage actions -----
    def build_models(self) -> None:
        from training.demo.teacher import build_demo_models

        if self.data_dir:  # this stage runs in process; the loaders read the variable
            os.environ[DATA_DIR_ENV] = self.data_dir
        log = self.run_dir / "logs" / "models.log"
        print(f"  building the tiny teacher and student ... log: {log}", flush=True)
        with output_to(log):
            build_demo_models(
                self.models,
                list(self.r.annotate.tasks),
                leaf_tasks(self.r.eval.tasks),
                self.r.annotate.limit,
                self.demo.teacher_steps,
            )

    def train(self, stage: str, args: list[str], output: Path) -> None:
        """Run a trainer (``sft``/``self-refine``) after a kill as well as fresh.

        The trainers publish their adapter atomically when training ends, so an adapter that
        exists is finished (the kill came after it); checkpoints in ``<output>.run`` mean the
        kill came during training, and ``--resume`` continues from the last one.
        """
        if (output / "adapter_config.json").is_file():
            return
        if checkpoints.last_checkpoint(checkpoints.run_dir(output)) is not None:
            args = [args[0], "--resume", *args[1:]]
        self.command(stage, args)

    def annotate(self) -> None:
        with self.teacher_endpoint() as url:
            for task in self.r.annotate.tasks:
                self.command("annotate", self.annotate_args(task, url))

    def evaluate(self) -> None:
        needs_server = self.r.tiny_teacher and self.r.teacher.evaluated
        with self.teacher_endpoint() if needs_server else contextlib.nullcontext(self.r.teacher.base_url) as url:
            path = self.run_dir / "eval" / "config.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(path, yaml.safe_dump(self.eval_config(url), sort_keys=False))
            self.command("eval", ["eval", str(path)])
        if self.r.teacher.recorded_eval:
            self.command("eval", self.score_args())

    def train_split_files(self) -> list[Path]:
        """The local training splits annotation reads (hashed; none when data comes from the hub)."""
        if not self.data_dir:
            return []
        specs = [suite.get_task(t) for t in self.r.annotate.tasks]
        return [
            local_split_path(self.data_dir, s.benchmark.hub_id, s.dataset_config, s.benchmark.train_split)
            for s in specs
            if s.benchmark.train_split is not None  # none to annotate: `aligncot annotate` says so
        ]

    def models_stage(self) -> Stage:
        """The demo's first stage: build the tiny teacher and student."""
        r = self.r
        return Stage(
            "models",
            {"tasks": r.annotate, "eval": r.eval.tasks, "steps": self.demo.teacher_steps},
            self.train_split_files(),
            [self.models / "teacher" / "config.json", self.models / "student" / "config.json"],
            self.build_models,
            clear=[self.models],
        )

    def pull_stage(self) -> Stage:
        """The first stage of a run whose student is pulled (``student.pull``): ``aligncot models pull``."""
        name = self.r.student.pull
        assert name is not None  # only a recipe with student.pull has this stage
        return Stage(
            "models",
            {"pull": name},
            [],
            [Path(self.student_model) / "config.json"],
            lambda: self.command("models", ["models", "pull", name]),
            clear=[self.models],  # never the shared cache: pull is idempotent
        )

    def refine_demos_stage(self) -> Stage:
        """``refine_questions``: the smaller demonstration sample self-refine answers, of the
        questions the SFT demonstrations leave out (drawn before SFT trains: a draw that finds
        too few questions stops the run before training)."""
        args = self.demos_args(refine=True)
        return Stage(
            "refine-demos",
            {"args": args},
            [
                *(self.annotation_dir(t) / "annotations.jsonl" for t in self.r.annotate.tasks),
                self.sft_demos / QUESTIONS_NAME,
            ],
            [self.refine_demos / "train.jsonl", self.refine_demos / "dataset"],
            lambda: self.command("demos", args),
            clear=[self.refine_demos],
        )

    def self_refine_stage(self, recipe_files: list[Path]) -> Stage:
        """DPO self-refine from the SFT adapter (absent when the recipe's ``self_refine`` is null)."""
        run = self.run_dir
        return Stage(
            "self-refine",
            {"args": self.self_refine_args()},
            [self.refine_demos / "train.jsonl", run / "sft", *recipe_files],
            [run / "dpo" / "adapter_config.json"],
            lambda: self.train("self-refine", self.self_refine_args(), run / "dpo"),
            clear=[
                run / "dpo",
                checkpoints.run_dir(run / "dpo"),
                checkpoints.pairs_dir(run / "dpo"),
                checkpoints.rounds_dir(run / "dpo"),
            ],
        )

    def stages(self) -> list[Stage]:
        """The pipeline's stages for this recipe."""
        r, run = self.r, self.run_dir
        teacher_in = [self.models / "teacher"] if r.tiny_teacher else []
        refines = r.self_refine is not None
        adapters = [run / "sft", run / "dpo"] if refines else [run / "sft"]
        sft_file = [f] if (f := trainers.trainer_file(r.sft)) else []
        dpo_file = [f] if r.self_refine is not None and (f := trainers.trainer_file(r.self_refine)) else []
        common = {"data_dir": self.data_dir, "student": self.student_model}
        out = [self.models_stage()] if r.tiny else [self.pull_stage()] if r.student.pull else []
        recorded = [Path(resolve_file(name)) for name in r.teacher.recorded_files]
        refine = [self.refine_demos_stage()] if r.refine_questions and refines else []
        out += [
            Stage(
                "annotate",
                {"teacher": r.teacher, "annotate": r.annotate, "model": self.teacher_model, **common},
                self.train_split_files() + teacher_in + recorded,
                [self.annotation_dir(t) / "annotations.jsonl" for t in r.annotate.tasks],
                self.annotate,
                clear=[run / "annotate"],
            ),
            Stage(
                "demos",
                {"demos": r.demos, "args": self.demos_args()},
                [self.annotation_dir(t) / "annotations.jsonl" for t in r.annotate.tasks],
                [run / "demos" / "train.jsonl", run / "demos" / "dataset", run / "demos" / QUESTIONS_NAME],
                lambda: self.command("demos", self.demos_args()),
                clear=[run / "demos"],
            ),
            *refine,
            Stage(
                "sft",
                {"args": self.sft_args()},
                [run / "demos" / "train.jsonl", run / "demos" / "validation.jsonl", *sft_file],
                [run / "sft" / "adapter_config.json"],
                lambda: self.train("sft", self.sft_args(), run / "sft"),
                clear=[run / "sft", checkpoints.run_dir(run / "sft")],
            ),
            *([self.self_refine_stage(dpo_file)] if refines else []),
            Stage(
                "eval",
                {
                    "eval": r.eval,
                    "teacher": r.teacher,
                    "score": self.score_args() if r.teacher.recorded_eval else None,
                    **common,
                },
                adapters + teacher_in,
                [run / "eval" / "results"],
                self.evaluate,
                clear=[run / "eval"],
            ),
            Stage(
                "leaderboard",
                {"args": self.leaderboard_args()},
                [run / "eval" / "results"],
                [run / "leaderboard" / "leaderboard.html"],
                lambda: self.command("leaderboard", self.leaderboard_args()),
                clear=[run / "leaderboard"],
            ),
        ]
        return out
