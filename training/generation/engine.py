"""The one continuous-batching engine: finished requests leave, waiting ones take their place.

Static batching (``model.generate`` on a padded batch) keeps every row decoding until the
batch's longest answer ends; with chain-of-thought answers a few rambling rows cost most of
the decode work. This engine runs on transformers' own continuous batching
(``init_continuous_batching``: a paged KV cache, a FIFO scheduler, varlen attention), which
keeps at most ``max_in_flight`` requests decoding and admits a waiting one as soon as one
ends. It was chosen over a hand-written scheduler because, on CPU in fp32, it gives the same
greedy tokens as ``model.generate`` one prompt at a time (no padding enters the attention)
and shares the cache pages of a common prompt prefix (the chat system turn and the
instruction) between requests. What it lacks is added here:

- **stop strings**: each request streams its tokens; once the tail of its text holds a stop
  string the request is cancelled from outside (a few tokens may still be computed before the
  cancellation lands) and its text is cut at the first stop string;
- **per-request budgets**: each request is submitted with its own ``max_new_tokens``;
- **PEFT adapters**: a LoRA ``PeftModel`` injects its layers into the base model in place, so
  the engine drives ``get_base_model()`` and the adapter applies (no merged copy is needed);
- **cache sizing**: transformers sizes the cache from free GPU memory; here it is sized from
  the requests (``max_in_flight`` of the longest prompt + budget), which on CPU is also faster.

Sampling is seeded once per call (transformers seeds torch's global generator). Sampled
tokens depend on the batch each step is drawn in, so a seeded call is repeatable only when
the schedule is: sampled requests are therefore never cancelled from outside (they decode
to end-of-sequence or their budget, then are cut), which keeps the schedule a function of
the tokens alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Cache page size in tokens: small pages let requests share more of a common prompt prefix.
PAGE_SIZE = 32
#: Tokens one forward step may hold (prefill chunks plus one token per decoding request).
MAX_BATCH_TOKENS = 512


@dataclass(frozen=True)
class Request:
    """One prompt to continue.

    Attributes:
        prompt_ids: Prompt token ids (special tokens already placed).
        max_new_tokens: Budget of new tokens.
        stop: Strings that end the continuation (the text is cut before the first one).
    """

    prompt_ids: Sequence[int]
    max_new_tokens: int
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """One finished request.

    Attributes:
        text: Decoded new tokens (special tokens skipped), cut before the first stop string.
        finish_reason: ``eos`` (end-of-sequence token), ``stop`` (a stop string) or ``length``.
        prompt_tokens: Prompt length in tokens.
        completion_tokens: New tokens computed for this request (past a stop string too).
    """

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


#: ``on_result(index, output)``: called once per request as it finishes, with its input index.
OnResult = Callable[[int, Output], None]


@dataclass
class DecodeStats:
    """What a call decoded, for benchmarks: ``decoded`` counts tokens computed past a stop
    string too (until the cancellation landed), as far as the stream reported them."""

    decoded: int = 0


def cut_text(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` before the first of ``stop``, and whether one was found.

    >>> cut_text("B.\\nQ: next", ["\\nQ:"])
    ('B.', True)
    >>> cut_text("B.", ["\\nQ:"])
    ('B.', False)
    """
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def cache_blocks(longest: int, max_in_flight: int, page_size: int = PAGE_SIZE) -> int:
    """Cache pages for ``max_in_flight`` requests of ``longest`` tokens each, plus one spare each.

    >>> cache_blocks(100, 4, page_size=32)
    20
    """
    return max_in_flight * (math.ceil(longest / page_size) + 1)


