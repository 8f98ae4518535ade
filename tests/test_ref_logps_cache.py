"""Reference log-probabilities are reused across runs on the same pairs and adapter, and only then."""

from __future__ import annotations

import json
import shutil

import pytest

from training.distill import ref_logps_cache

PAIRS = [
    {"prompt": "a b", "chosen": " c d", "rejected": " e"},
    {"prompt": "f g h", "chosen": " i", "rejected": " j k"},
    {"prompt": "l", "chosen": " m n o", "rejected": " p"},
]


@pytest.fixture
def sft_adapter(tmp_path, tiny_model_dir):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    sft = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(r=4, init_lora_weights=False))
    sft.save_pretrained(tmp_path / "sft")
    return tmp_path / "sft"


def build(tmp_path, tiny_model_dir, adapter, pairs, run: str, **config):
    """A trainer as train_round builds it: the adapter continued, trl's 'ref' copy the reference."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig

    from training.distill import model_loading

    model = model_loading.load_trainable_adapter(AutoModelForCausalLM.from_pretrained(tiny_model_dir), adapter)
    args = DPOConfig(
        output_dir=str(tmp_path / run),
        use_cpu=True,
        report_to=[],
        max_length=32,
        precompute_ref_log_probs=True,
        **config,
    )
    cls = ref_logps_cache.trainer_class(ref_logps_cache.cache_dir(str(adapter)))
    return cls(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=Dataset.from_list(pairs),
        processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
    )


def computed(monkeypatch) -> list[tuple[str, int]]:
    """Spy on trl's own computation: the name and size of each dataset it scored."""
    from trl import DPOTrainer

    calls: list[tuple[str, int]] = []
    original = DPOTrainer._precompute_ref_logps

    def spy(self, dataset, name, batch_size):
        calls.append((name, len(dataset)))
        return original(self, dataset, name, batch_size)

    monkeypatch.setattr(DPOTrainer, "_precompute_ref_logps", spy)
    return calls


def test_same_pairs_and_adapter_reuse_the_reference_log_probs(tmp_path, tiny_model_dir, sft_adapter, monkeypatch):
    calls = computed(monkeypatch)
    first = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run1", beta=0.1)
    assert calls == [("train", 3)]
    [saved] = (tmp_path / "sft.ref_logps").iterdir()
    cached = json.loads(saved.read_text())
    assert cached["ref_chosen_logps"] == pytest.approx(list(first.train_dataset["ref_chosen_logps"]), abs=0)
    assert all(v < 0 for v in cached["ref_chosen_logps"] + cached["ref_rejected_logps"])

    # Another variant (beta, loss, output folder) on the same pairs: trl's cache misses, this one hits.
    second = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run2", beta=0.5, loss_type=["sigmoid", "sft"])
    assert calls == [("train", 3)]
    for column in ref_logps_cache.COLUMNS:
        assert list(second.train_dataset[column]) == pytest.approx(list(first.train_dataset[column]), abs=0)


def test_other_pairs_or_another_adapter_compute_again(tmp_path, tiny_model_dir, sft_adapter, monkeypatch):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    calls = computed(monkeypatch)
    first = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run1")
    other = [dict(PAIRS[0], rejected=" q"), *PAIRS[1:]]
    build(tmp_path, tiny_model_dir, sft_adapter, other, "run2")
    assert calls == [("train", 3), ("train", 1)]  # only the changed pair
    # The same folder name holding other weights (a retrained SFT adapter) is another reference.
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), sft_adapter)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
    model.save_pretrained(sft_adapter)
    retrained = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run3")
    assert calls == [("train", 3), ("train", 1), ("train", 3)]
    assert len(list((tmp_path / "sft.ref_logps").iterdir())) == 3
    assert list(retrained.train_dataset["ref_chosen_logps"]) != pytest.approx(
        list(first.train_dataset["ref_chosen_logps"])
    )


def test_a_damaged_cache_file_is_computed_again(tmp_path, tiny_model_dir, sft_adapter, monkeypatch):
    calls = computed(monkeypatch)
    build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run1")
    [saved] = (tmp_path / "sft.ref_logps").iterdir()
    saved.write_text('{"ref_chosen_logps": [1.0], "ref_rejected_logps": [1.0]}')  # one row, not three
    again = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run2")
    assert calls == [("train", 3), ("train", 3)]
    assert len(json.loads(saved.read_text())["ref_chosen_logps"]) == len(again.train_dataset) == 3


def test_a_selection_of_scored_pairs_computes_only_what_is_new(tmp_path, tiny_model_dir, sft_adapter, monkeypatch):
    calls = computed(monkeypatch)
    first = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run1")
    # A selection (min_correct_samples, balance_pairs) of the scored pairs, in another order.
    chosen = build(tmp_path, tiny_model_dir, sft_adapter, [PAIRS[2], PAIRS[0]], "run2")
    assert calls == [("train", 3)]
    for column in ref_logps_cache.COLUMNS:
        full = list(first.train_dataset[column])
        assert list(chosen.train_dataset[column]) == [full[2], full[0]]
    # One new pair among scored ones: trl scores that one alone, and its value is the one a full
    # computation gives (a pair's forward pass does not depend on the rest of its batch).
    new = {"prompt": "q r", "chosen": " s", "rejected": " t u v"}
    mixed = build(tmp_path, tiny_model_dir, sft_adapter, [PAIRS[1], new], "run3")
    assert calls == [("train", 3), ("train", 1)]
    assert mixed.train_dataset["ref_chosen_logps"][0] == first.train_dataset["ref_chosen_logps"][1]
    # The same adapter in another folder has an empty cache: both pairs scored together by trl.
    copy = tmp_path / "copy" / "sft"
    shutil.copytree(sft_adapter, copy)
    whole = build(tmp_path, tiny_model_dir, copy, [PAIRS[1], new], "run4")
    assert calls == [("train", 3), ("train", 1), ("train", 2)]
    for column in ref_logps_cache.COLUMNS:
        assert list(mixed.train_dataset[column]) == pytest.approx(list(whole.train_dataset[column]), abs=1e-4)


def test_a_cache_file_without_pair_keys_gains_them_when_hit(tmp_path, tiny_model_dir, sft_adapter, monkeypatch):
    calls = computed(monkeypatch)
    first = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run1")
    [saved] = (tmp_path / "sft.ref_logps").iterdir()
    old = json.loads(saved.read_text())
    saved.write_text(json.dumps({c: old[c] for c in ref_logps_cache.COLUMNS}))  # as written before keys
    build(tmp_path, tiny_model_dir, sft_adapter, PAIRS, "run2")
    assert json.loads(saved.read_text())["rows"] == old["rows"]
    subset = build(tmp_path, tiny_model_dir, sft_adapter, PAIRS[1:], "run3")
    assert calls == [("train", 3)]
    assert list(subset.train_dataset["ref_chosen_logps"]) == list(first.train_dataset["ref_chosen_logps"])[1:]


def test_a_hub_adapter_has_no_cache_folder():
    from trl import DPOTrainer

    assert ref_logps_cache.cache_dir("HuggingFaceTB/some-adapter") is None
    assert ref_logps_cache.trainer_class(None) is DPOTrainer
