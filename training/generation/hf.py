"""The one local HF generation call: tokenize, run the continuous-batching engine, report.

Used by the student's self-refine answers (training/generation/student.py) and by the hf
teacher backend (training/annotate/backends/hf.py). Requests run on
:mod:`training.generation.engine`: at most ``batch_size`` decode at once, and each leaves the
batch as soon as it emits end-of-sequence, meets a stop string or spends its budget, so one
long answer no longer holds a whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from training.generation import engine


@dataclass(frozen=True)
class Completion:
    """One generated continuation.

    Attributes:
        text: Decoded new tokens (special tokens skipped), cut before the first stop string.
        stopped: It ended on end-of-sequence or a stop string (False: the token budget ran out).
        prompt_tokens: Prompt length in tokens.
        completion_tokens: New tokens computed.
    """

    text: str
    stopped: bool
    prompt_tokens: int
    completion_tokens: int


#: ``on_batch(indices, completions)``: called as requests finish, with the prompts' input indices.
OnBatch = Callable[[list[int], list[Completion]], None]


def generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int | Sequence[int],
    batch_size: int,
    *,
    stop: Sequence[str] = (),
    temperature: float = 0.0,
    seed: int | None = None,
    add_special_tokens: bool = True,
    desc: str | None = None,
    on_batch: OnBatch | None = None,
) -> list[Completion]:
    """Continuations of ``prompts`` (greedy unless ``temperature`` > 0), in input order.

    Args:
        model: A causal LM (a PEFT model too); put in eval mode for the call and restored.
        tokenizer: Its tokenizer.
        prompts: Prompt texts.
        max_new_tokens: Budget per prompt: one for all, or one each.
        batch_size: Most prompts decoding at once.
        stop: Stop strings: a continuation ends at the first and is cut before it.
        temperature: Sampling temperature (0: greedy).
        seed: Seeds the call's sampling, for repeatable samples.
        add_special_tokens: False for text a chat template already rendered with its special tokens.
        desc: Progress bar label (None: no bar).
        on_batch: Called as requests finish, so a caller can commit results as they come.
    """
    budgets = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    if len(budgets) != len(prompts):
        raise ValueError(f"{len(budgets)} budgets for {len(prompts)} prompts")
    requests = [
        engine.Request(tokenizer(p, add_special_tokens=add_special_tokens)["input_ids"], b, tuple(stop))
        for p, b in zip(prompts, budgets)
    ]

    def report(i: int, out: engine.Output) -> None:
        if on_batch is not None:
            on_batch([i], [_completion(out)])

    outs = engine.generate(
        model,
        tokenizer,
        requests,
        max_in_flight=batch_size,
        temperature=temperature,
        seed=seed,
        on_result=report,
        desc=desc,
    )
    return [_completion(o) for o in outs]


def _completion(out: engine.Output) -> Completion:
    return Completion(out.text, out.finish_reason != "length", out.prompt_tokens, out.completion_tokens)
