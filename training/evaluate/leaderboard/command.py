"""``aligncot leaderboard``: the command that reads results, draws charts and writes the pages."""

from __future__ import annotations

from pathlib import Path

import click

from training.cli import Command
from training.errors import UserError
from training.evaluate.leaderboard import ordering
from training.evaluate.leaderboard.board import build_board


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

    try:
        mapping = dict(r.split("=", 1) for r in renames)
    except ValueError:
        raise UserError("--rename takes OLD=NEW") from None
    board = build_board(list(results), mapping)
    for option, row in (("--baseline", baseline), ("--reference", reference), ("--teacher", teacher)):
        if row and row not in board.rows:
            raise UserError(f"{option} {row!r} is not a row; rows: {', '.join(board.rows)}")
    ordering.reorder(board, baseline, teacher)  # base, students, teacher: not by name
    pngs = []
    if charts:
        from training.evaluate.leaderboard.charts import draw_charts

        pngs = draw_charts(board, out_dir / "charts", teacher=teacher, title=title)
    pages, links = [], {}
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
