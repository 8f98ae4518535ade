"""SFT whose output layer scores only the positions the loss reads (the completions).

trl 1.16's ``SFTTrainer`` never builds full logits: it patches the model with a fused LM head
(``trl.trainer.utils.add_fused_lm_head``) that turns the backbone's last hidden states into
per-token log-probabilities, entropies and top-1 hits, tile by tile. With Triton (CUDA, XPU) it
projects only the positions whose next-token label is not ``-100``; on any other device,
CPU included, it projects every position and zeroes the ignored ones afterwards. With
completion-only loss the ignored positions are the prompts, so on CPU most of the output
layer's forward and backward (a ``vocab x hidden`` matmul per token) is thrown away.

:class:`CompletionLogitsSFTTrainer` hands that same head only the scored positions: a forward
hook on the backbone replaces its last hidden states by those at the positions whose next-token
label counts, gathered from every row of the batch into one row, and the model is called with
the matching labels as pre-shifted ``shift_labels``, which the fused head scores as they are
(trl's documented path for context parallelism). This is per row, so batches of several rows
of different lengths need no union of positions. The backbone itself (attention, packing,
``position_ids``) runs on the whole batch unchanged; only what reaches the head shrinks.
Everything downstream is trl's own ``compute_loss``: the token-mean loss (``num_items_in_batch``
under gradient accumulation, ``average_tokens_across_devices``), ``entropy``,
``mean_token_accuracy`` and ``num_tokens``, computed from the same per-token values minus the
zeros of the ignored positions.

trl's path is kept where the compact one does not apply: a ``compute_loss_func``, label
smoothing, a caller asking for the outputs (logits), prompt-learning PEFT (it pads the labels
itself), sequence or context parallelism (they shard and shift the labels themselves, as does a
collator that gives ``shift_labels``) and a batch without any scored token.
"""

from __future__ import annotations

import contextlib

import torch
from accelerate.utils import is_peft_model
from trl import SFTTrainer

#: The label trl's collator and transformers give to positions outside the loss.
IGNORE_INDEX = -100


def scored_positions(labels: torch.Tensor) -> torch.Tensor:
    """Which positions' hidden states the loss reads: position ``t`` predicts label ``t + 1``.

    Args:
        labels: ``(batch, seq_len)`` labels as the collator builds them (unshifted).

    Returns:
        A ``(batch, seq_len - 1)`` boolean mask, the one trl's fused head derives.

    >>> scored_positions(torch.tensor([[-100, -100, 5, 6], [-100, 7, 8, -100]])).int().tolist()
    [[0, 1, 1], [1, 1, 0]]
    """
    return labels[:, 1:] != IGNORE_INDEX


class CompletionLogitsSFTTrainer(SFTTrainer):
    """trl's ``SFTTrainer`` whose LM head projects only the scored (completion) positions.

    Same constructor, same loss, gradients and logged metrics as ``SFTTrainer``; see the
    module docstring for how and for the cases left to ``SFTTrainer``'s own path.

    >>> issubclass(CompletionLogitsSFTTrainer, SFTTrainer)
    True
    """

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """trl's ``compute_loss`` with only the scored positions' hidden states reaching the LM head."""
        labels = inputs.get("labels")
        if return_outputs or labels is None or "shift_labels" in inputs or not self._compact_head_applies():
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        keep = scored_positions(labels)
        if not keep.any():  # trl's own path turns an all-ignored batch into a differentiable zero
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        compact = {k: v for k, v in inputs.items() if k != "labels"}
        compact["shift_labels"] = labels[:, 1:][keep].unsqueeze(0)
        with _gathered_hidden_states(self._backbone(), keep):
            return super().compute_loss(model, compact, return_outputs, num_items_in_batch)

    def _compact_head_applies(self) -> bool:
        """Whether trl's loss here is the fused head's plain NLL over the labels we would compact."""
        if self.compute_loss_func is not None or self.label_smoother is not None:
            return False  # these losses read the full logits
        if is_peft_model(self.model) and self.model.active_peft_config.is_prompt_learning:
            return False  # virtual tokens: PEFT pads the labels to match, which shift_labels would bypass
        parallelism = getattr(self.accelerator, "parallelism_config", None)
        return not (parallelism is not None and (parallelism.cp_enabled or parallelism.sp_enabled))

    def _backbone(self) -> torch.nn.Module:
        """The module whose output the fused head reads: the base model's backbone (trl's ``base_model``)."""
        base = self.model.get_base_model() if is_peft_model(self.model) else self.model
        return base.base_model


@contextlib.contextmanager
def _gathered_hidden_states(backbone: torch.nn.Module, keep: torch.Tensor):
    """While open, ``backbone``'s ``last_hidden_state`` is ``(1, keep.sum(), hidden)``: position
    ``t`` of each row where ``keep[row, t]``, rows in order (the order of ``labels[:, 1:][keep]``).

    The gather is differentiable, so the gradient flows back to exactly those positions.
    """

    def gather(module, args, output):
        hidden = output.last_hidden_state
        output.last_hidden_state = hidden[:, :-1][keep.to(hidden.device)].unsqueeze(0)
        return output

    handle = backbone.register_forward_hook(gather)
    try:
        yield
    finally:
        handle.remove()
