"""The one batched HF generation: left padding, batches of similar length, eos-aware decoding.

Used by the student's self-refine answers (training/generation/student.py) and by the hf
teacher backend (training/annotate/backends/hf.py). A decoder-only model continues the last
real token, so prompts are padded on the left; prompts of similar length are batched together
(longest first, so that a batch too large for memory fails at once) to waste little compute
on padding. A completion that ends without the end-of-sequence token used the whole budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Completion:
    """One generated continuation.

    Attributes:
        text: Decoded new tokens (special tokens skipped), up to and including end-of-sequence.
        stopped: The model emitted end-of-sequence (False: the token budget ran out).
        prompt_tokens: Prompt length in tokens (padding excluded).
        completion_tokens: New tokens up to and including end-of-sequence.
    """

    text: str
    stopped: bool
    prompt_tokens: int
    completion_tokens: int


#: ``on_batch(indices, completions)``: called after each batch with the prompts' input indices.
OnBatch = Callable[[list[int], list[Completion]], None]


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (longest first), covering every index once.

    >>> length_batches([5, 1, 9, 3], 2)
    [[2, 0], [3, 1]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    *,
    temperature: float = 0.0,
    seed: int | None = None,
    add_special_tokens: bool = True,
    desc: str | None = None,
    on_batch: OnBatch | None = None,
) -> list[Completion]:
    """Continuations of ``prompts`` (greedy unless ``temperature`` > 0), in input order.

    Args:
        model: A causal LM (a PEFT model too); put in eval mode for the call and restored.
        tokenizer: Its tokenizer; a pad token is set from end-of-sequence when it has none.
        prompts: Prompt texts.
        max_new_tokens: Budget per prompt.
        batch_size: Prompts generated together.
        temperature: Sampling temperature (0: greedy).
        seed: Seeds each batch's sampling (with the batch's position), for repeatable samples.
        add_special_tokens: False for text a chat template already rendered with its special tokens.
        desc: Progress bar label (None: no bar).
        on_batch: Called after each batch, so a caller can commit results as they come.
    """
    import torch
    from tqdm.auto import tqdm

    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    encoded = [tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"] for p in prompts]
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    out: list[Completion | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        batches = length_batches([len(e) for e in encoded], batch_size)
        for n, batch in enumerate(tqdm(batches, desc=desc, disable=desc is None)):
            padded = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt").to(device)
            if seed is not None:
                torch.manual_seed(seed + n * batch_size)
            with torch.no_grad():
                ids = model.generate(
                    **padded, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling
                )
            new = ids[:, padded["input_ids"].shape[1] :].tolist()
            done = [_decode(tokenizer, row, len(encoded[i])) for i, row in zip(batch, new)]
            for i, completion in zip(batch, done):
                out[i] = completion
            if on_batch is not None:
                on_batch(batch, done)
    finally:
        model.train(was_training)
    return out  # type: ignore[return-value]


def _decode(tokenizer, row: list[int], prompt_tokens: int) -> Completion:
    """New tokens up to end-of-sequence (or all of them but padding) as a :class:`Completion`."""
    eos = tokenizer.eos_token_id
    stop = row.index(eos) + 1 if eos in row else None
    tokens = row[:stop] if stop else [t for t in row if t != tokenizer.pad_token_id]
    return Completion(tokenizer.decode(tokens, skip_special_tokens=True), stop is not None, prompt_tokens, len(tokens))
