"""The one continuous-batching engine: finished requests leave, waiting ones take their place.

Static batching (``model.generate`` on a padded batch) keeps every row decoding until the
batch's longest answer ends; with chain-of-thought answers a few rambling rows cost most of
the decode work. This engine keeps at most ``max_in_flight`` requests decoding; a request
leaves the batch at its end-of-sequence token, its first stop string or its own budget, and
waiting requests are prefilled and join once enough rows are free.

It is a small synchronous scheduler over a left-padded ``DynamicCache``
(:mod:`training.generation.padded_batch`), not transformers' own continuous batching
(``init_continuous_batching``). That one (paged cache, varlen attention, a background
thread) gives the same greedy tokens, but on CPU in fp32 it decodes at about half the
per-token rate of a padded batch of the same size (docs/pages/development.md, Engines, has
the measurement and its command), which cost more than the wasted decode it saves. A padded
batch decodes at ``model.generate``'s rate; dropping finished rows and the columns only they
used keeps its cost to the live rows.

- **stop strings**: after each token the tail of the request's text is checked; the text is
  cut before the first stop string and the request leaves at once (no token is computed past
  it);
- **per-request budgets**: each request carries its own ``max_new_tokens``;
- **PEFT adapters**: the (PEFT) model is called as it is, so its adapter applies;
- **sampling**: each request draws from its own generator, seeded from the call's seed and
  the request's index, so a seeded call gives each request the same tokens whatever it was
  batched with (up to the batch's fp rounding), and the schedule is a function of the tokens.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from training.generation.padded_batch import PaddedBatch

#: Free rows that trigger a refill, as a share of ``max_in_flight``: admitting waiting requests
#: one at a time would run a prefill forward and a cache copy for each; waiting for a few
#: free rows amortises both at the cost of a few idle rows.
REFILL_SHARE = 0.125


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
        completion_tokens: New tokens computed for this request (the stop string's included).
    """

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


#: ``on_result(index, output)``: called once per request as it finishes, with its input index.
OnResult = Callable[[int, Output], None]


@dataclass
class DecodeStats:
    """What a call decoded, for benchmarks: ``decoded`` counts every token computed."""

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
        seed: Seeds the sampling of this call (None: torch's global generator).
        on_result: Called as each request finishes, so a caller can commit results as they come.
        desc: Progress bar label (None: no bar).
        stats: Accumulates the tokens decoded (None: not counted).
    """
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be >= 1, got {max_in_flight}")
    if any(r.max_new_tokens < 1 or not len(r.prompt_ids) for r in requests):
        raise ValueError("every request needs a non-empty prompt and max_new_tokens >= 1")
    if not requests:
        return []
    import torch
    from tqdm.auto import tqdm

    eos = set(eos_ids(model, tokenizer))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(eos, default=0)
    pick = _Picker(temperature, seed, len(requests), model.device)
    refill = max(1, math.ceil(max_in_flight * REFILL_SHARE))
    waiting = deque(range(len(requests)))
    live: list[int] = []  # the request in each row of the batch
    tokens: list[list[int]] = [[] for _ in requests]
    out: list[Output | None] = [None] * len(requests)
    batch: PaddedBatch | None = None
    was_training = model.training
    model.eval()
    bar = tqdm(total=len(requests), desc=desc, disable=desc is None)
    try:
        with torch.inference_mode():
            while waiting or live:
                free = max_in_flight - len(live)
                if waiting and (free >= refill or not live):
                    new = [waiting.popleft() for _ in range(min(free, len(waiting)))]
                    joined, logits = PaddedBatch.prefill(model, [requests[i].prompt_ids for i in new], pad)
                    moved = new  # only the new rows have a new token this round
                    if batch is None:
                        batch = joined
                    else:
                        batch.join(joined)
                    live += new
                else:
                    assert batch is not None
                    last = torch.tensor([tokens[i][-1] for i in live], dtype=torch.long, device=model.device)
                    logits = batch.step(model, last)
                    moved = live
                for i, token in zip(moved, pick(logits, moved)):
                    tokens[i].append(token)
                    done = _finish(tokenizer, requests[i], tokens[i], eos)
                    if done is not None:
                        out[i] = done
                        bar.update(1)
                        if on_result is not None:
                            on_result(i, done)
                if any(out[i] is not None for i in live):
                    keep = [row for row, i in enumerate(live) if out[i] is None]
                    live = [live[row] for row in keep]
                    if live:
                        batch.keep(keep)
                    else:
                        batch = None
    finally:
        bar.close()
        model.train(was_training)
    if stats is not None:
        stats.decoded += sum(len(t) for t in tokens)
    return out  # type: ignore[return-value]


class _Picker:
    """Chooses each row's next token: argmax, or a draw from the request's own seeded generator."""

    def __init__(self, temperature: float, seed: int | None, n: int, device) -> None:
        import torch

        self.temperature = temperature
        self.generators = None
        if temperature > 0 and seed is not None:
            # One stream per request: its draws do not depend on which rows share its batch.
            self.generators = [torch.Generator(device=device).manual_seed(seed * 1_000_003 + i) for i in range(n)]

    def __call__(self, logits, requests: Sequence[int]) -> list[int]:
        import torch

        if self.temperature <= 0:
            return logits.argmax(-1).tolist()
        probs = torch.softmax(logits.float() / self.temperature, dim=-1)
        if self.generators is None:
            return torch.multinomial(probs, 1)[:, 0].tolist()
        return [int(torch.multinomial(p, 1, generator=self.generators[i])) for p, i in zip(probs, requests)]


def _finish(tokenizer, request: Request, tokens: list[int], eos: set[int]) -> Output | None:
    """The request's :class:`Output` once it ends (end-of-sequence, a stop string, its budget), else None."""
    ended = tokens[-1] in eos or len(tokens) >= request.max_new_tokens
    if not ended:
        if not request.stop:
            return None
        # Only the tail can hold a new stop string: a string of n characters spans <= n + 1 tokens.
        window = max(len(s) for s in request.stop) + 1
        if not cut_text(tokenizer.decode(tokens[-window:], skip_special_tokens=True), request.stop)[1]:
            return None
    text, stopped = cut_text(tokenizer.decode(tokens, skip_special_tokens=True), request.stop)
    if not stopped and not ended:
        return None  # the tail held a stop string only with the tokens before the window
    reason = "stop" if stopped else "eos" if tokens[-1] in eos else "length"
    return Output(text, reason, len(request.prompt_ids), len(tokens))
