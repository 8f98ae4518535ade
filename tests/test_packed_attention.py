"""``sdpa_varlen`` computes what each example alone computes, and falls back to SDPA elsewhere (fast)."""

from __future__ import annotations

import pytest
import torch
from train_support import TINY_RECIPES

from training.distill import packed_attention, sft
from training.distill.recipes import SFTRecipe, load_recipe

#: Example lengths packed into one row: a 1-token example, a long one, several short ones.
PACKINGS = [[7, 12, 5], [1, 20], [30], [3, 3, 3, 3, 4]]


@pytest.fixture(scope="module")
def models(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return {
        impl: AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=impl)
        for impl in ("sdpa", packed_attention.NAME)
    }


def packed_row(lengths: list[int], seed: int = 0) -> dict:
    """A padding-free row as trl's collator builds it (position_ids restart; cu_seq_lens)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 200, (1, sum(lengths)), generator=gen)
    cu = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    return {
        "input_ids": ids,
        "position_ids": torch.cat([torch.arange(n) for n in lengths])[None],
        "cu_seq_lens_q": cu,
        "cu_seq_lens_k": cu,
        "max_length_q": max(lengths),
        "max_length_k": max(lengths),
    }


def logits_and_grad(model, **inputs) -> tuple[torch.Tensor, torch.Tensor]:
    model.zero_grad()
    out = model(**inputs, labels=inputs["input_ids"], use_cache=False)
    out.loss.backward()
    return out.logits.detach(), model.model.layers[0].self_attn.q_proj.weight.grad.clone()


@pytest.mark.parametrize("lengths", PACKINGS, ids=str)
@pytest.mark.parametrize("boundaries", ["cu_seq_lens", "position_ids"])
def test_packed_row_equals_each_example_alone(models, lengths, boundaries):
    row = packed_row(lengths)
    if boundaries == "position_ids":  # no collator kwargs: boundaries come from the positions
        row = {k: row[k] for k in ("input_ids", "position_ids")}
    alone = torch.cat(
        [models["sdpa"](input_ids=ids[None]).logits.detach() for ids in row["input_ids"][0].split(lengths)], dim=1
    )
    varlen, varlen_grad = logits_and_grad(models[packed_attention.NAME], **row)
    masked, masked_grad = logits_and_grad(models["sdpa"], **row)  # transformers' block-diagonal mask
    torch.testing.assert_close(varlen, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(varlen, masked, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(varlen_grad, masked_grad, atol=1e-6, rtol=1e-4)


def test_padded_batch_and_generation_fall_back_to_sdpa(models):
    ids = packed_row([9, 5])["input_ids"]
    padded = torch.stack([ids[0, :9], torch.cat([ids[0, 9:], torch.zeros(4, dtype=torch.long)])])
    mask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4])
    got = models[packed_attention.NAME](input_ids=padded, attention_mask=mask).logits
    want = models["sdpa"](input_ids=padded, attention_mask=mask).logits
    torch.testing.assert_close(got[mask.bool()], want[mask.bool()], atol=1e-5, rtol=1e-5)
    greedy = {"max_new_tokens": 6, "do_sample": False}
    assert torch.equal(
        models[packed_attention.NAME].generate(ids[:, :9], **greedy), models["sdpa"].generate(ids[:, :9], **greedy)
    )


def test_sft_uses_varlen_attention_for_packing_on_cpu_only():
    required = ["base_model=b", "data=d", "output_dir=o"]
    args, model_args = load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", required)
    assert sft.attention(args, model_args, cuda=False) == packed_attention.NAME
    assert sft.attention(args, model_args, cuda=True) is None
    unpacked = load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", [*required, "packing=false"])
    assert sft.attention(*unpacked, cuda=False) is None
    eager = load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", [*required, "attn_implementation=eager"])
    assert sft.attention(*eager, cuda=False) == "eager"


def test_sliding_window_models_keep_sdpa_masks():
    from transformers import MistralConfig, MistralForCausalLM

    cfg = MistralConfig(
        vocab_size=256,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        sliding_window=4,
    )
    torch.manual_seed(0)
    model = MistralForCausalLM(cfg).eval()
    row = packed_row([9, 6])
    want = model(**row, use_cache=False).logits  # built with the default attention: sdpa
    model.set_attn_implementation(packed_attention.NAME)
    torch.testing.assert_close(model(**row, use_cache=False).logits, want, atol=1e-5, rtol=1e-5)
