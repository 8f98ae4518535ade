"""A left-padded decoding batch that rows leave and join: the engine's KV cache.

Every row's tokens are right-aligned in one ``DynamicCache``, so a decode step is one forward
of ``[rows, 1]`` tokens over ``[rows, columns]`` keys, exactly as ``model.generate`` runs a
left-padded batch. What ``model.generate`` cannot do is change the rows while decoding; here

- :meth:`PaddedBatch.keep` drops finished rows (a batch-dimension select of every layer), then
  the leading columns that no remaining row uses, so the columns stay the longest live row's
  length instead of growing with every request that ever ran;
- :meth:`PaddedBatch.prefill` builds a batch from new prompts (one padded forward) and
  :meth:`PaddedBatch.join` appends it, left-padding whichever side is shorter.

Each row carries its own position ids (its count of real tokens), because a row's physical
column is not its position once padding is on its left. Padding enters only as masked keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import DynamicCache


@dataclass
class PaddedBatch:
    """Rows decoding together.

    Attributes:
        cache: The ``DynamicCache`` holding every row's keys and values, right-aligned.
        mask: ``[rows, columns]`` attention mask (1: a real token, 0: left padding).
        next_position: ``[rows]`` position id of each row's next token (its real length).
    """

    cache: DynamicCache
    mask: torch.Tensor
    next_position: torch.Tensor

    @property
    def rows(self) -> int:
        """Number of rows."""
        return int(self.mask.shape[0])

    @property
    def columns(self) -> int:
        """Physical length of the cache (the longest row's real length)."""
        return int(self.mask.shape[1])

    @classmethod
    def prefill(cls, model, prompts: Sequence[Sequence[int]], pad_id: int) -> tuple[PaddedBatch, torch.Tensor]:
        """Run the prompts through ``model`` as one left-padded batch.

        Args:
            model: A causal LM (or a PEFT model over one).
            prompts: Token ids of each prompt (non-empty).
            pad_id: Id written into the padding (masked out; any valid id).

        Returns:
            The batch, and the ``[rows, vocab]`` logits of each prompt's next token.
        """
        import torch
        from transformers import DynamicCache

        device = model.device
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device=device)
        mask = torch.zeros((len(prompts), width), dtype=torch.long, device=device)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long, device=device)
            mask[row, width - len(prompt) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        logits = model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1, :]
        return cls(cache, mask, mask.sum(-1)), logits

    def step(self, model, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token per row (``[rows]`` ids) and return the ``[rows, vocab]`` next logits."""
        import torch

        self.mask = torch.cat([self.mask, self.mask.new_ones((self.rows, 1))], dim=1)
        logits = model(
            input_ids=tokens[:, None],
            attention_mask=self.mask,
            position_ids=self.next_position[:, None],
            cache=self.cache,
            use_cache=True,
        ).logits[:, -1, :]
        self.next_position = self.next_position + 1
        return logits

    def keep(self, rows: Sequence[int]) -> None:
        """Keep only ``rows`` (in that order; at least one), then drop the columns no kept row uses."""
        import torch

        index = torch.tensor(list(rows), dtype=torch.long, device=self.mask.device)
        self.mask = self.mask.index_select(0, index)
        self.next_position = self.next_position.index_select(0, index)
        # Rows are right-aligned, so the unused columns are the leading ones.
        unused = self.columns - int(self.next_position.max())
        self.mask = self.mask[:, unused:]
        for layer in self.cache.layers:
            if getattr(layer, "keys", None) is not None and layer.keys.numel():
                layer.keys = layer.keys.index_select(0, index)[:, :, unused:]
                layer.values = layer.values.index_select(0, index)[:, :, unused:]

    def join(self, other: PaddedBatch) -> None:
        """Append ``other``'s rows after this batch's, left-padding the shorter side."""
        import torch

        width = max(self.columns, other.columns)

        def widen(tensor: torch.Tensor, dim: int) -> torch.Tensor:
            missing = width - tensor.shape[dim]
            if not missing:
                return tensor
            shape = list(tensor.shape)
            shape[dim] = missing
            return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)

        self.mask = torch.cat([widen(self.mask, 1), widen(other.mask, 1)], dim=0)
        self.next_position = torch.cat([self.next_position, other.next_position])
        for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True):
            mine.keys = torch.cat([widen(mine.keys, 2), widen(theirs.keys, 2)], dim=0)
            mine.values = torch.cat([widen(mine.values, 2), widen(theirs.values, 2)], dim=0)
