"""Teacher as vLLM's offline engine (GPU machines with the ``vllm`` extra only).

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
        """Generate every job, one chunk at a time."""
        try:
            import vllm
        except ImportError:
            raise BackendUnavailable("the vllm backend needs vLLM (GPU only): pip install 'aligncot[vllm]'") from None
        llm = vllm.LLM(model=self.model, **(self.engine_args or {}))
        for start in range(0, len(jobs), self.chunk_size):
            chunk = jobs[start : start + self.chunk_size]
            p = chunk[0].params
            sampling = [
                vllm.SamplingParams(temperature=p.temperature, max_tokens=p.max_tokens, seed=j.seed, stop=list(p.stop))
                for j in chunk
            ]
            started = time.time()
            if isinstance(chunk[0].prompt, list):
                cont = chunk[0].continue_final
                outs = llm.chat(
                    [j.prompt for j in chunk],
                    sampling,
                    use_tqdm=False,
                    continue_final_message=cont,
                    add_generation_prompt=not cont,
                )
            else:
                outs = llm.generate([j.prompt for j in chunk], sampling, use_tqdm=False)
            for job, out in zip(chunk, outs):
                c = out.outputs[0]
                on_result(
                    job,
                    Result(
                        c.text,
                        c.finish_reason,
                        len(out.prompt_token_ids),
                        len(c.token_ids),
                        started_at=started,
                        finished_at=time.time(),
                    ),
                )


def make_backend(**options) -> VLLMBackend:
    """Backend factory used by :func:`training.annotate.backends.load_backend`."""
    return VLLMBackend(**options)
