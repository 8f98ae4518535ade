"""lm-eval model ``hf-continuous``: lm-eval's ``HFLM`` whose ``generate_until`` runs on the engine.

Everything but generation is ``HFLM`` unchanged: model arguments (``pretrained``, ``peft``,
``dtype``, ``device``, ...), the chat template, ``loglikelihood`` and its batching. Generation
requests go to :mod:`training.generation.engine` instead of padded ``model.generate``
batches: ``batch_size`` is the most sequences decoding at once, and each request leaves the
batch at its own end-of-sequence, stop string (lm-eval's ``until``, plus the end-of-sequence
text as ``HFLM`` adds it) or ``max_gen_toks``. Contexts are encoded one by one exactly as
``HFLM`` encodes a batch (same special tokens, same left truncation to ``max_length -
max_gen_toks``) and the text is post-processed by lm-eval's own function, so a greedy answer
differs from ``hf``'s only where padding changes fp rounding.

lm-eval 0.4.13 has no plugin entry points: importing this module registers the name, and
``aligncot eval`` imports it before it builds a model. Requests whose model uses thinking
tokens (``think_end_token``) go to ``HFLM`` itself (stop strings must not end the reasoning).
"""

from __future__ import annotations

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from lm_eval.models.utils import handle_stop_sequences, normalize_gen_kwargs, postprocess_generated_text

from training.generation import engine

#: Sequences in flight when lm-eval's batch size is ``auto``: the fastest measured on CPU.
DEFAULT_IN_FLIGHT = 32


@register_model("hf-continuous")
class ContinuousHFLM(HFLM):
    """``HFLM`` with continuous-batching generation (same constructor arguments)."""

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        """Generate every request on the engine; one engine call per distinct ``gen_kwargs``."""
        if self.think_end_token is not None or self.backend != "causal":
            return super().generate_until(requests, disable_tqdm)
        groups: dict[str, list[int]] = {}
        for i, req in enumerate(requests):
            groups.setdefault(repr(sorted(req.args[1].items())), []).append(i)
        res: list[str | None] = [None] * len(requests)
        for indices in groups.values():
            texts = self._generate_group([requests[i].args for i in indices], disable_tqdm)
            for i, text in zip(indices, texts):
                res[i] = text
                self.cache_hook.add_partial("generate_until", requests[i].args, text)
        return res  # type: ignore[return-value]

    def in_flight(self) -> int:
        """Most sequences decoding at once: the batch size, or :data:`DEFAULT_IN_FLIGHT` for ``auto``."""
        return DEFAULT_IN_FLIGHT if self.batch_size == "auto" else int(self.batch_size)

    def _generate_group(self, args: list[tuple[str, dict]], disable_tqdm: bool) -> list[str]:
        """Texts for ``(context, gen_kwargs)`` pairs that share one ``gen_kwargs``."""
        eos = self.tok_decode(self.eot_token_id, skip_special_tokens=False)
        kwargs = normalize_gen_kwargs(args[0][1], self.max_gen_toks)
        until = handle_stop_sequences(kwargs.pop("until", None), eos=eos)
        max_gen_toks = kwargs.pop("max_gen_toks")
        temperature = float(kwargs.get("temperature") or 0.0) if kwargs.get("do_sample") else 0.0
        max_ctx_len = self.max_length - max_gen_toks
        if max_ctx_len <= 0:
            raise ValueError(f"max_gen_toks={max_gen_toks} leaves no room for a context (max_length={self.max_length})")
        requests = []
        for context, _ in args:
            ids, _mask = self.tok_batch_encode([context], left_truncate_len=max_ctx_len, truncation=self.truncation)
            requests.append(engine.Request(ids[0].tolist(), max_gen_toks, tuple(s for s in until if s)))
        desc = None if disable_tqdm or self.rank != 0 else "Running generate_until requests (continuous)"
        outs = engine.generate(
            self.model, self.tokenizer, requests, max_in_flight=self.in_flight(), temperature=temperature, desc=desc
        )
        return [postprocess_generated_text(o.text, until, None) for o in outs]
