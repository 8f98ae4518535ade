"""``aligncot run GRID``: shared stages once, each variant's stages in its own directory, one leaderboard.

Layout of RUN (the grid's run directory):

- shared: ``models/`` (the demo's tiny models), ``annotate/<task>/`` (the base recipe's
  teacher), ``eval/results/`` (the base student, and the recorded teacher's row),
  ``.stages/`` -- run once for all variants;
- ``<variant>/``: that variant's ``demos/``, ``sft/``, [``dpo/``], ``eval/results/``,
  ``logs/``, ``.stages/`` (and ``annotate/`` when its teacher differs from the base's);
- ``leaderboard/``: every variant's rows beside the base, with paired tests against the base
  and against the reference variant, Holm-adjusted by default.

A variant's final row is its name (its SFT+DPO student, or its SFT student when
``self_refine`` is null); with self-refine its SFT student is the row ``<name>.sft``. Each
directory resumes by its own stage states (:mod:`training.pipeline.stages`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from training.errors import UserError
from training.pipeline.arguments import BASE, DPO, SFT, TEACHER
from training.pipeline.grid import Grid
from training.pipeline.run import Pipeline
from training.pipeline.stages import Outcome, Stage, run_stages

#: Stages the grid runs once, for every variant (``eval`` becomes ``eval-base``).
SHARED_STAGES = ("models", "annotate")


def same_annotation(a, b) -> bool:
    """Whether two recipes annotate identically (a variant then reads the grid's annotations)."""
    return (a.teacher, a.annotate) == (b.teacher, b.annotate)


class SharedPipeline(Pipeline):
    """The base recipe at the grid's root: models/pull, annotation, the base student's evaluation."""

    def eval_config(self, teacher_url: str | None) -> dict:
        config = super().eval_config(teacher_url)
        config["models"] = [m for m in config["models"] if m["name"] in (BASE, TEACHER)]
        return config

    def stages(self) -> list[Stage]:
        teacher = [self.models / "teacher"] if self.r.tiny_teacher else []
        out = []
        for s in super().stages():
            if s.name == "eval":  # the base student's evaluation: no adapter among its inputs
                out.append(dataclasses.replace(s, name="eval-base", input_paths=teacher))
            elif s.name in SHARED_STAGES:
                out.append(s)
        return out


class VariantPipeline(Pipeline):
    """One variant in ``<grid>/<name>/``: the grid's models and (when shared) annotations."""

    def __init__(self, recipe, run_dir: Path, grid_root: Path, name: str, shared_annotation: bool):
        # The teacher's own row (live or recorded) is the grid's, evaluated once at its root.
        teacher = dataclasses.replace(recipe.teacher, evaluate=False, recorded_eval=None)
        super().__init__(dataclasses.replace(recipe, teacher=teacher), run_dir)
        self.name, self.grid_root, self.shared_annotation = name, grid_root.resolve(), shared_annotation
        self.models = self.grid_root / "models"

    def annotation_dir(self, task: str) -> Path:
        root = self.grid_root if self.shared_annotation else self.run_dir
        return root / "annotate" / task

    def eval_config(self, teacher_url: str | None) -> dict:
        config = super().eval_config(teacher_url)
        labels = {SFT: self.name}
        if self.r.self_refine is not None:
            labels = {DPO: self.name, SFT: f"{self.name}.sft"}
        config["models"] = [{**m, "name": labels[m["name"]]} for m in config["models"] if m["name"] in labels]
        return config

    def stages(self) -> list[Stage]:
        skip = {"models", "leaderboard"} | ({"annotate"} if self.shared_annotation else set())
        return [s for s in super().stages() if s.name not in skip]


class GridRun:
    """A grid bound to its run directory."""

    def __init__(self, grid: Grid, run_dir: Path, adjust: str = "holm"):
        self.grid, self.root, self.adjust = grid, run_dir.resolve(), adjust
        self.shared = SharedPipeline(grid.base, self.root)

    def variant(self, name: str) -> VariantPipeline:
        recipe = self.grid.variants[name]
        return VariantPipeline(recipe, self.root / name, self.root, name, same_annotation(recipe, self.grid.base))

    def results_dirs(self) -> list[Path]:
        """Evaluation results of the base and of every variant (present or not)."""
        return [self.root / "eval" / "results"] + [self.root / n / "eval" / "results" for n in self.grid.variants]

    def leaderboard_args(self) -> list[str]:
        """``aligncot leaderboard`` over every variant evaluated so far."""
        present = [p for p in self.results_dirs() if p.is_dir()]
        ref = self.grid.reference
        reference = ["--reference", ref] if ref and (self.root / ref / "eval" / "results").is_dir() else []
        teacher = self.grid.base.teacher
        args = [
            "leaderboard",
            *map(str, present),
            "--out-dir",
            str(self.root / "leaderboard"),
            "--baseline",
            BASE,
            *reference,
            "--adjust",
            self.adjust,
            "--title",
            f"aligncot run {self.grid.name}",
        ]
        args += ["--teacher", TEACHER] if teacher.evaluated or teacher.recorded_eval else []
        return args + (["--note", self.grid.base.note] if self.grid.base.note else [])

    def leaderboard_stage(self) -> Stage:
        args = self.leaderboard_args()
        return Stage(
            "leaderboard",
            {"args": args},
            self.results_dirs(),
            [self.root / "leaderboard" / "leaderboard.html"],
            lambda: self.shared.command("leaderboard", args),
            clear=[self.root / "leaderboard"],
        )

    def run(self, only: str | None = None, start_from: str | None = None, echo=print) -> list[Outcome]:
        """Shared stages, then each variant's (``only``: just that one), then the leaderboard.

        ``start_from``: a shared stage re-runs it and everything after it, in every variant; a
        variant stage re-runs it and what follows it in each variant run.
        """
        if only is not None and only not in self.grid.variants:
            raise UserError(f"--variant {only!r}: variants are {', '.join(self.grid.variants)}")
        names = [only] if only else list(self.grid.variants)
        groups: list[tuple[str, Pipeline, list[Stage]]] = [("shared", self.shared, self.shared.stages())]
        groups += [(n, v, v.stages()) for n in names for v in [self.variant(n)]]
        known = {s.name for _, _, stages in groups for s in stages} | {"leaderboard"}
        if start_from is not None and start_from not in known:
            raise UserError(f"--from {start_from!r}: stages are {', '.join(sorted(known))}")
        forced = start_from is not None
        outcomes = []
        for label, pipeline, stages in groups:
            echo(f"== {label} ({pipeline.run_dir})")
            stage_names = [s.name for s in stages]
            begin = start_from if start_from in stage_names else None
            if begin is None and forced and label != "shared" and start_from in [s.name for s in groups[0][2]]:
                begin = stage_names[0]  # a shared stage re-ran: every variant stage follows it
            done = run_stages(stages, pipeline.run_dir / ".stages", begin, echo)
            outcomes += [dataclasses.replace(o, name=f"{label}/{o.name}") for o in done]
        echo(f"== leaderboard ({self.root / 'leaderboard'})")
        board = [self.leaderboard_stage()]
        done = run_stages(board, self.root / ".stages", "leaderboard" if forced else None, echo)
        return outcomes + done
