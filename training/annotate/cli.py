"""``aligncot annotate``: a teacher answers a task's training questions, committed as it goes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from aligncot_tasks import suite
from aligncot_tasks.data import DataError, load_rows
from training.annotate.backends import BACKENDS, BackendUnavailable, load_backend
from training.annotate.importer import export_rows, import_file, read_rows
from training.annotate.jobs import PREFILL_MODES, GenParams, build_jobs
from training.annotate.run import annotate as run_annotation
from training.annotate.store import EXPORT_NAME, Store, Totals
from training.cmd_tasks import write_jsonl_atomic
from training.errors import UserError

#: Teacher temperature: greedy for one answer (Fine-tune-CoT), diverse for K > 1 (its "diverse reasoning").
SINGLE_SAMPLE_TEMPERATURE = 0.0
MULTI_SAMPLE_TEMPERATURE = 0.7
#: Placeholder key for local servers (vLLM, transformers serve) that ignore it.
NO_KEY = "EMPTY"


def export(store: Store) -> Path:
    """Write ``DIR/annotations.jsonl`` from the store (atomically) and return its path."""
    path = store.dir / EXPORT_NAME
    write_jsonl_atomic(path, export_rows(store))
    return path


def summary(totals: Totals, wall: float) -> str:
    """The run's closing line.

    >>> summary(Totals(3, 1, 2, 30, 90, 1), 2.0)
    'done 3, failed 1, correct 2/3 (0.6667), truncated 1, tokens 30 prompt + 90 completion, wall 2.0s'
    """
    rate = totals.correct / totals.done if totals.done else 0.0
    return (f"done {totals.done}, failed {totals.failed}, correct {totals.correct}/{totals.done} ({rate:.4f}), "
            f"truncated {totals.truncated}, tokens {totals.prompt_tokens} prompt + {totals.completion_tokens} completion, "
            f"wall {wall:.1f}s")


def backend_options(backend: str, model: str, base_url: str | None, api_key_env: str, concurrency: int,
                    timeout: float, max_attempts: int, batch_size: int, seed: int | None) -> dict:
    """Keyword arguments for the chosen backend; the API key comes from the environment only."""
    if backend == "hf":
        return {"model": model, "batch_size": batch_size}
    if backend == "vllm":
        return {"model": model}
    key = os.environ.get(api_key_env)
    if not key:
        if base_url is None:
            raise click.ClickException(f"set ${api_key_env} to the API key (or pass --base-url for a local server)")
        key = NO_KEY
    return {"model": model, "base_url": base_url, "api_key": key, "concurrency": concurrency, "timeout": timeout,
            "max_attempts": max_attempts, "seed": seed or 0}


def import_command(path: Path, task: str | None, split: str | None, out_dir: Path) -> None:
    """``--import``: score and store a recorded teacher's rows, then export."""
    if not task:
        raise click.ClickException("--import needs --task (whose prompt and scorer the rows get)")
    if not path.is_file():
        raise click.ClickException(f"{path}: no such file")
    try:
        read_rows(path, suite.generative_task(task))  # check every row before creating anything
    except (suite.UnknownTask, suite.NotGenerative) as e:
        raise click.ClickException(str(e)) from None
    except UserError as e:
        raise click.ClickException(str(e)) from None
    with Store(out_dir) as store:
        result = import_file(path, task, store, split or "train")
        out = export(store)
    click.echo(f"{task} [{path.name}: {result.read} rows] -> {out}")
    click.echo(f"imported {result.added}, already stored {result.present}, correct {result.correct}/{result.read} "
               f"({result.correct / result.read:.4f})")


@click.command()
@click.option("--task", help="Suite zs or cot task whose prompt and scorer to use, e.g. aligncot_csqa_cot.")
@click.option("--split", help="Split to annotate (default: the benchmark's training split).")
@click.option("--limit", type=click.IntRange(min=1), help="Annotate only the first N questions.")
@click.option("--backend", type=click.Choice(sorted(BACKENDS)), default="openai", show_default=True)
@click.option("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (default: OpenAI).")
@click.option("--model", help="Model name (openai) or model directory / hub id (hf, vllm).")
@click.option("--api-key-env", default="OPENAI_API_KEY", show_default=True, help="Environment variable holding the API key.")
@click.option("--chat/--completions", default=False, show_default=True, help="Chat messages, or the raw plain-text prompt.")
@click.option("--prefill", type=click.Choice(PREFILL_MODES), default="user", show_default=True,
              help="Chat + cot: trigger inside the user turn (any server), or an open assistant turn to continue (vLLM).")
