"""``aligncot annotate``: a teacher answers a task's training questions, committed as it goes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

import click

from aligncot_tasks import suite
from aligncot_tasks.data import load_rows
from training import atomic
from training.annotate.backends import BACKENDS, load_backend
from training.annotate.importer import export_rows, import_file, read_rows, without_excluded
from training.annotate.jobs import PREFILL_MODES, GenParams, build_jobs
from training.annotate.run import annotate as run_annotation
from training.annotate.store import DB_NAME, EXPORT_NAME, Store, Totals, unreadable
from training.cli import Command, check_output_dir
from training.data_split import read_keys
from training.errors import UserError

#: Teacher temperature: greedy for one answer (Fine-tune-CoT), diverse for K > 1 (its "diverse reasoning").
SINGLE_SAMPLE_TEMPERATURE = 0.0
MULTI_SAMPLE_TEMPERATURE = 0.7
#: Placeholder key for local servers (vLLM, transformers serve) that ignore it.
NO_KEY = "EMPTY"


def export(store: Store) -> Path | None:
    """Write ``DIR/annotations.jsonl`` from the store (atomically) and return its path; None
    (nothing written) when the store holds no completion: an empty export is no dataset."""
    rows = list(export_rows(store))
    if not rows:
        return None
    path = store.dir / EXPORT_NAME
    atomic.write_jsonl(path, rows)
    return path


def failure_rule(totals: Totals, allow_failures: bool, first_error: str) -> None:
    """The exit rule a script can rely on: 0 only when every request was answered, or some
    were and ``--allow-failures`` was given.

    >>> failure_rule(Totals(2, 0, 1, 0, 0, 0), False, "")
    >>> failure_rule(Totals(2, 1, 1, 0, 0, 0), True, "e")
    >>> failure_rule(Totals(0, 2, 0, 0, 0, 0), True, "refused")
    Traceback (most recent call last):
    training.errors.UserError: all 2 requests failed after retries; first: refused

    Raises:
        UserError: Every request failed, or some did without ``allow_failures``.
    """
    if not totals.failed:
        return
    if not totals.done:
        raise UserError(f"all {totals.failed} requests failed after retries; first: {first_error}")
    if not allow_failures:
        raise UserError(
            f"{totals.failed} of {totals.done + totals.failed} requests failed after retries (the answers are "
            f"stored: rerun to retry them, or pass --allow-failures); first: {first_error}"
        )


def summary(totals: Totals, wall: float) -> str:
    """The run's closing line.

    >>> summary(Totals(3, 1, 2, 30, 90, 1), 2.0)
    'done 3, failed 1, correct 2/3 (0.6667), truncated 1, tokens 30 prompt + 90 completion, wall 2.0s'
    """
    rate = totals.correct / totals.done if totals.done else 0.0
    return (
        f"done {totals.done}, failed {totals.failed}, correct {totals.correct}/{totals.done} ({rate:.4f}), "
        f"truncated {totals.truncated}, tokens {totals.prompt_tokens} prompt + {totals.completion_tokens} completion, "
        f"wall {wall:.1f}s"
    )


@dataclass(frozen=True)
class AnnotateOptions:
    """Everything ``aligncot annotate`` was asked to do (one field per command-line option)."""

    task: str | None
    split: str | None
    limit: int | None
    backend: str
    base_url: str | None
    model: str | None
    api_key_env: str
    chat: bool
    prefill: str
    concurrency: int
    samples: int
    temperature: float | None
    max_tokens: int
    seed: int
    timeout: float
    max_attempts: int
    batch_size: int
    out_dir: Path
    import_paths: tuple[Path, ...]
    exclude_questions: Path | None
    export_only: bool
    quiet: bool
    allow_failures: bool

    def missing_error(self) -> UserError:
        """The error for the required options not given (none are needed with ``--export``)."""
        # A recorded teacher needs a task (its prompt and scorer) but no model to ask.
        needed = ("task",) if self.import_paths else ("task", "model")
        missing = " and ".join(f"--{n}" for n in needed if not getattr(self, n))
        return UserError(
            f"missing {missing} (needed unless --export): e.g. --task aligncot_csqa_cot --model gpt-4o-mini"
        )

    def backend_options(self) -> dict:
        """Keyword arguments for the chosen backend; the API key comes from the environment only."""
        if self.backend == "hf":
            return {"model": self.model, "batch_size": self.batch_size}
        if self.backend == "vllm":
            return {"model": self.model}
        key = os.environ.get(self.api_key_env)
        if not key:
            if self.base_url is None:
                raise UserError(f"set ${self.api_key_env} to the API key (or pass --base-url for a local server)")
            key = NO_KEY
        return {
            "model": self.model,
            "base_url": self.base_url,
            "api_key": key,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "max_attempts": self.max_attempts,
        }


@click.command(cls=Command)
@click.option("--task", help="Suite zs or cot task whose prompt and scorer to use, e.g. aligncot_csqa_cot.")
@click.option("--split", help="Split to annotate (default: the benchmark's training split).")
@click.option("--limit", type=click.IntRange(min=1), help="Annotate only the first N questions.")
@click.option("--backend", type=click.Choice(sorted(BACKENDS)), default="openai", show_default=True)
@click.option("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (default: OpenAI).")
@click.option("--model", help="Model name (openai) or model directory / hub id (hf, vllm).")
@click.option(
    "--api-key-env", default="OPENAI_API_KEY", show_default=True, help="Environment variable holding the API key."
)
@click.option(
    "--chat/--completions", default=False, show_default=True, help="Chat messages, or the raw plain-text prompt."
)
@click.option(
    "--prefill",
    type=click.Choice(PREFILL_MODES),
    default="user",
    show_default=True,
    help="Chat + cot: trigger inside the user turn (any server), or an open assistant turn to continue (vLLM).",
)
@click.option(
    "--concurrency", type=click.IntRange(min=1), default=16, show_default=True, help="Requests in flight (openai)."
)
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Answers per question (K).")
@click.option("--temperature", type=click.FloatRange(min=0), help="Default: 0 with one sample, 0.7 with K > 1.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True, help="Completion budget.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sample i is generated with seed + i.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds per request (openai).",
)
@click.option(
    "--max-attempts", type=click.IntRange(min=1), default=6, show_default=True, help="Attempts per request (openai)."
)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True, help="Prompts per batch (hf).")
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Annotation directory."
)
@click.option(
    "--import",
    "import_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Store a recorded teacher's answers (JSONL: doc, completion, teacher, source) instead of asking one. "
    "Repeatable: each file's rows join the same store (several teachers: several samples per question).",
)
@click.option(
    "--exclude-questions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --import: skip the questions whose keys this file lists (`aligncot data tuning-split`).",
)
@click.option("--export", "export_only", is_flag=True, help="Only write DIR/annotations.jsonl from the store and exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--allow-failures",
    is_flag=True,
    help="Exit 0 when some requests failed after retries but others were answered (the count is printed). "
    "Without it any failed request exits 1; a run in which every request failed always exits 1.",
)
def annotate(**options) -> None:
    """Have a teacher answer a task's training questions; every answer is committed at once.

    Rerunning with the same arguments resumes: stored answers are never requested again.
    Writes DIR/annotations.db (SQLite) and DIR/annotations.jsonl. With --import FILE, a
    recorded teacher's answers are scored and stored instead (re-importing adds nothing).

    Exit status: 0 when every request was answered; 1 when any failed after retries (0 with
    --allow-failures, unless all of them failed), and for bad input. Nothing is left in DIR
    when no request was answered.
    """
    o = AnnotateOptions(**options)
    if o.export_only:
        export_only(o.out_dir)
        return
    # Each option is checked where its value is passed on, so the value is known to be there.
    if o.import_paths:
        if not o.task:
            raise o.missing_error()
        import_recorded(o, o.import_paths, o.task)
        return
    if not o.task or not o.model:
        raise o.missing_error()
    if o.exclude_questions is not None:
        raise UserError("--exclude-questions needs --import FILE")
    run(o, o.task, o.model)


def export_only(out_dir: Path) -> None:
    """``--export``: write ``DIR/annotations.jsonl`` from the store, refusing a damaged or empty one."""
    if not (out_dir / DB_NAME).is_file():
        raise UserError(f"{out_dir} holds no {DB_NAME}")
    with Store(out_dir) as store:
        try:
            path, totals = export(store), store.totals()
        except sqlite3.DatabaseError as e:  # damage past the header shows up on the first read
            raise unreadable(out_dir / DB_NAME, e) from None
    if path is None:
        raise UserError(f"{out_dir / DB_NAME} holds no completion to export ({totals.failed} failed requests)")
    click.echo(f"wrote {path}: {summary(totals, 0.0).split(', wall')[0]}")


def import_recorded(o: AnnotateOptions, paths: tuple[Path, ...], task: str) -> None:
    """``--import``: score and store recorded teachers' rows (each file in ``paths``) for ``task``, then export."""
    if missing := [p for p in paths if not p.is_file()]:
        raise UserError(f"{missing[0]}: no such file")
    exclude: AbstractSet[str] = read_keys(o.exclude_questions) if o.exclude_questions else frozenset()
    # Check every row of every file (and that the exclusion leaves some) before creating anything.
    for path in paths:
        without_excluded(path, read_rows(path, suite.generative_task(task)), exclude)
    with Store(o.out_dir) as store:
        seen: dict[str, tuple[int, int]] = {}  # one question answered in several files: one id, samples 0, 1, ...
        results = [(path, import_file(path, task, store, o.split or "train", exclude, seen)) for path in paths]
        out = export(store)
    for path, result in results:
        skipped = f", {result.excluded} excluded" if o.exclude_questions else ""
        click.echo(f"{task} [{path.name}: {result.read} rows{skipped}] -> {out}")
        rate = result.correct / result.read if result.read else 0.0
        click.echo(
            f"imported {result.added}, already stored {result.present}, correct {result.correct}/{result.read} ({rate:.4f})"
        )


