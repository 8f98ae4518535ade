"""What to ask the teacher: one :class:`Job` per (training question, sample).

The prompt is the suite's own -- :func:`aligncot_tasks.suite.render_prompt` for a
completions endpoint, :func:`aligncot_tasks.suite.chat_messages` for a chat endpoint --
so the teacher answers exactly the question a student is later evaluated on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from aligncot_tasks import suite
from aligncot_tasks.prompts import STOP_SEQUENCES
from aligncot_tasks.suite import TaskSpec
from training.annotate.store import job_key

#: How a chat request carries a CoT task's trigger. ``user``: one user turn holding the
#: plain-text prompt (trigger included) -- every endpoint accepts it. ``continue``: the
#: suite's messages with the assistant turn left open for the teacher to continue, as lm-eval
#: does under ``--apply_chat_template``; needs a server that takes vLLM's
#: ``continue_final_message`` request field (OpenAI and ``transformers serve`` reject it).
PREFILL_MODES = ("user", "continue")


@dataclass(frozen=True)
class GenParams:
    """Generation parameters; all of them enter every job's key.

    Attributes:
        temperature: Sampling temperature (0: greedy).
        max_tokens: Completion budget in tokens.
        seed: Base seed; sample ``i`` of a question is generated with ``seed + i``.
        chat: Chat messages (True) or a raw completion prompt (False).
        prefill: One of :data:`PREFILL_MODES` (chat only).
        stop: Generation ends at the first of these -- lm-eval's ``until`` for the suite's
            tasks, so a teacher that goes on to invent the next question is cut as a student is.
    """

    temperature: float
    max_tokens: int
    seed: int | None
    chat: bool
    prefill: str = "user"
    stop: tuple[str, ...] = tuple(STOP_SEQUENCES)

    def __post_init__(self) -> None:
        if self.prefill not in PREFILL_MODES:
            raise ValueError(f"prefill must be one of {PREFILL_MODES}, not {self.prefill!r}")
        if self.max_tokens < 1 or self.temperature < 0:
            raise ValueError("max_tokens must be >= 1 and temperature >= 0")


@dataclass(frozen=True)
class Job:
    """One request to the teacher.

    Attributes:
        key: Store key (:func:`training.annotate.store.job_key`).
        task: Suite task whose prompt and scorer apply.
        doc_id: Stable id of the row (:func:`doc_id`).
        sample: Sample index, 0..K-1.
        doc: The dataset row.
        prompt: A prompt string, or a list of chat messages.
        params: Generation parameters.
    """

    key: str
    task: str
    doc_id: str
    sample: int
    doc: dict
    prompt: str | list[dict]
    params: GenParams

    @property
    def seed(self) -> int | None:
        """The seed of this sample (distinct samples must not share one)."""
        return None if self.params.seed is None else self.params.seed + self.sample

    @property
    def continue_final(self) -> bool:
        """Whether the chat prompt ends in an open assistant turn to be continued."""
        return isinstance(self.prompt, list) and self.prompt[-1]["role"] == "assistant"


def doc_id(split: str, index: int, doc: dict) -> str:
    """Stable row id: split, position and a hash of the row's content.

    The hash makes a changed or reordered dataset visible instead of silently mixing
    annotations of different rows under one id.

    >>> doc_id("train", 7, {"q": "x"})
    'train-000007-9fcde69f'
    """
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{split}-{index:06d}-{digest[:8]}"


def request_prompt(spec: TaskSpec, doc: dict, params: GenParams) -> str | list[dict]:
    """The prompt as sent: the suite's plain text, or its chat messages.

    With ``prefill="user"`` a CoT prompt becomes one user turn holding
    :func:`~aligncot_tasks.suite.render_prompt` (the zero-shot prompt plus the trigger).
    """
    if not params.chat:
        return suite.render_prompt(spec, doc)
    messages = suite.chat_messages(spec, doc)
    if messages[-1]["role"] == "assistant" and params.prefill == "user":
        return [{"role": "user", "content": suite.render_prompt(spec, doc)}]
    return messages


def build_jobs(
    spec: TaskSpec, rows: Sequence[dict], split: str, params: GenParams, samples: int, backend: str, model: str
) -> list[Job]:
    """Jobs for ``samples`` answers to each row, in row order.

    Args:
        spec: A zs or cot task of the suite.
        rows: The split's rows (hub schema), in split order.
        split: Split name (part of the doc ids).
        params: Generation parameters.
        samples: Answers per question (K).
        backend: Backend name (part of the key).
        model: Model name (part of the key).
    """
    key_params = {
        "temperature": params.temperature,
        "max_tokens": params.max_tokens,
        "seed": params.seed,
        "chat": params.chat,
        "stop": list(params.stop),
    }
    jobs = []
    for index, doc in enumerate(rows):
        prompt = request_prompt(spec, doc, params)
        did = doc_id(split, index, doc)
        for sample in range(samples):
            key = job_key(backend, model, prompt, key_params, sample)
            jobs.append(Job(key, spec.name, did, sample, doc, prompt, params))
    return jobs
