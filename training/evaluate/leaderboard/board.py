"""``aligncot leaderboard``: lm-eval results files -> one table of models x benchmark x variant.

Reads the results JSON that lm-eval writes (``aligncot eval`` or a plain ``lm_eval
--output_path`` run of ``aligncot_*`` tasks). A column is a benchmark-level entry
``aligncot_<benchmark>_<variant>`` -- a task, or the group of a per-config benchmark
(MMLU, MATH, BBH) -- so a table only ever shows what lm-eval itself aggregated. Rendering
lives in :mod:`training.evaluate.leaderboard.render`, charts in :mod:`training.evaluate.leaderboard.charts`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from aligncot_tasks import suite
from training.cli import Command
from training.errors import ResultsError, UserError

#: lm-eval's metric keys for the suite's accuracy.
ACC, ACC_SE = "acc,none", "acc_stderr,none"
#: Variants in column order.
VARIANT_ORDER = (*suite.VARIANTS, suite.LL)

Column = tuple[str, str]  # (benchmark key, variant)


@dataclass(frozen=True)
class Score:
    """One benchmark-level accuracy of one model.

    Attributes:
        acc: Accuracy in [0, 1].
        stderr: lm-eval's standard error, None when it reported none.
        n: Rows evaluated (after ``--limit``), None when unknown.
        limit: lm-eval's ``--limit`` (None: the full split).
        date: Evaluation start time (epoch seconds): the newest score wins.
        source: The results file it came from.
    """

    acc: float
    stderr: float | None
    n: int | None
    limit: float | None
    date: float
    source: str


def _number(value) -> float | None:
    """A metric value as float; lm-eval writes "N/A" when it has none.

    >>> _number(0.5), _number("N/A"), _number(None)
    (0.5, None, None)
    """
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def model_label(data: dict) -> str:
    """Row label of a results file: lm-eval's ``model_name`` (``aligncot eval`` sets it to the
    row name; plain lm-eval uses peft, else pretrained), else the model args.

    >>> model_label({"model_name": "student-sft"})
    'student-sft'
    >>> model_label({"config": {"model_args": "pretrained=/m/base,peft=/m/sft,dtype=float32"}})
    '/m/sft'
    """
    if data.get("model_name"):
        return str(data["model_name"])
    args = (data.get("config") or {}).get("model_args") or ""
    if isinstance(args, dict):
        parsed = {k: str(v) for k, v in args.items()}
    else:
        parsed = dict(p.split("=", 1) for p in str(args).split(",") if "=" in p)
    for key in ("peft", "pretrained", "model"):
        if parsed.get(key):
            return parsed[key]
    return (data.get("config") or {}).get("model") or "unknown"


def benchmark_columns() -> dict[str, Column]:
    """Benchmark-level task/group name -> column, for every benchmark and variant of the suite."""
    out = {}
    for b in suite.BENCHMARKS.values():
        for variant in VARIANT_ORDER:
            if variant == suite.LL and not b.multiple_choice:
                continue
            out[suite.task_name(b.key, variant)] = (b.key, variant)
    return out


def _effective_n(data: dict, name: str) -> int | None:
    """Rows behind an entry: its own n-samples, or the sum over a group's leaves."""
    n_samples = data.get("n-samples") or {}
    if name in n_samples:
        return int(n_samples[name]["effective"])
    children = (data.get("group_subtasks") or {}).get(name)
    if not children:
        return None
    parts = [_effective_n(data, c) for c in children]
    return None if None in parts else sum(parts)


def read_results_file(path: str | os.PathLike) -> tuple[str, dict[Column, Score]]:
    """Parse one lm-eval results file into (row label, scores by column).

    Raises:
        ResultsError: The file is not an lm-eval results JSON.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: not readable as JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise ResultsError(f"{path}: no `results` mapping; is this an lm-eval results file?")
    config = data.get("config") or {}
    columns = benchmark_columns()
    scores = {}
    for name, metrics in data["results"].items():
        acc = _number(metrics.get(ACC))
        if name in columns and acc is not None:
            scores[columns[name]] = Score(acc, _number(metrics.get(ACC_SE)), _effective_n(data, name),
                                          _number(config.get("limit")), float(data.get("date") or 0), str(path))
    return model_label(data), scores


def find_results_files(paths: list[str | os.PathLike]) -> list[Path]:
    """Results files named by ``paths``: files as given, directories searched recursively
    for lm-eval's ``results_*.json``."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("results_*.json")))
        elif p.is_file():
            out.append(p)
        else:
            raise ResultsError(f"{p}: no such file or directory")
    return out


