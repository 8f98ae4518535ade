"""Teacher as vLLM's offline engine: a thin wrapper over :mod:`training.generation.vllm_engine` (GPU only).

Jobs go to the engine in chunks of ``chunk_size`` so that a killed run loses at most one
chunk; vLLM batches and schedules within a chunk itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from training.annotate.backends import BackendUnavailable, OnResult, Result, require
from training.annotate.jobs import Job


@dataclass
class VLLMBackend:
    """vLLM offline teacher.

    Attributes:
        model: Model directory or hub id.
        chunk_size: Jobs handed to the engine at once.
        engine_args: Extra ``vllm.LLM`` keyword arguments (e.g. ``tensor_parallel_size``).
    """

    model: str
    chunk_size: int = 512
    engine_args: dict | None = None
    name: str = "vllm"

    def __post_init__(self) -> None:
        require("vllm", "pip install 'aligncot[vllm]' (GPU machines)")

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Generate every job with :mod:`training.generation.vllm_engine`, one chunk at a time."""
        try:
            import vllm
        except ImportError:
            raise BackendUnavailable("the vllm backend needs vLLM (GPU only): pip install 'aligncot[vllm]'") from None
        from training.generation import vllm_engine

        llm = vllm_engine.engine(self.model, **(self.engine_args or {}))
        for start in range(0, len(jobs), self.chunk_size):
            chunk = jobs[start : start + self.chunk_size]
            p = chunk[0].params
            sampling = [
                vllm.SamplingParams(temperature=p.temperature, max_tokens=p.max_tokens, seed=j.seed, stop=list(p.stop))
                for j in chunk
            ]
            started = time.time()
            chat = isinstance(chunk[0].prompt, list)
            outs = vllm_engine.generate(
                llm, [j.prompt for j in chunk], sampling, chat=chat, continue_final=chat and chunk[0].continue_final
            )
            for job, o in zip(chunk, outs):
                result = Result(
                    o.text,
                    o.finish_reason,
                    prompt_tokens=o.prompt_tokens,
                    completion_tokens=o.completion_tokens,
                    started_at=started,
                    finished_at=time.time(),
                )
                on_result(job, result)


def make_backend(**options) -> VLLMBackend:
    """Backend factory used by :func:`training.annotate.backends.load_backend`."""
    return VLLMBackend(**options)
