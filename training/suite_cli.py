"""``aligncot tasks`` and ``aligncot score``: the suite from the command line."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from aligncot_tasks import TASKS_DIR, suite
from aligncot_tasks.data import iter_jsonl
from training import atomic
from training.cli import Command
from training.errors import UserError


@click.command(cls=Command)
@click.option(
    "--path", "show_path", is_flag=True, help="Print the directory to pass to `lm_eval --include_path` and exit."
)
def tasks(show_path: bool) -> None:
    """List the suite's groups and tasks."""
    if show_path:
        click.echo(str(TASKS_DIR))
        return
    groups = suite.groups()
    click.echo(f"# {len(groups)} groups")
    for name, g in groups.items():
        click.echo(f"{name}\t{len(g['task'])} members")
    all_tasks = suite.all_tasks()
    click.echo(f"# {len(all_tasks)} tasks")
    for name, spec in all_tasks.items():
        click.echo(f"{name}\t{spec.benchmark.hub_id}:{spec.dataset_config or 'default'}:{spec.benchmark.eval_split}")


def read_generations(path: Path) -> list[dict]:
    """Read ``aligncot score`` input: JSON lines with ``doc`` and ``generation``.

    Raises:
        UserError: With the offending line number.
    """
    rows = []
    for n, row in iter_jsonl(path):
        if not isinstance(row.get("doc"), dict):
            raise UserError(f"{path}:{n}: line has no `doc` object (a dataset row in the hub schema)")
        if "generation" not in row:
            raise UserError(f"{path}:{n}: line has no `generation`")
        rows.append(row)
    return rows


def stderr_of_mean(p: float, n: int) -> float:
    """Standard error of a mean of 0/1 values (sample std / sqrt(n)), as lm-eval reports.

    >>> round(stderr_of_mean(0.5, 4), 4)
    0.2887
    """
    return math.sqrt(p * (1 - p) * n / (n - 1) / n) if n > 1 else 0.0


@click.command(cls=Command)
@click.option("--task", required=True, help="Suite task whose scorer to use, e.g. aligncot_csqa_cot.")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="JSONL: one {doc, generation} per line.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path),
    help="JSONL: the input plus `extracted` and `correct`.",
)
def score(task: str, input_path: Path, output_path: Path) -> None:
    """Score generations made anywhere (any model, any API) with the suite's scorer."""
    spec = suite.generative_task(task)
    if input_path.is_dir():
        raise UserError(f"--input {input_path} is a directory: give the JSONL file of {{doc, generation}} lines")
    if not input_path.is_file():
        raise UserError(f"input file not found: {input_path}")
    if not output_path.parent.is_dir():
        raise UserError(f"--output {output_path}: directory {output_path.parent} does not exist (create it first)")
    if output_path.is_dir():
        raise UserError(f"--output {output_path} is a directory: give a file path")
    rows = read_generations(input_path)
    if not rows:
        raise UserError(f"{input_path}: no lines to score")
    out, n_correct, n_invalid = [], 0, 0
    with click.progressbar(rows, label=f"scoring {task}", file=sys.stderr) as bar:
        for n, row in enumerate(bar, 1):
            try:
                result = suite.score(spec, row["doc"], row["generation"])
            except (KeyError, TypeError, ValueError, IndexError) as e:  # the doc, not the generation
                raise UserError(f"{input_path}: row {n}: doc does not fit {task}'s schema ({e!r})") from None
            out.append({**row, "extracted": result.extracted, "correct": result.correct})
            n_correct += result.correct
            n_invalid += result.extracted is None
    atomic.write_jsonl(output_path, out)
    n = len(out)
    acc, inv = n_correct / n, n_invalid / n
    click.echo(
        f"{task}: n={n} acc={acc:.4f} ± {stderr_of_mean(acc, n):.4f} invalid={inv:.4f} ± {stderr_of_mean(inv, n):.4f}"
    )
