"""``aligncot eval``, ``aligncot compare`` and ``aligncot leaderboard``: the evaluation commands.

Each is the click edge of a library module: :mod:`training.evaluate.matrix` (models x tasks
through lm-eval), :mod:`training.evaluate.compare` (paired significance of two runs) and
:mod:`training.evaluate.leaderboard` (tables, charts and pages of many runs).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import click

from aligncot_tasks.data import DATA_DIR_ENV
from training.cli import Command
from training.errors import UserError
from training.evaluate import paired
from training.evaluate.compare import compare_runs, format_lines, load_run, relabel
from training.evaluate.config import EvalConfig, ModelSpec, load_config
from training.evaluate.leaderboard import ordering
from training.evaluate.leaderboard.board import build_board
from training.evaluate.matrix import run_matrix
from training.yaml_mapping import split_pair


def parse_renames(renames: Iterable[str]) -> dict[str, str]:
    """``OLD=NEW`` options as a mapping.

    >>> parse_renames(["/m/sft=sft", "a=b=c"])
    {'/m/sft': 'sft', 'a': 'b=c'}

    Raises:
        UserError: An option without ``=``.
    """
    return dict(split_pair(r, "--rename", "OLD=NEW") for r in renames)


@click.command("eval", cls=Command)
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_flags",
    multiple=True,
    metavar="SPEC",
    help="Add a row: name=N,pretrained=DIR[,peft=ADAPTER][,chat_template=true][,batch_size=N]"
    "[,backend=hf|hf-continuous|local-completions,base_url=URL]; backend defaults to hf-continuous "
    "on CPU, hf on GPU. Repeatable.",
)
@click.option("--tasks", help="Comma-separated suite tasks or groups (replaces the config's).")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Results directory (lm-eval layout).")
@click.option("--limit", type=float, help="Rows per task, for smoke runs (<1: a fraction).")
@click.option("--gen-kwargs", help="lm-eval generation overrides, e.g. max_gen_toks=64.")
@click.option("--device", help="cpu or cuda (default: cuda when available).")
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False),
    help=f"Read datasets from local JSON Lines (sets {DATA_DIR_ENV}).",
)
def eval_command(config, model_flags, tasks, output_dir, limit, gen_kwargs, device, data_dir) -> None:
    """Evaluate models x tasks with lm-eval; finished cells are skipped on re-run.

    CONFIG is a YAML file like harness_configs/eval/*.yaml; flags override its keys.
    """
    raw = load_config(config) if config else {}
    raw.setdefault("models", [])
    raw["models"] = list(raw["models"]) + [asdict(ModelSpec.from_flag(m)) for m in model_flags]
    overrides = {
        "tasks": tasks and tasks.split(","),
        "output_dir": output_dir,
        "gen_kwargs": gen_kwargs,
        "device": device,
        "limit": limit if limit is None or limit < 1 else int(limit),
    }
    raw.update({k: v for k, v in overrides.items() if v is not None})
    cfg = EvalConfig.from_dict(raw, str(config or "flags"))
    if data_dir:
        os.environ[DATA_DIR_ENV] = str(Path(data_dir).resolve())
    written = run_matrix(cfg, click.echo)
    click.echo(f"{len(written)} cell(s) evaluated; results under {cfg.output_dir}")


@click.command(cls=Command)
@click.argument("results_a", type=click.Path(exists=True, path_type=Path))
@click.argument("results_b", type=click.Path(exists=True, path_type=Path))
@click.option("--tasks", help="Comma-separated tasks or benchmark-level names to compare (default: all in common).")
@click.option(
    "--resamples", default=paired.RESAMPLES, show_default=True, type=click.IntRange(100), help="Bootstrap resamples."
)
@click.option("--seed", default=paired.SEED, show_default=True, type=int, help="Bootstrap seed.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help="Relabel a run. Repeatable.")
def compare_command(
    results_a: Path, results_b: Path, tasks: str | None, resamples: int, seed: int, renames: tuple[str, ...]
) -> None:
    """Paired comparison of two runs on the questions both answered: Δ accuracy, its CI and p.

    RESULTS_A and RESULTS_B are results_*.json files or --output_path directories of runs
    made with --log_samples. Questions are matched by lm-eval's doc_id and doc_hash; a run
    that holds a question twice is refused.
    """
    mapping = parse_renames(renames)
    a, b = (relabel(load_run(p), mapping) for p in (results_a, results_b))
    per_task, per_bench = compare_runs(a, b, tasks.split(",") if tasks else None, resamples, seed)
    click.echo(f"A = {a.label}\nB = {b.label}")
    click.echo("\n".join(format_lines("task", per_task)))
    click.echo("")
    click.echo("\n".join(format_lines("benchmark (pooled)", per_bench)))
    click.echo(
        f"\nΔ and CI in percentage points; CI: {paired.CI_NAME}, {resamples} resamples, seed {seed}; "
        f"p: {paired.TEST_NAME}; * p < {1 - paired.LEVEL:.2g} (no correction for multiple comparisons)."
    )


@click.command(cls=Command)
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out-dir",
    default="leaderboard",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where leaderboard.{md,csv,html} and charts/*.png go.",
)
@click.option("--baseline", help="Row to subtract from every other row (e.g. the base student).")
@click.option("--reference", help="A second row every other is compared with (a grid's reference variant).")
@click.option(
    "--adjust",
    type=click.Choice(["none", "holm"]),
    default="none",
    show_default=True,
    help="Holm-adjust the difference tables' p-values as one family (aligncot run uses holm for grids).",
)
@click.option("--teacher", help="Row drawn as a marker per benchmark beside the students' bars in the charts.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help="Relabel a row. Repeatable.")
@click.option("--title", default="aligncot leaderboard", show_default=True, help="Page and chart title.")
@click.option("--note", help="A line shown above the tables (e.g. what the numbers are not).")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Draw PNG charts (needs matplotlib).")
@click.option(
    "--above-chance/--no-above-chance",
    default=False,
    show_default=True,
    help="Add the chance-normalised table: (acc - chance) / (1 - chance), chance = 1 / options.",
)
@click.option(
    "--questions/--no-questions",
    default=True,
    show_default=True,
    help="Write per-question drill-down pages (questions/) from the samples files, linked from the cells.",
)
def leaderboard(
    results, out_dir, baseline, reference, adjust, teacher, renames, title, note, charts, above_chance, questions
) -> None:
    """Tabulate lm-eval results of aligncot_* tasks: Markdown, CSV, HTML and PNG charts.

    RESULTS are results_*.json files or directories holding them (searched recursively).
    """
    from training.evaluate.leaderboard import render

    board = build_board(list(results), parse_renames(renames))
    for option, row in (("--baseline", baseline), ("--reference", reference), ("--teacher", teacher)):
        if row and row not in board.rows:
            raise UserError(f"{option} {row!r} is not a row; rows: {', '.join(board.rows)}")
    ordering.reorder(board, baseline, teacher)  # base, students, teacher: not by name
    pngs = []
    if charts:
        from training.evaluate.leaderboard.charts import draw_charts

        pngs = draw_charts(board, out_dir / "charts", teacher=teacher, title=title)
    pages: list[Path] = []
    links: dict[tuple[str, str, str], str] = {}
    if questions:
        from training.evaluate.leaderboard import drilldown

        pages, links = drilldown.write_pages(board, out_dir / drilldown.FOLDER, baseline=baseline)
    adjust = None if adjust == "none" else adjust
    report = render.Report(baseline, title, note, tuple(pngs), above_chance, links, reference, adjust)
    written = render.write_all(board, out_dir, report)
    click.echo(render.markdown(board, baseline, note, above_chance, reference, adjust))
    for path in written + pngs + pages[:3]:
        click.echo(f"wrote {path}")
    if len(pages) > 3:
        click.echo(f"wrote {len(pages) - 3} more drill-down files under {out_dir / 'questions'}")
