"""Teacher as a local transformers model: batched generation with left padding.

Prompts are sorted by length so a batch pads little, generated ``batch_size`` at a time
and reported one by one after each batch (each is committed at once by the caller). A
completion that ends without the end-of-sequence token used the whole budget and is
reported with ``finish_reason="length"``, as OpenAI-compatible servers do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from training.annotate.backends import BackendUnavailable, OnResult, Result, require
from training.annotate.jobs import Job


def chat_text(tokenizer, job: Job) -> str:
    """A chat prompt rendered by the model's template; an open assistant turn is continued."""
    return tokenizer.apply_chat_template(
        job.prompt,
        tokenize=False,
        continue_final_message=job.continue_final,
        add_generation_prompt=not job.continue_final,
    )


@dataclass
class HFBackend:
    """Local transformers teacher.

    Attributes:
        model: Model directory or hub id.
        batch_size: Prompts generated together.
        device: Torch device (None: CUDA when available, else CPU).
        dtype: Torch dtype name (``auto``, ``bfloat16``, ``float32``, ...).
    """

    model: str
    batch_size: int = 8
    device: str | None = None
    dtype: str = "auto"
    name: str = "hf"
    _loaded: tuple = field(default=(), repr=False)

    def __post_init__(self) -> None:
        require("torch", "pip install 'aligncot[train]'")

    def load(self):
        """Load (once) and return ``(model, tokenizer)``."""
        if not self._loaded:
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer
            except ImportError:
                raise BackendUnavailable(
                    "the hf backend needs torch and transformers: pip install 'aligncot[train]'"
                ) from None
            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            tokenizer = AutoTokenizer.from_pretrained(self.model)
            tokenizer.padding_side = "left"  # generated tokens must directly follow every prompt
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            model = AutoModelForCausalLM.from_pretrained(self.model, dtype=self.dtype).to(device).eval()
            self._loaded = (model, tokenizer)
        return self._loaded

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Generate every job, ``batch_size`` at a time, shortest prompts first."""
        import torch

        model, tokenizer = self.load()
        texts = {j.key: chat_text(tokenizer, j) if isinstance(j.prompt, list) else j.prompt for j in jobs}
        ordered = sorted(jobs, key=lambda j: len(texts[j.key]))
        for start in range(0, len(ordered), self.batch_size):
            batch = ordered[start : start + self.batch_size]
            started = time.time()
            chat = isinstance(batch[0].prompt, list)  # a chat template already placed special tokens
            enc = tokenizer(
                [texts[j.key] for j in batch], return_tensors="pt", padding=True, add_special_tokens=not chat
            ).to(model.device)
            params = batch[0].params
            sampling = (
                {"do_sample": True, "temperature": params.temperature}
                if params.temperature > 0
                else {"do_sample": False}
            )
            if params.seed is not None:
                torch.manual_seed(params.seed + start)
            with torch.no_grad():
                out = model.generate(
                    **enc, max_new_tokens=params.max_tokens, pad_token_id=tokenizer.pad_token_id, **sampling
                )
            new = out[:, enc["input_ids"].shape[1] :]
            finished = time.time()
            for job, row, mask in zip(batch, new.tolist(), enc["attention_mask"]):
                eos = tokenizer.eos_token_id
                stop = row.index(eos) + 1 if eos in row else None
                tokens = row[:stop] if stop else [t for t in row if t != tokenizer.pad_token_id]
                text = tokenizer.decode(tokens, skip_special_tokens=True)
                on_result(
                    job,
                    Result(
                        text,
                        "stop" if stop else "length",
                        int(mask.sum()),
                        len(tokens),
                        started_at=started,
                        finished_at=finished,
                    ),
                )


def make_backend(**options) -> HFBackend:
    """Backend factory used by :func:`training.annotate.backends.load_backend`."""
    return HFBackend(**options)
