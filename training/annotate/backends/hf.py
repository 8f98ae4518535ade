"""Teacher as a local transformers model: a thin wrapper over :mod:`training.generation.hf`.

Prompts run on the continuous-batching engine, at most ``batch_size`` decoding at once, and
each is reported as soon as it finishes (the caller commits it at once). A completion ends at
end-of-sequence or the first of the job's stop strings (``finish_reason="stop"``, cut before
the string), or uses the whole budget (``"length"``), as OpenAI-compatible servers report.

Seeds: the engine seeds each request from the call's seed and the request's position in the
call, so the jobs are generated in one call per sample seed
(:attr:`~training.annotate.jobs.Job.seed`, ``--seed`` + sample index): sample ``i`` of every
question is drawn under ``seed + i``, as the openai and vllm backends send it per request. A
sampled token does not depend on which questions decode beside it, but a resumed run -- fewer
jobs in a call -- gives a question another position, so it does not redraw the same text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from training.annotate.backends import BackendUnavailable, OnResult, Result, require
from training.annotate.jobs import Job
from training.device import default_device


def chat_text(tokenizer, job: Job) -> str:
    """A chat prompt rendered by the model's template; an open assistant turn is continued."""
    return tokenizer.apply_chat_template(
        job.prompt,
        tokenize=False,
        continue_final_message=job.continue_final,
        add_generation_prompt=not job.continue_final,
    )


@dataclass
class HFBackend:
    """Local transformers teacher.

    Attributes:
        model: Model directory or hub id.
        batch_size: Most prompts decoding at once.
        device: Torch device (None: CUDA when available, else CPU).
        dtype: Torch dtype name (``auto``, ``bfloat16``, ``float32``, ...).
    """

    model: str
    batch_size: int = 8
    device: str | None = None
    dtype: str = "auto"
    name: str = "hf"
    _loaded: tuple = field(default=(), repr=False)

    def __post_init__(self) -> None:
        require("torch", "pip install 'aligncot[train]'")

    def load(self):
        """Load (once) and return ``(model, tokenizer)``."""
        if not self._loaded:
            try:
                import torch  # noqa: F401 -- a missing torch is reported below, before any load
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError:
                raise BackendUnavailable(
                    "the hf backend needs torch and transformers: pip install 'aligncot[train]'"
                ) from None
            device = self.device or default_device()
            tokenizer = AutoTokenizer.from_pretrained(self.model)
            tokenizer.padding_side = "left"  # generated tokens must directly follow every prompt
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=self.dtype).to(device).eval()
            self._loaded = (model, tokenizer)
        return self._loaded

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Generate every job with :func:`training.generation.hf.generate` (one call per sample
        seed, in order of first appearance), reporting each as it ends."""
        by_seed: dict[int | None, list[Job]] = {}
        for job in jobs:
            by_seed.setdefault(job.seed, []).append(job)
        for seed, group in by_seed.items():
            self._generate(group, seed, on_result)

    def _generate(self, jobs: Sequence[Job], seed: int | None, on_result: OnResult) -> None:
        """One engine call over ``jobs`` (all with sample seed ``seed``)."""
        from training.generation import hf

        model, tokenizer = self.load()
        chat = isinstance(jobs[0].prompt, list)  # a chat template already placed special tokens
        texts = [chat_text(tokenizer, j) if isinstance(j.prompt, list) else j.prompt for j in jobs]
        params = jobs[0].params
        started = [time.time()]

        def report(indices: list[int], done: list[hf.Completion]) -> None:
            finished = time.time()
            for i, c in zip(indices, done):
                reason = "stop" if c.stopped else "length"
                result = Result(
                    c.text,
                    reason,
                    prompt_tokens=c.prompt_tokens,
                    completion_tokens=c.completion_tokens,
                    started_at=started[0],
                    finished_at=finished,
                )
                on_result(jobs[i], result)
            started[0] = finished

        hf.generate(
            model,
            tokenizer,
            texts,
            [j.params.max_tokens for j in jobs],
            self.batch_size,
            stop=params.stop,
            temperature=params.temperature,
            seed=seed,
            add_special_tokens=not chat,
            on_batch=report,
        )


def make_backend(**options) -> HFBackend:
    """Backend factory used by :func:`training.annotate.backends.load_backend`."""
    return HFBackend(**options)
