"""``aligncot run RECIPE``: the command; the stages are :class:`training.pipeline.run.Pipeline`'s."""

from __future__ import annotations

from pathlib import Path

import click

from training.cli import Command
from training.device import cuda_available
from training.errors import UserError
from training.evaluate.config import leaf_tasks
from training.pipeline.arguments import DEMO_NOTE
from training.pipeline.evaluation import BASE
from training.pipeline.grid import Grid, load
from training.pipeline.headline import final_student, headline
from training.pipeline.run import Pipeline
from training.pipeline.stages import run_stages, timing_table


@click.command(cls=Command)
@click.argument("recipe")
@click.option(
    "--run-dir", type=click.Path(file_okay=False, path_type=Path), help="Run directory (default: runs/<recipe name>)."
)
@click.option(
    "--from",
    "start_from",
    metavar="STAGE",
    help="Re-run this stage and every later one: [models,] annotate, demos, sft, self-refine, eval, leaderboard "
    "(a grid's base evaluation: eval-base; a variant stage re-runs in every variant run).",
)
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a recipe field, e.g. eval.limit=20. Repeatable."
)
@click.option("--variant", metavar="NAME", help="A grid recipe: run this variant only (and the shared stages).")
@click.option(
    "--adjust",
    type=click.Choice(["holm", "none"]),
    default="holm",
    show_default=True,
    help="A grid recipe: Holm-adjust the leaderboard's p-values (all comparisons as one family).",
)
def run(
    recipe: str, run_dir: Path | None, start_from: str | None, sets: tuple[str, ...], variant: str | None, adjust: str
) -> None:
    """Run a pipeline recipe: annotate -> demos -> sft -> self-refine -> eval -> leaderboard.

    RECIPE is a YAML path or a name in harness_configs/pipeline/ (`demo` is built in: tiny
    models, shipped data, offline). Finished stages with unchanged inputs are skipped, so an
    interrupted run continues where it stopped. A grid recipe (`variants:`, e.g.
    harness_configs/experiments/csqa_ablations.yaml) runs its shared stages once, each variant
    in RUN/<variant>/, and one leaderboard of all variants against the base and the reference.
    """
    r, path = load(recipe, sets)
    if isinstance(r, Grid):
        run_grid(r, path, run_dir, start_from, variant, adjust)
        return
    if variant:
        raise UserError(f"--variant: {path} is not a grid recipe (no variants:)")
    if r.gpu_recipe and cuda_available():
        click.echo(f"a GPU is here: running the full-size recipe {r.gpu_recipe} instead of {path.stem}")
        r, path = load(r.gpu_recipe, sets)
        if isinstance(r, Grid):
            raise UserError(f"gpu_recipe: {path} is a grid recipe; name a single pipeline recipe")
    pipeline = Pipeline(r, run_dir or Path("runs") / r.name)
    click.echo(f"recipe {path} -> run directory {pipeline.run_dir}")
    if r.tiny:
        click.echo(DEMO_NOTE)
    outcomes = run_stages(pipeline.stages(), pipeline.run_dir / ".stages", start_from, click.echo)
    click.echo(timing_table(outcomes))
    board = pipeline.run_dir / "leaderboard"
    click.echo(
        f"leaderboard: {board / 'leaderboard.md'}\n             {board / 'leaderboard.csv'}\n"
        f"             {board / 'leaderboard.html'}\n             {board / 'charts'}/"
    )
    if r.tiny:
        click.echo(DEMO_NOTE)
    if line := pipeline_headline(pipeline):
        click.echo(line)


def pipeline_headline(pipeline: Pipeline) -> str | None:
    """The run's last line (base -> final student on the first eval task), when both were evaluated."""
    rows = pipeline.final_rows()
    student = final_student(rows, BASE)
    if BASE not in rows or student is None:
        return None
    task = leaf_tasks(tuple(pipeline.r.eval.tasks))[0]
    results = pipeline.run_dir / "eval" / "results"
    return headline(results, pipeline.student_title, task, BASE, student)


def run_grid(grid: Grid, path: Path, run_dir: Path | None, start_from: str | None, variant: str | None, adjust: str):
    """``aligncot run GRID``: :class:`training.pipeline.grid_run.GridRun`."""
    from training.pipeline.grid_run import GridRun

    if variant is not None and variant not in grid.variants:
        raise UserError(f"--variant {variant!r}: variants are {', '.join(grid.variants)}")
    runner = GridRun(grid, run_dir or Path("runs") / grid.name, adjust)
    click.echo(f"grid {path}: {len(grid.variants)} variants -> run directory {runner.root}")
    outcomes = runner.run(variant, start_from, click.echo)
    click.echo(timing_table(outcomes))
    click.echo(f"leaderboard: {runner.root / 'leaderboard' / 'leaderboard.md'}")
