"""Self-refine rounds end to end on the tiny model: two rounds of correct-vs-incorrect DPO with the
NLL term and precomputed reference log-probs, one final PEFT adapter, and a kill in round 2 that
resumes there without redoing round 1.

The student's answers are scripted (each question: one answer the suite's scorer marks correct,
one it marks incorrect), so the pairs do not depend on what a random tiny model happens to say;
everything else -- recipe, pairs dataset, trl's DPOTrainer, checkpoints, publication -- is real.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_ref_logps_cache import computed as ref_logps_spy
from test_self_refine import right, wrong
from train_support import TINY_RECIPES, csqa_rows, write_demos

from training.cli import main as cli
from training.distill import checkpoints, preference_pairs, refine_rounds
from training.distill.model_loading import META_FILE
from training.generation import student as student_generation

N_DOCS = 6
COT_DOCS = csqa_rows(N_DOCS)


class Killed(Exception):
    """Stands in for the process being killed."""


@pytest.fixture
def setup(tmp_path, tiny_model_dir):
    """Demonstrations and an SFT adapter (random LoRA weights: the answers are scripted anyway)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(r=4, init_lora_weights=False)
    )
    model.save_pretrained(tmp_path / "sft")
    return {"data": write_demos(tmp_path / "demos", COT_DOCS, ("zs", "cot")), "sft": tmp_path / "sft"}


def scripted_student(monkeypatch) -> list[int]:
    """Replace the student's sampling: the k-th sample of a question is right for even k; returns call counts."""
    docs = {
        preference_pairs.question(preference_pairs.suite.task_name("csqa", "cot"), d).cot_prompt: d for d in COT_DOCS
    }
    calls = []

    def generate_hf(model, tokenizer, prompts, max_new_tokens, batch_size, desc, temperature=0.0, seed=None):
        assert temperature == 0.7 and seed is not None
        calls.append(len(prompts))
        seen: dict[str, int] = {}
        out = []
        for p in prompts:
            k = seen[p] = seen.get(p, -1) + 1
            out.append((right if k % 2 == 0 else wrong)(docs[p], f"Think {k}. "))
        return out

    monkeypatch.setattr(student_generation, "generate_hf", generate_hf)
    return calls


def self_refine(setup, tiny_model_dir, out, *extra):
    args = [
        f"base_model={tiny_model_dir}",
        f"data={setup['data']}",
        f"sft_adapter={setup['sft']}",
        f"output_dir={out}",
        "pairs=correct_vs_incorrect",
        "samples_per_question=2",
        "max_pairs_per_question=1",
        "temperature=0.7",
        "rounds=2",
        "max_steps=4",
        "eval_steps=2",
        "max_eval_pairs=3",
        "loss_type=[sigmoid, sft]",
        "loss_weights=[1.0, 1.0]",
        "precompute_ref_log_probs=true",
        "max_new_tokens=16",
        "per_device_train_batch_size=2",
        "effective_batch_size=2",
    ]
    return CliRunner().invoke(cli, ["self-refine", "--recipe", str(TINY_RECIPES / "dpo.yaml"), *args, *extra])


def forbid_dpo(monkeypatch) -> None:
    """A round that builds trl's DPOTrainer fails (the NLL alone must train with SFTTrainer)."""
    import trl

    def no_dpo(*a, **k):
        raise AssertionError("DPOTrainer built for the NLL alone")

    monkeypatch.setattr(trl.DPOTrainer, "__init__", no_dpo)


def adapter_weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors"))


