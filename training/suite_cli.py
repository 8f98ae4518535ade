"""``aligncot tasks`` and ``aligncot score``: the suite from the command line."""

from __future__ import annotations

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


def read_generations(path: Path, key: str = "generation") -> list[dict]:
    """Read ``aligncot score`` input: JSON lines with ``doc`` and the generation under ``key``.

    Raises:
        UserError: With the offending line number.
    """
    rows = []
    for n, row in iter_jsonl(path):
        if not isinstance(row.get("doc"), dict):
            raise UserError(f"{path}:{n}: line has no `doc` object (a dataset row in the hub schema)")
        if key not in row:  # any value is scored (null, numbers): the scorer never raises on them
            raise UserError(f"{path}:{n}: line has no `{key}`")
        rows.append(row)
    return rows


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
    "--output", "output_path", type=click.Path(path_type=Path), help="JSONL: the input plus `extracted` and `correct`."
)
@click.option(
    "--results-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write an lm-eval-shaped run (results + samples) under DIR/<label>: a leaderboard row "
    "marked 'scored from recorded generations'.",
)
@click.option("--label", help="Row name of the --results-dir run (default: the rows' `teacher`/`model` field).")
@click.option(
    "--prompt-note",
    help="What prompt made the generations, when it was not the suite's (e.g. 'PaLM paper few-shot CoT exemplars').",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="Score only the first N lines (a recorded row on the questions `lm_eval --limit N` evaluates, "
    "when the file is in split order).",
)
@click.option(
    "--generation-key",
    default="generation",
    show_default=True,
    help="Field holding the generation (e.g. `completion` in ../shared/teachers files).",
)
def score(
    task: str,
    input_path: Path,
    output_path: Path | None,
    results_dir: Path | None,
    label: str | None,
    prompt_note: str | None,
    generation_key: str,
    limit: int | None,
) -> None:
    """Score generations made anywhere (any model, any API) with the suite's scorer.

    With --results-dir the scored generations also become a leaderboard row (a recorded row).
    """
    from training.evaluate import recorded

    spec = suite.generative_task(task)
    if output_path is None and results_dir is None:
        raise UserError("give --output, --results-dir or both")
    if input_path.is_dir():
        raise UserError(f"--input {input_path} is a directory: give the JSONL file of {{doc, generation}} lines")
    if not input_path.is_file():
        raise UserError(f"input file not found: {input_path}")
    if output_path is not None and not output_path.parent.is_dir():
        raise UserError(f"--output {output_path}: directory {output_path.parent} does not exist (create it first)")
    if output_path is not None and output_path.is_dir():
        raise UserError(f"--output {output_path} is a directory: give a file path")
    rows = read_generations(input_path, generation_key)[:limit]
    if not rows:
        raise UserError(f"{input_path}: no lines to score")
    ids = recorded.doc_ids(spec, rows, input_path) if results_dir else range(len(rows))
    out, lines = [], []
    with click.progressbar(list(zip(ids, rows)), label=f"scoring {task}", file=sys.stderr) as bar:
        for n, (doc_id, row) in enumerate(bar, 1):
            generation = row[generation_key]
            try:
                result = suite.score(spec, row["doc"], generation)
                line = recorded.sample_line(spec, doc_id, row, generation, result) if results_dir else None
            except (KeyError, TypeError, ValueError, IndexError) as e:  # the doc, not the generation
                raise UserError(f"{input_path}: row {n}: doc does not fit {task}'s schema ({e!r})") from None
            out.append({**row, "extracted": result.extracted, "correct": result.correct})
            lines.append(line)
    if output_path is not None:
        atomic.write_jsonl(output_path, out)
    if results_dir is not None:
        name = label or str(rows[0].get("teacher") or rows[0].get("model") or input_path.stem)
        for path in recorded.write_run(results_dir, spec, name, lines, input_path, prompt_note):
            click.echo(f"wrote {path}", err=True)
    accs = [float(r["correct"]) for r in out]
    invalids = [float(r["extracted"] is None) for r in out]
    n = len(out)
    click.echo(
        f"{task}: n={n} acc={sum(accs) / n:.4f} ± {recorded.stderr(accs):.4f} "
        f"invalid={sum(invalids) / n:.4f} ± {recorded.stderr(invalids):.4f}"
    )
