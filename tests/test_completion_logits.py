"""The completion-only LM head trains exactly what trl's full head trains (fast, tiny random Llama).

Same weights, same batches: the loss, every trainable gradient and trl's logged metrics of
:class:`CompletionLogitsSFTTrainer` equal those of ``SFTTrainer.compute_loss`` on packed
(padding-free) and padded batches of two demonstrations of different lengths, with and without
gradient accumulation's ``num_items_in_batch``; and two optimiser steps through ``train()``
end at the same weights, training logs and evaluation.
"""

from __future__ import annotations

import pytest
import torch
from conftest import fixture_texts
from train_support import csqa_rows, demo_row

from training.distill import packed_attention
from training.distill.completion_logits import CompletionLogitsSFTTrainer
from training.distill.recipes import SFTRecipe, load_recipe

#: The tiny recipe's LoRA (head and embeddings trained in full) and the real students' (LoRA only).
LORAS = {"lora+head": ["embed_tokens", "lm_head"], "lora": None}


@pytest.fixture(scope="module")
def tokenizer():
    from training.demo.tiny import build_tokenizer

    return build_tokenizer(fixture_texts())


def demonstrations(n: int):
    """``n`` zero-shot and ``n`` CoT demonstrations: prompts of one length class, completions of two."""
    import datasets

    docs = csqa_rows(n)
    return datasets.Dataset.from_list([demo_row(v, d, i) for i, d in enumerate(docs) for v in ("zs", "cot")])


def make_trainer(tokenizer, tmp_path, packing: bool, modules_to_save, cls=CompletionLogitsSFTTrainer, **extra):
    from peft import LoraConfig
    from trl import SFTConfig

    from training.demo.tiny import build_model

    model = build_model(tokenizer)
    model.set_attn_implementation(packed_attention.NAME if packing else "sdpa")
    args = SFTConfig(
        **{
            "output_dir": str(tmp_path),
            "packing": packing,
            "packing_strategy": "bfd",
            "max_length": 512,
            "completion_only_loss": True,
            "per_device_train_batch_size": 2,
            "report_to": [],
            "use_cpu": True,
            "seed": 0,
            **extra,
        }
    )
    peft = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", modules_to_save=modules_to_save)
    data = demonstrations(4).select_columns(["prompt", "completion"])
    return cls(
        model=model, args=args, train_dataset=data, eval_dataset=data, processing_class=tokenizer, peft_config=peft
    )


@pytest.fixture
def projected(monkeypatch) -> list[int]:
    """How many positions each call of trl's fused head projects through the output layer."""
    from trl.trainer import utils

    counts, function = [], utils._ChunkedLogProbFunction

    class Counting:
        @staticmethod
        def apply(hidden, *args):
            counts.append(hidden.shape[0])
            return function.apply(hidden, *args)

    monkeypatch.setattr(utils, "_ChunkedLogProbFunction", Counting)
    return counts


def loss_grads_metrics(trainer, compute_loss, batch: dict, num_items) -> tuple[torch.Tensor, dict, dict]:
    """The loss, every trainable parameter's gradient and the metrics one ``compute_loss`` call logs."""
    model = trainer.model
    model.zero_grad(set_to_none=True)
    trainer._metrics["train"].clear()
    trainer._total_train_tokens = 0  # a running count: each call starts from none
    loss = compute_loss(trainer, model, dict(batch), num_items_in_batch=num_items)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads, {k: list(v) for k, v in trainer._metrics["train"].items()}


