"""Teacher backends: each turns :class:`~training.annotate.jobs.Job` s into :class:`Result` s.

A backend's ``run(jobs, on_result)`` calls ``on_result(job, result)`` once per job, as
soon as that job's answer (or final failure) is known, so the caller can commit it at
once. Backends are imported by name on use: ``openai`` needs the ``api`` extra, ``hf`` the
training stack, ``vllm`` the ``vllm`` extra.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from training.annotate.jobs import Job
from training.errors import BackendUnavailable

#: backend name -> module defining ``make_backend(**options)``.
BACKENDS: dict[str, str] = {
    "openai": "training.annotate.backends.openai",
    "hf": "training.annotate.backends.hf",
    "vllm": "training.annotate.backends.vllm",
}


@dataclass(frozen=True)
class Result:
    """The outcome of one job.

    Attributes:
        text: The completion, or None when the job failed.
        finish_reason: ``stop``, ``length`` (truncated at the token budget), ...
        prompt_tokens: Prompt length in tokens, when known.
        completion_tokens: Completion length in tokens, when known.
        error: Why the job failed (None on success).
        attempts: Requests made for this job.
        started_at: Unix time of the first attempt.
        finished_at: Unix time of the outcome.
    """

    text: str | None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    attempts: int = 1
    started_at: float = 0.0
    finished_at: float = 0.0


OnResult = Callable[[Job, Result], None]


class Backend(Protocol):
    """What the annotation loop needs from a backend."""

    name: str
    model: str

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Answer every job, reporting each outcome through ``on_result``."""


def require(module: str, install_hint: str) -> None:
    """Raise :class:`BackendUnavailable` now (before any output is created) if ``module`` is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(f"this backend needs `{module}`: {install_hint}")


def load_backend(name: str, **options) -> Backend:
    """Instantiate backend ``name`` with its options.

    Raises:
        KeyError: Unknown backend.
        BackendUnavailable: Its optional dependency is missing.
    """
    if name not in BACKENDS:
        raise KeyError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return importlib.import_module(BACKENDS[name]).make_backend(**options)
