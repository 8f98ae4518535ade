"""The student answering prompts: batched greedy generation, HF or vLLM.

Decoding follows what lm-eval does for the suite's tasks -- greedy, at most the task's
``max_gen_toks`` new tokens, ended at the suite's stop sequences -- so the answers the student
is trained to prefer are the answers it would give under evaluation. The generation itself is
the one HF path (training/generation/hf.py, continuous batching) and the one vLLM path
(training/generation/vllm_engine.py) that the annotate backends use too.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from aligncot_tasks.prompts import STOP_SEQUENCES
from training.errors import UserError
from training.generation import hf, vllm_engine
from training.generation.stops import cut_at_stop


def choose_backend(requested: str, cuda: bool) -> str:
    """``hf`` or ``vllm``: vLLM only when asked for, or on ``auto`` when installed and CUDA is there.

    >>> choose_backend("auto", cuda=False)
    'hf'
    >>> choose_backend("hf", cuda=True)
    'hf'
    """
    installed = importlib.util.find_spec("vllm") is not None
    if requested == "vllm":
        if not installed:
            raise UserError("generation_backend=vllm but vLLM is not installed (pip install aligncot[vllm])")
        return "vllm"
    return "vllm" if requested == "auto" and installed and cuda else "hf"


def generate_hf(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    desc: str = "generating",
    *,
    temperature: float = 0.0,
    seed: int | None = None,
) -> list[str]:
    """Continuations of ``prompts`` with a (PEFT) HF model, in input order, cut at the suite's stops.

    Greedy unless ``temperature`` > 0; ``seed`` makes sampled answers repeatable. ``batch_size``
    requests decode at once on the continuous-batching engine (training/generation/engine.py).
    """
    return generate_hf_each(
        model, tokenizer, prompts, [max_new_tokens] * len(prompts), batch_size, desc, temperature=temperature, seed=seed
    )


def generate_hf_each(
    model,
    tokenizer,
    prompts: Sequence[str],
    budgets: Sequence[int],
    batch_size: int,
    desc: str = "generating",
    *,
    temperature: float = 0.0,
    seed: int | None = None,
) -> list[str]:
    """:func:`generate_hf` with a ``max_new_tokens`` budget per prompt (each task's ``max_gen_toks``)."""
    completions = hf.generate(
        model,
        tokenizer,
        prompts,
        budgets,
        batch_size,
        stop=tuple(STOP_SEQUENCES),
        temperature=temperature,
        seed=seed,
        desc=desc,
    )
    return [cut_at_stop(c.text)[0] for c in completions]


def generate_vllm(
    base_model: str, adapter_dir: str, prompts: Sequence[str], budgets: Sequence[int], max_lora_rank: int
) -> list[str]:
    """Greedy continuations with vLLM serving the base and the LoRA adapter (GPU machines).

    Args:
        budgets: ``max_new_tokens`` per prompt.
    """
    from vllm import SamplingParams

    params = [SamplingParams(temperature=0.0, max_tokens=b, stop=list(STOP_SEQUENCES)) for b in budgets]
    llm = vllm_engine.engine(base_model, enable_lora=True, max_lora_rank=max_lora_rank)
    outputs = vllm_engine.generate(llm, prompts, params, lora=("student", adapter_dir))
    return [cut_at_stop(o.text)[0] for o in outputs]


#: Free the engine's GPU memory before training starts.
release_vllm = vllm_engine.release
