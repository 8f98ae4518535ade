"""The one vLLM path: an offline engine per model, plain or chat prompts, optionally a LoRA adapter.

Used by the student's self-refine answers (base + SFT adapter) and by the vllm teacher backend
(GPU machines with the ``vllm`` extra only). Building an engine loads the whole model, so one
is kept per ``(model, engine arguments)`` until :func:`release` frees it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

from training import device


@dataclass(frozen=True)
class Output:
    """One vLLM completion: text, ``finish_reason`` (``stop``/``length``) and token counts."""

    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@functools.cache
def _engine(model: str, engine_args_json: str):
    from vllm import LLM

    return LLM(model=model, **json.loads(engine_args_json))


def engine(model: str, **engine_args):
    """The (cached) ``vllm.LLM`` for ``model`` built with ``engine_args``."""
    return _engine(model, json.dumps(engine_args, sort_keys=True))


def generate(
    llm,
    prompts: Sequence,
    sampling: Sequence,
    *,
    chat: bool = False,
    continue_final: bool = False,
    lora: tuple[str, str] | None = None,
) -> list[Output]:
    """Generate with ``llm``: one ``vllm.SamplingParams`` per prompt, in input order.

    Args:
        llm: From :func:`engine`.
        prompts: Texts, or (with ``chat``) message lists rendered by the model's chat template.
        sampling: ``vllm.SamplingParams`` per prompt.
        chat: Prompts are chat messages.
        continue_final: Continue an open final assistant turn instead of opening a new one.
        lora: ``(name, adapter_dir)`` of a LoRA adapter to serve over the base.
    """
    extra = {}
    if lora is not None:
        from vllm.lora.request import LoRARequest

        extra["lora_request"] = LoRARequest(lora[0], 1, lora[1])
    if chat:
        outs = llm.chat(
            list(prompts),
            list(sampling),
            use_tqdm=False,
            continue_final_message=continue_final,
            add_generation_prompt=not continue_final,
            **extra,
        )
    else:
        outs = llm.generate(list(prompts), list(sampling), use_tqdm=False, **extra)
    return [
        Output(o.outputs[0].text, o.outputs[0].finish_reason, len(o.prompt_token_ids), len(o.outputs[0].token_ids))
        for o in outs
    ]


def release() -> None:
    """Free every engine's GPU memory (before training starts)."""
    _engine.cache_clear()
    device.free_memory()