@pytest.mark.slow  # ~25 s on a shared 2-core machine
def test_two_rounds_publish_one_adapter_and_resume_in_round_two(setup, tiny_model_dir, tmp_path, monkeypatch):
    import torch
    import transformers
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    out = tmp_path / "dpo"
    rounds_root, run = checkpoints.rounds_dir(out), checkpoints.run_dir(out)
    calls = scripted_student(monkeypatch)
    save = transformers.Trainer._save_checkpoint

    def save_then_die_in_round_two(self, model, trial):
        save(self, model, trial)
        if json.loads((run / refine_rounds.MARKER).read_text())["round"] == 2:
            raise Killed

    monkeypatch.setattr(transformers.Trainer, "_save_checkpoint", save_then_die_in_round_two)
    result = self_refine(setup, tiny_model_dir, out)
    assert isinstance(result.exception, Killed), result.output[-3000:]
    assert (rounds_root / "round-1" / "adapter" / "adapter_config.json").is_file()
    assert not (rounds_root / "round-2" / "adapter").exists() and not out.exists()
    assert checkpoints.last_checkpoint(run).name == "checkpoint-2"
    assert len(calls) == 4  # train + validation answers, per round

    monkeypatch.setattr(transformers.Trainer, "_save_checkpoint", save)
    train, resumed_from = transformers.Trainer.train, []

    def train_recording(self, resume_from_checkpoint=None, **kwargs):
        resumed_from.append(resume_from_checkpoint)
        return train(self, resume_from_checkpoint=resume_from_checkpoint, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "train", train_recording)
    round_one = adapter_weights(rounds_root / "round-1" / "adapter")
    assert self_refine(setup, tiny_model_dir, out).exit_code != 0  # checkpoints there: --resume or delete
    result = self_refine(setup, tiny_model_dir, out, "--resume")
    assert result.exit_code == 0, result.output[-3000:]
    assert len(calls) == 4  # round 1 skipped, round 2's saved pairs reused: nothing generated again
    assert resumed_from == [str(run / "checkpoint-2")]  # round 2 only, from where it was killed
    assert all(torch.equal(round_one[k], v) for k, v in adapter_weights(rounds_root / "round-1" / "adapter").items())

    for i in (1, 2):
        home = rounds_root / f"round-{i}"
        assert {"pairs", "adapter", "run", refine_rounds.STATS} <= {p.name for p in home.iterdir()}
        stats = json.loads((home / refine_rounds.STATS).read_text())
        assert stats["round"] == i and stats["train_steps"] == 4 and stats["pair_stats"]["train"]["kept"] == N_DOCS
        assert stats["n_validation"] == 3 and stats["wall_s"] > 0 and stats["train_losses"]
    assert not run.exists()  # the last round's checkpoints moved into its directory

    meta = json.loads((out / META_FILE).read_text())
    assert [r["round"] for r in meta["rounds"]] == [1, 2] and meta["round"] == "2/2"
    assert meta["start_adapter"] == str(rounds_root / "round-1" / "adapter")
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model_dir)
    assert not (out / "ref").exists()
    final = adapter_weights(out)
    assert all(torch.equal(final[k], v) for k, v in adapter_weights(rounds_root / "round-2" / "adapter").items())
    assert any(not torch.equal(final[k], round_one[k]) for k in final)  # round 2 trained further
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(out))
    assert list(model.peft_config) == ["default"]


@pytest.mark.slow  # ~15 s
def test_a_round_without_validation_pairs_trains_without_evaluation(tiny_model_dir, tmp_path, monkeypatch):
    """Validation questions all answered right give no validation pair: the round trains on and
    publishes its adapter, instead of failing in trl's evaluation (a small demo's case)."""
    import datasets
    from train_support import demo_row

    data = tmp_path / "demos"
    split = {"train": COT_DOCS[:4], "validation": COT_DOCS[4:]}
    datasets.DatasetDict(
        {
            name: datasets.Dataset.from_list([demo_row(v, d, i) for i, d in enumerate(docs) for v in ("zs", "cot")])
            for name, docs in split.items()
        }
    ).save_to_disk(str(data / "dataset"))
    task = preference_pairs.suite.task_name("csqa", "cot")
    docs = {preference_pairs.question(task, d).cot_prompt: d for d in COT_DOCS}
    validation = {p for p, d in docs.items() if d in COT_DOCS[4:]}

    def generate_hf(model, tokenizer, prompts, max_new_tokens, batch_size, desc, temperature=0.0, seed=None):
        seen: dict[str, int] = {}
        out = []
        for p in prompts:
            k = seen[p] = seen.get(p, -1) + 1
            out.append((right if p in validation or k % 2 == 0 else wrong)(docs[p], f"Think {k}. "))
        return out

    monkeypatch.setattr(student_generation, "generate_hf", generate_hf)
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(r=4, init_lora_weights=False)
    ).save_pretrained(tmp_path / "sft")
    out = tmp_path / "dpo"
    result = self_refine({"data": data, "sft": tmp_path / "sft"}, tiny_model_dir, out, "rounds=1")
    assert result.exit_code == 0, result.output
    assert (out / "adapter_config.json").is_file()
    assert '"n_validation": 0' in (out / META_FILE).read_text()


@pytest.mark.slow  # ~15 s
def test_balanced_pairs_train_on_as_many_pairs_per_gold_letter(setup, tiny_model_dir, tmp_path, monkeypatch):
    """balance_pairs: the round trains on the rarest gold letter's count of pairs per letter; the
    saved pairs stay as sampled (so another variant can reuse them unbalanced)."""
    from collections import Counter

    scripted_student(monkeypatch)
    out = tmp_path / "dpo"
    result = self_refine(setup, tiny_model_dir, out, "rounds=1", "balance_pairs=chosen")
    assert result.exit_code == 0, result.output[-3000:]
    meta = json.loads((out / META_FILE).read_text())
    golds = Counter(d["answerKey"] for d in COT_DOCS)
    assert min(golds.values()) < max(golds.values())  # the fixture's letters are unbalanced
    assert meta["pair_balance"]["before"] == N_DOCS == meta["pair_stats"]["train"]["kept"]
    assert meta["n_train"] == meta["pair_balance"]["after"] == len(golds) * min(golds.values())
    assert set(meta["pair_balance"]["gold_after"].values()) == {min(golds.values())}


