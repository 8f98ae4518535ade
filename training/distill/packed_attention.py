"""``sdpa_varlen``: exact attention for packed padding-free rows that costs per example, on any device.

A packed padding-free batch is one row holding several examples, with ``position_ids``
restarting at 0 for each. transformers' ``sdpa`` keeps examples apart with a block-diagonal
mask over the whole row, so it computes the attention of every token against every token of
the row (``L**2`` for a row of ``L`` tokens) and masks most of it away; on CPU, where
``flash_attention_2`` does not exist, that dominates a small model's step. This
implementation runs SDPA's causal kernel on each example's slice instead (``sum(l_i**2)``),
taking the boundaries from trl's collator (``cu_seq_lens_q``) or from ``position_ids`` like
transformers does. Any call it cannot split exactly (a padding mask, a KV cache offset)
goes to plain ``sdpa`` unchanged, so the name is safe for evaluation and generation too.

Registered with transformers under :data:`NAME` on import; pass it as ``attn_implementation``.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

NAME = "sdpa_varlen"


def segment_bounds(position_ids: torch.Tensor) -> list[int]:
    """Start of each example in one packed row, plus the row length: a new example starts where a
    position is not its predecessor + 1 (transformers' ``find_packed_sequence_indices`` rule).

    >>> segment_bounds(torch.tensor([0, 1, 2, 0, 1, 0]))
    [0, 3, 5, 6]
    >>> segment_bounds(torch.tensor([5, 6, 7]))
    [0, 3]
    """
    starts = (torch.diff(position_ids) != 1).nonzero().flatten() + 1
    return [0, *starts.tolist(), int(position_ids.numel())]


def varlen_mask(
    *,
    attention_mask: torch.Tensor | None = None,
    q_length: int,
    kv_length: int,
    q_offset: int = 0,
    kv_offset: int = 0,
    **kwargs,
) -> torch.Tensor | None:
    """No mask where :func:`varlen_attention` applies causality per example itself, else SDPA's mask.

    Without a padding mask and with queries = keys (training, a cache-less forward) the only
    structure is "causal within each example", which the attention derives from the positions;
    building the dense ``L x L`` block-diagonal mask would cost as much as it saves. Sliding or
    chunked windows and custom mask functions (``use_vmap``) keep SDPA's mask, hence SDPA.
    """
    config = kwargs.get("config")
    plain_causal = not kwargs.get("use_vmap") and not any(
        getattr(config, name, None) for name in ("sliding_window", "attention_chunk_size")
    )
    if plain_causal and attention_mask is None and q_length == kv_length and q_offset == 0 and kv_offset == 0:
        return None
    return sdpa_mask(
        attention_mask=attention_mask,
        q_length=q_length,
        kv_length=kv_length,
        q_offset=q_offset,
        kv_offset=kv_offset,
        **kwargs,
    )


def varlen_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    cu_seq_lens_q: torch.Tensor | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Causal SDPA over each packed example separately; plain ``sdpa`` for anything else.

    Shapes as transformers' attention functions: ``query`` ``(batch, heads, L, dim)``, output
    ``(batch, L, heads, dim)``.
    """
    length = query.shape[2]
    if (
        attention_mask is not None
        or key.shape[2] != length
        or length <= 1
        or not getattr(module, "is_causal", True)
        or kwargs.get("is_causal") is False
    ):
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    kwargs.pop("is_causal", None)
    rows = []
    for b in range(query.shape[0]):
        if cu_seq_lens_q is not None and query.shape[0] == 1 and int(cu_seq_lens_q[-1]) == length:
            bounds = cu_seq_lens_q.tolist()  # trl's collator: already on the host, no per-layer sync
        elif position_ids is not None:
            bounds = segment_bounds(position_ids[min(b, position_ids.shape[0] - 1)])
        else:
            bounds = [0, length]
        q, k, v = query[b : b + 1], key[b : b + 1], value[b : b + 1]
        parts = [
            sdpa_attention_forward(module, q[:, :, s:e], k[:, :, s:e], v[:, :, s:e], None, is_causal=True, **kwargs)[0]
            for s, e in zip(bounds[:-1], bounds[1:])
            if e > s
        ]
        rows.append(parts[0] if len(parts) == 1 else torch.cat(parts, dim=1))
    return (rows[0] if len(rows) == 1 else torch.cat(rows, dim=0)), None


AttentionInterface.register(NAME, varlen_attention)
AttentionMaskInterface.register(NAME, varlen_mask)