@pytest.mark.parametrize("lora", LORAS)
@pytest.mark.parametrize("packing", [True, False], ids=["packed", "padded"])
@pytest.mark.parametrize("accumulated", [False, True], ids=["one batch", "num_items_in_batch"])
def test_loss_gradients_and_metrics_equal_the_full_head(tokenizer, tmp_path, packing, lora, accumulated, projected):
    from trl import SFTTrainer

    trainer = make_trainer(tokenizer, tmp_path, packing, LORAS[lora])
    trainer.model.train()
    batch = next(iter(trainer.get_train_dataloader()))
    if packing:  # the collator flattens the two packed rows into one padding-free row
        assert batch["input_ids"].shape[0] == 1 and "position_ids" in batch and "attention_mask" not in batch
    else:  # two padded rows of different lengths
        lengths = batch["attention_mask"].sum(1).tolist()
        assert len(lengths) == 2 and lengths[0] != lengths[1]
    scored = int((batch["labels"][:, 1:] != -100).sum())
    assert 0 < scored < batch["labels"][:, 1:].numel() // 2  # mostly prompt: the head's saving is real
    # Under accumulation trl divides by the tokens of all the micro-batches, counted by the Trainer.
    num_items = torch.tensor(3 * scored) if accumulated else None

    full = loss_grads_metrics(trainer, SFTTrainer.compute_loss, batch, num_items)
    compact = loss_grads_metrics(trainer, CompletionLogitsSFTTrainer.compute_loss, batch, num_items)
    rows, length = batch["labels"].shape
    assert projected == [rows * (length - 1), scored]  # trl's head on CPU: every position; ours: the scored ones
    torch.testing.assert_close(compact[0], full[0], rtol=1e-5, atol=1e-6)
    assert compact[1].keys() == full[1].keys() and any("lora_A" in n for n in full[1])
    for name, grad in full[1].items():
        torch.testing.assert_close(compact[1][name], grad, rtol=1e-4, atol=1e-7, msg=name)
    assert compact[2].keys() == full[2].keys() >= {"entropy", "mean_token_accuracy", "num_tokens"}
    for key, values in full[2].items():
        assert compact[2][key] == pytest.approx(values, rel=1e-5), key


def test_all_ignored_batch_and_asked_outputs_take_trls_path(tokenizer, tmp_path):
    trainer = make_trainer(tokenizer, tmp_path, packing=True, modules_to_save=None)
    batch = next(iter(trainer.get_train_dataloader()))
    ignored = {**batch, "labels": torch.full_like(batch["labels"], -100)}
    assert trainer.compute_loss(trainer.model, ignored).item() == 0.0
    with pytest.warns(FutureWarning):  # trl's own deprecation: the outputs need a full-logits forward
        loss, outputs = trainer.compute_loss(trainer.model, dict(batch), return_outputs=True)
    assert outputs.logits.shape[:2] == batch["input_ids"].shape


def test_training_steps_end_at_the_same_weights_logs_and_evaluation(tokenizer, tmp_path):
    from trl import SFTTrainer

    runs = {}
    for cls in (SFTTrainer, CompletionLogitsSFTTrainer):
        trainer = make_trainer(
            tokenizer,
            tmp_path / cls.__name__,
            packing=True,
            modules_to_save=None,
            cls=cls,
            max_steps=2,
            gradient_accumulation_steps=2,
            per_device_train_batch_size=1,
            logging_steps=1,
            learning_rate=1e-2,
            save_strategy="no",
        )
        trainer.train()
        weights = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
        runs[cls] = weights, [h for h in trainer.state.log_history if "loss" in h], trainer.evaluate()
    (full_weights, full_logs, full_eval), (weights, logs, evaluation) = runs.values()
    for name, w in full_weights.items():
        torch.testing.assert_close(weights[name], w, rtol=1e-4, atol=1e-6, msg=name)
    assert len(logs) == len(full_logs) == 2
    for got, want in zip(logs, full_logs):
        for key in ("loss", "grad_norm", "entropy", "mean_token_accuracy", "num_tokens"):
            assert got[key] == pytest.approx(want[key], rel=1e-4), key
    for key in ("eval_loss", "eval_entropy", "eval_mean_token_accuracy"):
        assert evaluation[key] == pytest.approx(full_eval[key], rel=1e-4), key


def test_recipe_key_defaults_on_and_turns_off():
    required = ["base_model=b", "data=d", "output_dir=o"]
    assert load_recipe(SFTRecipe, None, required)[0].completion_logits_only is True
    assert load_recipe(SFTRecipe, None, [*required, "completion_logits_only=false"])[0].completion_logits_only is False