@pytest.mark.slow  # ~10 s
def test_pairs_balanced_on_both_sides_that_keep_none_are_one_line(setup, tiny_model_dir, tmp_path, monkeypatch):
    """balance_pairs=both: the scripted wrong answers all name the next letter, and the fixture's
    golds (A B A D C D) close no cycle, so no pair is kept: one line, the sampled pairs saved."""
    scripted_student(monkeypatch)
    out = tmp_path / "dpo"
    result = self_refine(setup, tiny_model_dir, out, "rounds=1", "balance_pairs=both")
    assert result.exit_code != 0
    assert "balance_pairs=both keeps none of the 6 train pairs" in result.output
    assert not (out / "adapter_config.json").exists()
    assert (tmp_path / "dpo.pairs").is_dir()


@pytest.mark.slow  # ~15 s
def test_min_correct_samples_selects_from_the_saved_pairs(setup, tiny_model_dir, tmp_path, monkeypatch):
    """min_correct_samples: the scripted student is right on 2 of 4 samples of every question, so
    3 keeps no pair (one line, the sampled pairs saved) and 2, rerun on those saved pairs, keeps all."""
    calls = scripted_student(monkeypatch)
    out = tmp_path / "dpo"
    four = ("rounds=1", "samples_per_question=4", "max_pairs_per_question=2")
    result = self_refine(setup, tiny_model_dir, out, *four, "min_correct_samples=3")
    assert result.exit_code != 0
    assert f"min_correct_samples=3 keeps none of the {2 * N_DOCS} train pairs" in result.output
    assert not (out / "adapter_config.json").exists() and (tmp_path / "dpo.pairs").is_dir()
    sampled = len(calls)
    result = self_refine(setup, tiny_model_dir, out, *four, "min_correct_samples=2")
    assert result.exit_code == 0, result.output[-3000:]
    assert len(calls) == sampled  # the saved pairs, not sampled again
    meta = json.loads((out / META_FILE).read_text())
    assert meta["min_correct_samples"] == {
        "min_correct": 2,
        "before": 2 * N_DOCS,
        "after": 2 * N_DOCS,
        "pairs_by_correct": {"2": 2 * N_DOCS},
    }
    assert meta["n_train"] == 2 * N_DOCS and meta["pair_balance"] is None


@pytest.mark.slow  # two one-round runs of the tiny model
def test_a_variant_on_the_same_pairs_reuses_the_reference_log_probs(setup, tiny_model_dir, tmp_path, monkeypatch):
    """As the experiment script runs a grid: a variant copies another's pairs and changes beta."""
    import shutil

    scripted_student(monkeypatch)
    computed = ref_logps_spy(monkeypatch)
    first = self_refine(setup, tiny_model_dir, tmp_path / "a", "rounds=1")
    assert first.exit_code == 0, first.output[-3000:]
    assert len(computed) == 2  # the train and the validation pairs
    cache = tmp_path / "sft.ref_logps"
    files = {p.name: p.read_text() for p in cache.iterdir()}
    assert len(files) == 2

    shutil.copytree(tmp_path / "a.pairs", tmp_path / "b.pairs")
    second = self_refine(setup, tiny_model_dir, tmp_path / "b", "rounds=1", "beta=0.5")
    assert second.exit_code == 0, second.output[-3000:]
    assert len(computed) == 2 and {p.name: p.read_text() for p in cache.iterdir()} == files
    assert json.loads((tmp_path / "b" / META_FILE).read_text())["recipe"]["beta"] == 0.5