def eos_ids(model, tokenizer) -> list[int]:
    """End-of-sequence ids ``model.generate`` stops at: the generation config's, and the tokenizer's."""
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = [configured] if isinstance(configured, int) else list(configured or [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def generate(
    model,
    tokenizer,
    requests: Sequence[Request],
    *,
    max_in_flight: int = 32,
    temperature: float = 0.0,
    seed: int | None = None,
    on_result: OnResult | None = None,
    desc: str | None = None,
    stats: DecodeStats | None = None,
) -> list[Output]:
    """Continue every request with continuous batching; outputs in input order.

    Args:
        model: A causal LM or a PEFT model over one, on its device and dtype; put in eval mode
            for the call and restored.
        tokenizer: Its tokenizer (decodes the new tokens).
        requests: Prompts with their budgets and stop strings.
        max_in_flight: Most requests decoding at once (lm-eval's ``batch_size``).
        temperature: Sampling temperature (0: greedy).
        seed: Seeds the sampling of this call.
        on_result: Called as each request finishes, so a caller can commit results as they come.
        desc: Progress bar label (None: no bar).
        stats: Accumulates the tokens decoded (None: not counted).
    """
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
    if not requests:
        return []
    import torch
    from tqdm.auto import tqdm

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    sampling = temperature > 0
    manager = base.init_continuous_batching(
        generation_config=_generation_config(model, tokenizer, requests, temperature),
        continuous_batching_config=_batching_config(requests, max_in_flight, seed, base.device),
    )
    out: list[Output | None] = [None] * len(requests)
    ids, eos = {}, set(eos_ids(model, tokenizer))
    decoded = [0] * len(requests)
    was_training = model.training
    model.eval()
    bar = tqdm(total=len(requests), desc=desc, disable=desc is None)
    pending = len(requests)
    try:
        with torch.no_grad():
            # Queued before the loop starts, so the first batch is the same on every run.
            for i, r in enumerate(requests):
                stream = bool(r.stop) and not sampling
                rid = manager.add_request(list(r.prompt_ids), f"r{i}", r.max_new_tokens, streaming=stream)
                ids[rid] = i
            manager.start()
            while pending:
                result = manager.get_result(timeout=1)
                if result is None:
                    _check_alive(manager)
                    continue
                i = ids[result.request_id]
                decoded[i] = max(decoded[i], len(result.generated_tokens))
                if out[i] is not None:
                    continue  # tokens still streamed before the cancellation landed
                done = _finish(tokenizer, requests[i], result, eos)
                if done is None:
                    continue
                if done.finish_reason == "stop" and not result.is_finished():
                    manager.cancel_request(result.request_id)
                out[i] = done
                pending -= 1
                bar.update(1)
                if on_result is not None:
                    on_result(i, done)
    finally:
        bar.close()
        manager.stop(block=True, hard_stop=pending > 0)  # after an error, drop the requests left
        manager.destroy()
        model.train(was_training)
    if stats is not None:
        stats.decoded += sum(decoded)
    return out  # type: ignore[return-value]


def _finish(tokenizer, request: Request, result, eos: set[int]) -> Output | None:
    """The request's :class:`Output` once it is finished or holds a stop string, else None."""
    tokens = list(result.generated_tokens)
    if result.error is not None:
        raise RuntimeError(f"generation failed: {result.error}")
    if not result.is_finished():
        # Only the tail can hold a new stop string: a string of n characters spans <= n + 1 tokens.
        window = max(len(s) for s in request.stop) + 1
        if not cut_text(tokenizer.decode(tokens[-window:], skip_special_tokens=True), request.stop)[1]:
            return None
    text, stopped = cut_text(tokenizer.decode(tokens, skip_special_tokens=True), request.stop)
    reason = "stop" if stopped else "eos" if tokens and tokens[-1] in eos else "length"
    return Output(text, reason, len(request.prompt_ids), len(tokens))


def _check_alive(manager) -> None:
    """Raise if the generation thread died (instead of waiting for results forever)."""
    error = manager.background_thread_status.fatal_error
    if error is not None or not manager.is_running():
        raise RuntimeError(f"the continuous batching loop stopped: {error!r}")


def _generation_config(model, tokenizer, requests: Sequence[Request], temperature: float):
    """A fresh config (the model's own sampling defaults must not leak in): greedy, or temperature only."""
    from transformers import GenerationConfig

    sampling = {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0} if temperature > 0 else {}
    return GenerationConfig(
        max_new_tokens=max(r.max_new_tokens for r in requests),
        eos_token_id=eos_ids(model, tokenizer),
        pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
        **({"do_sample": False} | sampling),
    )


def _batching_config(requests: Sequence[Request], max_in_flight: int, seed: int | None, device):
    """Cache and batch sizes from the requests, not from free memory; no CUDA graphs off CUDA."""
    from transformers import ContinuousBatchingConfig

    longest = max(len(r.prompt_ids) + r.max_new_tokens for r in requests)
    in_flight = min(max_in_flight, len(requests))
    return ContinuousBatchingConfig(
        page_size=PAGE_SIZE,
        num_blocks=cache_blocks(longest, in_flight),
        max_batch_tokens=max(MAX_BATCH_TOKENS, in_flight),
        max_requests_per_batch=in_flight,
        seed=seed,
        use_cuda_graph=False if getattr(device, "type", str(device)) != "cuda" else None,
    )
