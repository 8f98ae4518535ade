"""The student answering prompts: batched greedy generation, HF or vLLM.

Decoding follows what lm-eval does for the suite's tasks -- greedy, at most the task's
``max_gen_toks`` new tokens, cut at the suite's stop sequences -- so the answers the student
is trained to prefer are the answers it would give under evaluation. HF generation pads on
the left (a decoder-only model continues the last real token) and batches prompts of
similar length together to waste little compute on padding.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Sequence

from aligncot_tasks.prompts import STOP_SEQUENCES
from training.errors import UserError
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


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), covering every index once.

    >>> length_batches([5, 1, 9, 3], 2)
    [[2, 0], [3, 1]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def generate_hf(
    model, tokenizer, prompts: Sequence[str], max_new_tokens: int, batch_size: int, desc: str = "generating"
) -> list[str]:
    """Greedy continuations of ``prompts`` with a (PEFT) HF model, in input order."""
    import torch
    from tqdm.auto import tqdm

    tokenizer.padding_side = "left"
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    out: list[str | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for batch in tqdm(length_batches([len(e) for e in encoded], batch_size), desc=desc):
            padded = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(device)
            with torch.no_grad():
                ids = model.generate(
                    **padded, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
                )
            texts = tokenizer.batch_decode(ids[:, padded["input_ids"].shape[1] :], skip_special_tokens=True)
            for i, text in zip(batch, texts):
                out[i] = cut_at_stop(text)[0]
    finally:
        model.train(was_training)
    return out  # type: ignore[return-value]


@functools.cache
def _vllm_engine(base_model: str, max_lora_rank: int):
    """One vLLM engine per run (building it loads the whole model)."""
    from vllm import LLM

    return LLM(model=base_model, enable_lora=True, max_lora_rank=max_lora_rank)


def generate_vllm(
    base_model: str, adapter_dir: str, prompts: Sequence[str], budgets: Sequence[int], max_lora_rank: int
) -> list[str]:
    """Greedy continuations with vLLM serving the base and the LoRA adapter (GPU machines).

    Args:
        budgets: ``max_new_tokens`` per prompt.
    """
    from vllm import SamplingParams
    from vllm.lora.request import LoRARequest

    params = [SamplingParams(temperature=0.0, max_tokens=b, stop=list(STOP_SEQUENCES)) for b in budgets]
    engine = _vllm_engine(base_model, max_lora_rank)
    results = engine.generate(list(prompts), params, lora_request=LoRARequest("student", 1, adapter_dir))
    return [cut_at_stop(r.outputs[0].text)[0] for r in results]


def release_vllm() -> None:
    """Free the engine's GPU memory before training starts."""
    import gc

    _vllm_engine.cache_clear()
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
