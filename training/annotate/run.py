"""The annotation loop: skip stored keys, ask the backend, score, commit each answer at once."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from tqdm import tqdm

from aligncot_tasks import suite
from training.annotate.backends import Backend, Result
from training.annotate.jobs import Job
from training.annotate.store import Record, Store, Totals
from training.generation.stops import cut_at_stop


def pending_jobs(jobs: Sequence[Job], stored: set[str]) -> list[Job]:
    """Jobs whose key is not stored yet, each key once, in order."""
    seen = set(stored)
    out = []
    for job in jobs:
        if job.key not in seen:
            seen.add(job.key)
            out.append(job)
    return out


def to_record(job: Job, completion: str, result: Result, backend: Backend) -> Record:
    """A finished job (``completion``: its result's text) as a store row, judged by the suite's scorer for its task.

    The text is cut at the stop sequences here too: not every server honours ``stop``.
    """
    text, stopped = cut_at_stop(completion, job.params.stop)
    verdict = suite.score(job.task, job.doc, text)
    prompt = job.prompt if isinstance(job.prompt, str) else json.dumps(job.prompt, ensure_ascii=False)
    return Record(
        key=job.key,
        task=job.task,
        doc_id=job.doc_id,
        sample=job.sample,
        doc=json.dumps(job.doc, ensure_ascii=False, sort_keys=True),
        prompt=prompt,
        completion=text,
        finish_reason="stop" if stopped else result.finish_reason,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        extracted=verdict.extracted,
        gold=suite.item(job.task, job.doc).gold,
        correct=verdict.correct,
        backend=backend.name,
        model=backend.model,
        attempts=result.attempts,
        started_at=result.started_at,
        finished_at=result.finished_at,
    )


def annotate(jobs: Sequence[Job], backend: Backend, store: Store, progress: bool = True) -> Totals:
    """Answer every job not yet in ``store`` and commit each outcome as it arrives.

    Args:
        jobs: All jobs of the run (stored ones are skipped, not re-sent).
        backend: The teacher.
        store: The annotation directory's store.
        progress: Show a progress bar (rate and ETA) on stderr.

    Returns:
        The store's totals over ``jobs``' keys.
    """
    todo = pending_jobs(jobs, store.keys())
    skipped = len({j.key for j in jobs}) - len(todo)
    bar = tqdm(
        total=len(todo),
        desc=f"annotate ({skipped} stored)",
        unit="req",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )

    def on_result(job: Job, result: Result) -> None:
        if result.error is None and result.text is not None:
            store.put(to_record(job, result.text, result, backend))
        else:  # a result without text is a failure too (a rerun asks again), not a crash of the run
            error = result.error or "the backend returned no text"
            store.fail(job.key, job.task, job.doc_id, job.sample, error, result.attempts)
        bar.update(1)

    try:
        if todo:
            backend.run(todo, on_result)
    finally:
        bar.close()
    return store.totals({j.key for j in jobs})