@pytest.mark.slow  # two rounds of SFT on the tiny model, ~20 s
def test_correct_samples_rounds_train_on_every_distinct_correct_answer_without_dpo(
    setup, tiny_model_dir, tmp_path, monkeypatch
):
    """pairs=correct_samples: with one sample per question every question is answered right in all
    its samples, so correct_vs_incorrect would have no pair, and here each answer is a row. The
    round trains with trl's SFTTrainer (no DPOTrainer, no reference log-probs), continues the
    starting adapter, and publishes one PEFT adapter."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    calls = scripted_student(monkeypatch)
    computed = ref_logps_spy(monkeypatch)
    forbid_dpo(monkeypatch)
    out = tmp_path / "rft"
    result = self_refine(
        setup,
        tiny_model_dir,
        out,
        "pairs=correct_samples",
        "samples_per_question=1",
        "loss_type=[sft]",
        "loss_weights=[1.0]",
    )
    assert result.exit_code == 0, result.output[-3000:]
    assert len(calls) == 4 and computed == []  # train + validation answers per round; no reference
    rounds_root = checkpoints.rounds_dir(out)
    for i in (1, 2):
        stats = json.loads((rounds_root / f"round-{i}" / refine_rounds.STATS).read_text())
        train = stats["pair_stats"]["train"]
        assert train["all_right"] == train["kept"] == train["answered"] == N_DOCS and train["repeats"] == 0
        assert stats["train_steps"] == 4 and stats["eval_losses"] and stats["pair_kind"] == "correct_samples"
        rows = preference_pairs.json.loads((rounds_root / f"round-{i}" / "pairs" / "pair_stats.json").read_text())
        assert rows == stats["pair_stats"]
    saved = __import__("datasets").load_from_disk(str(rounds_root / "round-1" / "pairs"))
    assert {"prompt", "completion", "question_correct"} <= set(saved["train"].column_names)
    assert "rejected" not in saved["train"].column_names
    meta = json.loads((out / META_FILE).read_text())
    assert meta["stage"] == "rft" and meta["round"] == "2/2" and meta["n_train"] == N_DOCS
    sft, final = adapter_weights(setup["sft"]), adapter_weights(out)
    round_one = adapter_weights(rounds_root / "round-1" / "adapter")
    assert any(not torch.equal(final[k], round_one[k]) for k in final)  # round 2 trained round 1 further
    assert any(not torch.equal(round_one[k], sft[k]) for k in round_one)  # round 1 trained the SFT adapter
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(out))
    assert list(model.peft_config) == ["default"]


@pytest.mark.slow  # three one-round runs of the tiny model, ~25 s
def test_variants_sampling_from_one_adapter_with_one_seed_share_the_answers(
    setup, tiny_model_dir, tmp_path, monkeypatch
):
    """A correct_samples variant after a correct_vs_incorrect one on the same SFT adapter and seed
    samples nothing: it reads the answers kept in ``<sft>.samples/``; another seed samples afresh."""
    import datasets

    calls = scripted_student(monkeypatch)
    first = self_refine(setup, tiny_model_dir, tmp_path / "civ", "rounds=1")
    assert first.exit_code == 0, first.output[-3000:]
    assert len(calls) == 2  # train and validation answers
    kept = sorted((tmp_path / "sft.samples").iterdir())
    assert len(kept) == 2
    answers = {a for f in kept for a in json.loads(f.read_text())["answers"]}

    nll = ("rounds=1", "pairs=correct_samples", "loss_type=[sft]", "loss_weights=[1.0]")
    second = self_refine(setup, tiny_model_dir, tmp_path / "rft", *nll)
    assert second.exit_code == 0, second.output[-3000:]
    assert len(calls) == 2  # nothing sampled: the kept answers were read
    rows = datasets.load_from_disk(str(tmp_path / "rft.pairs"))["train"]
    assert len(rows) == N_DOCS and set(rows["completion"]) <= answers

    third = self_refine(setup, tiny_model_dir, tmp_path / "rft-seed", *nll, "seed=5")
    assert third.exit_code == 0, third.output[-3000:]
    assert len(calls) == 4 and len(list((tmp_path / "sft.samples").iterdir())) == 4


@pytest.mark.slow  # one round of SFT on the tiny model, ~10 s
def test_pairs_with_the_nll_alone_train_their_chosen_answers_without_dpo(setup, tiny_model_dir, tmp_path, monkeypatch):
    """correct_vs_incorrect with loss_type=[sft]: the pairs are sampled and saved whole (rejected
    answers too), and the round trains their chosen answers with SFTTrainer: no DPOTrainer, no
    reference log-probs, though the recipe asks to precompute them."""
    import datasets

    calls = scripted_student(monkeypatch)
    computed = ref_logps_spy(monkeypatch)
    forbid_dpo(monkeypatch)
    out = tmp_path / "nllonly"
    result = self_refine(setup, tiny_model_dir, out, "rounds=1", "loss_type=[sft]", "loss_weights=[1.0]")
    assert result.exit_code == 0, result.output[-3000:]
    assert len(calls) == 2 and computed == []
    saved = datasets.load_from_disk(str(tmp_path / "nllonly.pairs"))["train"]
    assert {"prompt", "chosen", "rejected"} <= set(saved.column_names) and len(saved) == N_DOCS
    meta = json.loads((out / META_FILE).read_text())
    assert meta["stage"] == "dpo" and meta["trainer"] == "SFTTrainer (NLL alone)" and meta["n_train"] == N_DOCS
    assert meta["pair_stats"]["train"]["kept"] == meta["pair_stats"]["train"]["paired"] == N_DOCS