@dataclass
class Board:
    """Models x (benchmark, variant) accuracies, plus the derived views.

    Attributes:
        scores: (row, column) -> newest score.
        rows: Row labels in first-seen order.
    """

    scores: dict[tuple[str, Column], Score] = field(default_factory=dict)
    rows: list[str] = field(default_factory=list)

    def add(self, row: str, column: Column, score: Score) -> None:
        """Record a score; of two for the same cell, the newer evaluation wins."""
        if row not in self.rows:
            self.rows.append(row)
        old = self.scores.get((row, column))
        if old is None or score.date >= old.date:
            self.scores[(row, column)] = score

    @property
    def columns(self) -> list[Column]:
        """Columns present, in suite order: benchmark-major, so a benchmark's zs and cot sit side by side."""
        present = {c for _, c in self.scores}
        order = list(suite.BENCHMARKS)
        return sorted(present, key=lambda c: (order.index(c[0]), VARIANT_ORDER.index(c[1])))

    @property
    def variants(self) -> list[str]:
        """Variants present, in order."""
        return [v for v in VARIANT_ORDER if any(c[1] == v for c in self.columns)]

    @property
    def gain_benchmarks(self) -> list[str]:
        """Benchmarks with both a zs and a cot column (the CoT gain is defined)."""
        cols = set(self.columns)
        return [b for b in suite.BENCHMARKS if (b, "zs") in cols and (b, "cot") in cols]

    def get(self, row: str, column: Column) -> Score | None:
        """The score of a cell, or None."""
        return self.scores.get((row, column))

    def average(self, row: str, variant: str) -> tuple[float, float | None] | None:
        """Unweighted mean over the variant's columns, with the stderr of a mean of
        independent estimates; None when the row misses any of those columns (a mean over a
        different set of benchmarks would not be comparable)."""
        cells = [self.get(row, c) for c in self.columns if c[1] == variant]
        if not cells or None in cells:
            return None
        k = len(cells)
        mean = sum(s.acc for s in cells) / k
        ses = [s.stderr for s in cells]
        se = None if None in ses else math.sqrt(sum(x * x for x in ses)) / k
        return mean, se

    def gain(self, row: str, benchmark: str) -> tuple[float, float | None] | None:
        """CoT gain ``cot - zs`` and its stderr (treating the two runs as independent, which
        overstates it: both score the same questions)."""
        cot, zs = self.get(row, (benchmark, "cot")), self.get(row, (benchmark, "zs"))
        if cot is None or zs is None:
            return None
        se = None if cot.stderr is None or zs.stderr is None else math.hypot(cot.stderr, zs.stderr)
        return cot.acc - zs.acc, se

    def delta(self, row: str, baseline: str, column: Column) -> float | None:
        """Accuracy difference of ``row`` to the ``baseline`` row on a column."""
        a, b = self.get(row, column), self.get(baseline, column)
        return None if a is None or b is None else a.acc - b.acc

    @property
    def limits(self) -> set[float | None]:
        """The distinct ``--limit`` values behind the table (not {None}: a smoke run)."""
        return {s.limit for s in self.scores.values()}


def build_board(paths: list[str | os.PathLike], renames: dict[str, str] | None = None) -> Board:
    """Read every results file under ``paths`` into a :class:`Board`.

    Args:
        paths: Results files or directories holding them.
        renames: Row label -> new label.

    Raises:
        ResultsError: No file, an unreadable file, or no ``aligncot_*`` benchmark entry at all.
    """
    files = find_results_files(paths)
    if not files:
        raise ResultsError(f"no results_*.json under {', '.join(map(str, paths))}")
    board = Board()
    for path in files:
        label, scores = read_results_file(path)
        label = (renames or {}).get(label, label)
        for column, score in scores.items():
            board.add(label, column, score)
    if not board.scores:
        raise ResultsError("none of the results files has a benchmark-level aligncot_* entry "
                           "(e.g. aligncot_csqa_cot, or a group like aligncot_mmlu_cot)")
    return board


@click.command(cls=Command)
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out-dir", default="leaderboard", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where leaderboard.{md,csv,html} and charts/*.png go.")
@click.option("--baseline", help="Row to subtract from every other row (e.g. the base student).")
@click.option("--teacher", help="Row drawn as a line over the students' bars in the charts.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW", help="Relabel a row. Repeatable.")
@click.option("--title", default="aligncot leaderboard", show_default=True, help="Page and chart title.")
@click.option("--note", help="A line shown above the tables (e.g. what the numbers are not).")
@click.option("--charts/--no-charts", default=True, show_default=True, help="Draw PNG charts (needs matplotlib).")
def leaderboard(results, out_dir, baseline, teacher, renames, title, note, charts) -> None:
    """Tabulate lm-eval results of aligncot_* tasks: Markdown, CSV, HTML and PNG charts.

    RESULTS are results_*.json files or directories holding them (searched recursively).
    """
    from training.evaluate.leaderboard import render

    try:
        mapping = dict(r.split("=", 1) for r in renames)
    except ValueError:
        raise UserError("--rename takes OLD=NEW") from None
    board = build_board(list(results), mapping)
    for option, row in (("--baseline", baseline), ("--teacher", teacher)):
        if row and row not in board.rows:
            raise UserError(f"{option} {row!r} is not a row; rows: {', '.join(board.rows)}")
    pngs = []
    if charts:
        from training.evaluate.leaderboard.charts import draw_charts

        pngs = draw_charts(board, out_dir / "charts", teacher=teacher, title=title)
    written = render.write_all(board, out_dir, baseline=baseline, title=title, note=note, charts=pngs)
    click.echo(render.markdown(board, baseline=baseline, note=note))
    for path in written + pngs:
        click.echo(f"wrote {path}")