def run(o: AnnotateOptions, task: str, model: str) -> None:
    """Annotate, store and export as ``o`` says, ``model`` answering ``task`` (the body of ``aligncot annotate``)."""
    spec = suite.generative_task(task)
    split = o.split or spec.benchmark.train_split
    if split is None:
        raise UserError(f"{spec.benchmark.title} has no training split; name one with --split")
    rows = load_rows(spec.benchmark.hub_id, spec.dataset_config, split)[: o.limit]
    if not rows:
        raise UserError(f"{o.task}: split {split!r} has no rows")
    temperature = o.temperature
    if temperature is None:
        temperature = SINGLE_SAMPLE_TEMPERATURE if o.samples == 1 else MULTI_SAMPLE_TEMPERATURE
    params = GenParams(temperature, o.max_tokens, o.seed, o.chat, o.prefill)
    check_output_dir(o.out_dir, "--out")
    teacher = load_backend(o.backend, **o.backend_options())
    jobs = build_jobs(spec, rows, split, params, o.samples, o.backend, model)
    start = time.time()
    created = not o.out_dir.exists()
    with Store(o.out_dir) as store:
        try:
            totals = run_annotation(jobs, teacher, store, progress=not o.quiet)
        except KeyboardInterrupt:
            click.echo(f"interrupted: {len(store.keys())} answers are stored in {o.out_dir}; rerun to resume", err=True)
            raise SystemExit(130) from None
        path = export(store)
        failures = [f for f in store.failures() if f["key"] in {j.key for j in jobs}]
    if path is None and created:
        shutil.rmtree(o.out_dir)  # no answer at all: leave no empty store behind to be mistaken for data
    click.echo(f"{o.task} [{split}, {len(rows)} questions x {o.samples}] -> {path or 'nothing written'}")
    click.echo(summary(totals, time.time() - start))
    failure_rule(totals, o.allow_failures, failures[0]["error"] if failures else "")
    if failures:
        click.echo(
            f"{len(failures)} requests failed after retries (--allow-failures); first: {failures[0]['error']}", err=True
        )
