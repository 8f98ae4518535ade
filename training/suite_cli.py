"""``aligncot tasks`` and ``aligncot score``: the suite from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aligncot_tasks import TASKS_DIR, suite
from aligncot_tasks.data import iter_jsonl
from training import atomic
from training.cli import Command, check_output_dir
from training.errors import UserError

#: Members named in full when a group is given where a task is expected.
GROUP_MEMBERS_SHOWN = 8


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


def read_generations(path: Path, key: str = "generation") -> list[tuple[int, dict]]:
    """Read ``aligncot score`` input: JSON lines with ``doc`` and a string generation under ``key``.

    Returns:
        (line number, row) per line.

    Raises:
        UserError: With the offending line number.
    """
    rows = []
    for n, row in iter_jsonl(path):
        if not isinstance(row.get("doc"), dict):
            raise UserError(f"{path}:{n}: line has no `doc` object (a dataset row in the hub schema)")
        if key not in row:
            raise UserError(f"{path}:{n}: line has no `{key}`")
        if not isinstance(row[key], str):  # a null or a number would be scored "invalid" silently
            raise UserError(f"{path}:{n}: `{key}` is {json_type(row[key])}, not a string")
        rows.append((n, row))
    return rows


def json_type(value: object) -> str:
    """A decoded JSON value's type as JSON names it.

    >>> json_type(None), json_type(3), json_type([1]), json_type(True)
    ('null', 'a number', 'a list', 'a boolean')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def question_key(row: dict) -> tuple:
    """What makes a line the same question as another: its ``doc_id`` (when given) and doc hash.

    >>> question_key({"doc": {"q": "1+1?"}})[0], question_key({"doc_id": 3, "doc": {"q": "1+1?"}})[0]
    (None, 3)
    """
    from training.evaluate.samples import doc_hash

    return row.get("doc_id"), doc_hash(row["doc"])


def unique_questions(path: Path, lines: list[tuple[int, dict]], dedupe: bool, row: bool = True) -> list[dict]:
    """The rows, each question once: a repeated question is refused, or dropped with ``dedupe``.

    Args:
        path: The input file (for messages).
        lines: (line number, row) per line.
        dedupe: Keep the first line of each question and say how many were dropped.
        row: The lines become a leaderboard row (``--results-dir``), which holds each question
            once; without it (``--output`` alone scores line by line, e.g. several models'
            generations of one question) repeats are kept unless ``dedupe``.

    Raises:
        UserError: A repeated question in a row without ``dedupe``, naming its line and the first one's.
    """
    from training.evaluate.samples import first_duplicate

    keys = [question_key(r) for _, r in lines]
    if not dedupe and not row:
        return [r for _, r in lines]
    if not dedupe:
        if dup := first_duplicate(keys):
            raise UserError(
                f"{path}:{lines[dup[0]][0]}: the question of line {lines[dup[1]][0]} again (same doc); "
                "a --results-dir row holds each question once: pass --dedupe to keep first occurrences"
            )
        return [r for _, r in lines]
    seen, out = set(), []
    for key, (_, r) in zip(keys, lines):
        if key not in seen:
            seen.add(key)
            out.append(r)
    if len(out) < len(lines):
        click.echo(f"--dedupe: dropped {len(lines) - len(out)} repeated lines, kept {len(out)} questions", err=True)
    return out


def generative_task(name: str) -> suite.TaskSpec:
    """``suite.generative_task``, with a group's name answered by its tasks instead of "unknown task"."""
    groups = suite.groups()
    if name in groups and name not in suite.all_tasks():
        leaves = group_leaves(groups, name)
        shown = ", ".join(leaves[:GROUP_MEMBERS_SHOWN]) + (
            f" (+{len(leaves) - GROUP_MEMBERS_SHOWN} more)" if len(leaves) > GROUP_MEMBERS_SHOWN else ""
        )
        raise UserError(f"{name} is a group of {len(leaves)} tasks; score one of them: {shown}")
    return suite.generative_task(name)


def group_leaves(groups: dict, name: str) -> list[str]:
    """The tasks of a group, its subgroups expanded.

    >>> group_leaves({"g": {"task": ["a", "h"]}, "h": {"task": ["b"]}}, "g")
    ['a', 'b']
    """
    return [leaf for t in groups[name]["task"] for leaf in (group_leaves(groups, t) if t in groups else [t])]


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
@click.option(
    "--dedupe",
    is_flag=True,
    help="Keep the first line of a question that appears more than once (same doc) and say how many were "
    "dropped. Without it a repeated question is an error with --results-dir (a row holds each question "
    "once); --output alone scores every line.",
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
    dedupe: bool,
) -> None:
    """Score generations made anywhere (any model, any API) with the suite's scorer.

    With --results-dir the scored generations also become a leaderboard row (a recorded row).
    """
    from training.evaluate import recorded

    spec = generative_task(task)
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
    if output_path is not None:
        check_output_dir(output_path.parent, "--output")
    if results_dir is not None:
        check_output_dir(results_dir, "--results-dir")
    rows = unique_questions(
        input_path, read_generations(input_path, generation_key)[:limit], dedupe, results_dir is not None
    )
    if not rows:
        raise UserError(f"{input_path}: no lines to score")
    ids = recorded.doc_ids(spec, rows, input_path) if results_dir else range(len(rows))
    out: list[dict] = []
    lines: list[dict] = []  # samples lines (--results-dir)
    with click.progressbar(list(zip(ids, rows)), label=f"scoring {task}", file=sys.stderr) as bar:
        for n, (doc_id, row) in enumerate(bar, 1):
            generation = row[generation_key]
            try:
                result = suite.score(spec, row["doc"], generation)
                if results_dir:
                    lines.append(recorded.sample_line(spec, doc_id, row, generation, result))
            except (KeyError, TypeError, ValueError, IndexError) as e:  # the doc, not the generation
                raise UserError(f"{input_path}: row {n}: doc does not fit {task}'s schema ({e!r})") from None
            out.append({**row, "extracted": result.extracted, "correct": result.correct})
    if output_path is not None:
        atomic.write_jsonl(output_path, out)
    if results_dir is not None:
        name = label or str(rows[0].get("teacher") or rows[0].get("model") or input_path.stem)
        for path in recorded.write_run(results_dir, spec, name, lines, input_path, prompt_note):
            click.echo(f"wrote {path}", err=True)
    accs = [float(r["correct"]) for r in out]
    invalids = [float(r["extracted"] is None) for r in out]
    n = len(out)
    if (questions := len({question_key(r) for r in rows})) < n:  # --output alone: lines, not questions
        click.echo(f"{n} lines hold {questions} distinct questions: n counts lines (--dedupe: one each)", err=True)
    click.echo(
        f"{task}: n={n} acc={sum(accs) / n:.4f} ± {recorded.stderr(accs):.4f} "
        f"invalid={sum(invalids) / n:.4f} ± {recorded.stderr(invalids):.4f}"
    )
