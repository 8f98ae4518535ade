"""A round whose loss is the NLL alone trains pairs' chosen answers with SFTTrainer: the same loss
as trl's DPOTrainer with ``loss_type: [sft]`` on the same pairs, without the rejected answers and the
reference (training/distill/refine_sft.py)."""

from __future__ import annotations

import pytest
from test_ref_logps_cache import PAIRS, sft_adapter  # noqa: F401 (fixture)

from training.distill import refine_sft
from training.distill.recipes import DPORecipe, load_recipe


def recipe(tmp_path, adapter, run: str, *extra: str) -> DPORecipe:
    r, _ = load_recipe(
        DPORecipe,
        None,
        [
            "base_model=unused",
            "data=unused",
            f"sft_adapter={adapter}",
            f"output_dir={tmp_path / run}",
            "pairs=correct_vs_incorrect",
            "loss_type=[sft]",
            "loss_weights=[1.0]",
            "precompute_ref_log_probs=false",
            "max_length=64",
            f"per_device_eval_batch_size={len(PAIRS)}",  # one evaluation batch: one token mean
            "report_to=[none]",
            "use_cpu=true",
            "eval_strategy='no'",
            "load_best_model_at_end=false",
            "activation_checkpointing=false",
            *extra,
        ],
    )
    return r


@pytest.mark.slow  # two trainers on the tiny model, ~10 s
def test_nll_alone_on_pairs_is_the_loss_dpo_gives_them(tmp_path, tiny_model_dir, sft_adapter):  # noqa: F811
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer

    from training.distill import model_loading

    pairs = Dataset.from_list(PAIRS)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    def model():
        return model_loading.load_trainable_adapter(AutoModelForCausalLM.from_pretrained(tiny_model_dir), sft_adapter)

    dpo_recipe = recipe(tmp_path, sft_adapter, "dpo")
    assert refine_sft.nll_only(dpo_recipe)
    dpo = DPOTrainer(model=model(), ref_model=None, args=dpo_recipe, train_dataset=pairs, processing_class=tokenizer)
    sft = refine_sft.make_trainer(recipe(tmp_path, sft_adapter, "sft"), model(), tokenizer, pairs, None)
    assert sft.train_dataset.num_rows == len(PAIRS) and "rejected" not in sft.train_dataset.column_names
    dpo_loss = dpo.evaluate(pairs)["eval_loss"]
    sft_loss = sft.evaluate(sft.train_dataset)["eval_loss"]
    assert dpo_loss > 1.0  # a random adapter's NLL, so equality below is not two zeros
    assert sft_loss == pytest.approx(dpo_loss, rel=1e-5)


def test_a_weighted_or_mixed_loss_stays_with_dpo(tmp_path):
    """Only the NLL at weight 1 is routed: a weight would scale the gradient that clipping sees."""
    assert not refine_sft.nll_only(recipe(tmp_path, "a", "w", "loss_weights=[0.5]"))
    assert not refine_sft.nll_only(recipe(tmp_path, "a", "m", "loss_type=[sigmoid,sft]", "loss_weights=[1.0,1.0]"))
    assert refine_sft.nll_only(recipe(tmp_path, "a", "c", "pairs=correct_samples"))