@click.option("--concurrency", type=click.IntRange(min=1), default=16, show_default=True, help="Requests in flight (openai).")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Answers per question (K).")
@click.option("--temperature", type=click.FloatRange(min=0), help="Default: 0 with one sample, 0.7 with K > 1.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=512, show_default=True, help="Completion budget.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sample i is generated with seed + i.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True, help="Seconds per request (openai).")
@click.option("--max-attempts", type=click.IntRange(min=1), default=6, show_default=True, help="Attempts per request (openai).")
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True, help="Prompts per batch (hf).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Annotation directory.")
@click.option("--import", "import_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Store a recorded teacher's answers (JSONL: doc, completion, teacher, source) instead of asking one.")
@click.option("--export", "export_only", is_flag=True, help="Only write DIR/annotations.jsonl from the store and exit.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def annotate(task, split, limit, backend, base_url, model, api_key_env, chat, prefill, concurrency, samples,
             temperature, max_tokens, seed, timeout, max_attempts, batch_size, out_dir, import_path, export_only, quiet) -> None:
    """Have a teacher answer a task's training questions; every answer is committed at once.

    Rerunning with the same arguments resumes: stored answers are never requested again.
    Writes DIR/annotations.db (SQLite) and DIR/annotations.jsonl. With --import FILE, a
    recorded teacher's answers are scored and stored instead (re-importing adds nothing).
    """
    if import_path is not None:
        return import_command(import_path, task, split, out_dir)
    if export_only:
        if not (out_dir / "annotations.db").is_file():
            raise click.ClickException(f"{out_dir} holds no annotations.db")
        with Store(out_dir) as store:
            click.echo(f"wrote {export(store)}: {summary(store.totals(), 0.0).split(', wall')[0]}")
        return
    if not task or not model:
        raise click.ClickException("--task and --model are required (unless --export)")
    try:
        spec = suite.generative_task(task)
    except (suite.UnknownTask, suite.NotGenerative) as e:
        raise click.ClickException(str(e)) from None
    split = split or spec.benchmark.train_split
    if split is None:
        raise click.ClickException(f"{spec.benchmark.title} has no training split; name one with --split")
    try:
        rows = load_rows(spec.benchmark.hub_id, spec.dataset_config, split)[:limit]
    except DataError as e:
        raise click.ClickException(str(e)) from None
    if not rows:
        raise click.ClickException(f"{task}: split {split!r} has no rows")
    if temperature is None:
        temperature = SINGLE_SAMPLE_TEMPERATURE if samples == 1 else MULTI_SAMPLE_TEMPERATURE
    params = GenParams(temperature, max_tokens, seed, chat, prefill)
    opts = backend_options(backend, model, base_url, api_key_env, concurrency, timeout, max_attempts, batch_size, seed)
    try:
        teacher = load_backend(backend, **opts)
    except BackendUnavailable as e:
        raise click.ClickException(str(e)) from None
    jobs = build_jobs(spec, rows, split, params, samples, backend, model)
    start = time.time()
    with Store(out_dir) as store:
        try:
            totals = run_annotation(jobs, teacher, store, progress=not quiet)
        except BackendUnavailable as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            click.echo(f"interrupted: {len(store.keys())} answers are stored in {out_dir}; rerun to resume", err=True)
            raise SystemExit(130) from None
        path = export(store)
        failures = [f for f in store.failures() if f["key"] in {j.key for j in jobs}]
    click.echo(f"{task} [{split}, {len(rows)} questions x {samples}] -> {path}")
    click.echo(summary(totals, time.time() - start))
    if failures:
        click.echo(f"{len(failures)} requests failed after retries (rerun to retry them); first: {failures[0]['error']}", err=True)
