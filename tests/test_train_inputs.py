"""Recipes, demonstration loading, preference pairs and bad-input errors (fast: no training)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from train_support import ROOT, TINY_RECIPES, csqa_rows, demo_row, write_demos
from trl import DPOConfig, ModelConfig, SFTConfig

from aligncot_tasks import suite
from training.cli import main as cli
from training.distill import model_loading, preference_pairs, train_data
from training.distill.recipes import DPORecipe, SFTRecipe, load_recipe
from training.errors import UserError

RECIPES = sorted((ROOT / "harness_configs" / "recipes").rglob("*.yaml"))
#: Students whose recipes carry the papers' hyper-parameters (tiny and smollm2 are tuned for CPU).
PAPERS_STUDENTS = {"llama-2-7b-chat", "llama-2-13b-chat", "mistral-7b"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_recipes_validate(path):
    cls = SFTRecipe if path.stem == "sft" else DPORecipe
    recipe, model = load_recipe(cls, path)
    assert isinstance(recipe, SFTConfig if cls is SFTRecipe else DPOConfig) and isinstance(model, ModelConfig)
    assert recipe.output_dir.endswith(".run") and not recipe.adapter_dir.endswith(".run")
    if path.parent.name == "smollm2-135m-instruct":  # measured for a 135M CPU student (TUNING.md)
        assert model.quantization == "none" and recipe.learning_rate > (2e-5 if cls is SFTRecipe else 1e-6)
        assert cls is DPORecipe or recipe.chat_template
    elif path.parent.name in PAPERS_STUDENTS:
        assert model.quantization == "auto" and recipe.report_to == ["tensorboard"]
        assert recipe.activation_checkpointing and recipe.max_length == 2048
        if cls is SFTRecipe:
            assert (recipe.num_train_epochs, recipe.learning_rate, recipe.weight_decay) == (4, 2e-5, 0.001)
            assert (recipe.lr_scheduler_type, recipe.warmup_steps, model.lora_target_modules) == (
                "cosine",
                0.03,
                "all-linear",
            )
            assert (model.lora_r, model.lora_alpha, model.lora_dropout, recipe.packing) == (64, 16, 0.1, True)
            assert recipe.completion_only_loss and recipe.eval_strategy == "epoch"
        else:
            assert (recipe.learning_rate, recipe.beta, recipe.warmup_steps, recipe.max_steps) == (1e-6, 0.1, 100, 1000)
            assert recipe.gradient_accumulation_steps * recipe.per_device_train_batch_size == 128
            assert recipe.load_best_model_at_end and recipe.save_steps == recipe.eval_steps == 50


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("base_model: b\ndata: d\noutput_dir: o\nlerning_rate: 0.1\n")
    with pytest.raises(UserError, match="unknown recipe key 'lerning_rate'"):
        load_recipe(SFTRecipe, path)


def test_overrides_are_typed_and_validated():
    r, _ = load_recipe(
        SFTRecipe, TINY_RECIPES / "sft.yaml", ["learning_rate=3e-4", "packing=false", "report_to=[none]"]
    )
    assert (r.learning_rate, r.packing, r.report_to) == (3e-4, False, [])
    with pytest.raises(UserError, match="recipe key 'per_device_train_batch_size': invalid int value: 'two'"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["per_device_train_batch_size=two"])
    with pytest.raises(UserError, match="'quantization' must be one of"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["quantization=8bit"])
    with pytest.raises(UserError, match="missing required recipe key"):
        load_recipe(SFTRecipe, None, ["data=d"])
    with pytest.raises(UserError, match="override 'learning_rate': expected KEY=VALUE"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["learning_rate"])
    with pytest.raises(UserError, match="recipe key 'learning_rate': invalid float value: 'abc'"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["learning_rate=abc"])
    with pytest.raises(UserError, match="recipe key 'packing'"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["packing=maybe"])
    with pytest.raises(UserError, match="'dtype' is derived; set 'cpu_dtype' instead"):
        load_recipe(SFTRecipe, TINY_RECIPES / "sft.yaml", ["dtype=bfloat16"])
    with pytest.raises(UserError, match="lora_r: DPO continues the SFT adapter"):
        load_recipe(DPORecipe, TINY_RECIPES / "dpo.yaml", ["lora_r=8"])


def test_effective_batch_must_divide():
    with pytest.raises(UserError, match="not a multiple"):
        load_recipe(DPORecipe, TINY_RECIPES / "dpo.yaml", ["per_device_train_batch_size=3"])
    r, _ = load_recipe(DPORecipe, TINY_RECIPES / "dpo.yaml", ["per_device_train_batch_size=2"])
    assert (r.gradient_accumulation_steps, r.accumulation_steps(2)) == (4, 2)


def test_precision_choice_is_explicit_on_cpu():
    assert "CUDA is not available" in model_loading.choose_precision("auto", "bfloat16", cuda=False).reason
    p = model_loading.choose_precision("auto", "float32", cuda=True)
    assert p.load_in_4bit and p.dtype == "bfloat16"


@pytest.mark.parametrize("fmt", ["dataset", "jsonl"])
def test_demos_load_in_either_layout_with_the_same_hash(tmp_path, fmt):
    docs = csqa_rows(3)
    ds = train_data.load_demos(write_demos(tmp_path / fmt, docs, fmt=fmt))
    other = train_data.load_demos(write_demos(tmp_path / "other", docs, fmt="jsonl" if fmt == "dataset" else "dataset"))
    assert len(ds["train"]) == 3 and train_data.data_hash(ds) == train_data.data_hash(other)
    assert train_data.load_demos(tmp_path / fmt / "dataset" if fmt == "dataset" else tmp_path / fmt)


def test_demos_errors(tmp_path):
    with pytest.raises(UserError, match="demonstrations not found"):
        train_data.load_demos(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no demonstrations"):
        train_data.load_demos(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    for split in train_data.SPLITS:
        (bad / f"{split}.jsonl").write_text(json.dumps({"question": "q", "answer": "a"}) + "\n")
    with pytest.raises(UserError, match="lacks column\\(s\\) prompt, completion"):
        train_data.load_demos(bad)


def test_pairs_prompt_plus_chosen_is_the_cot_evaluation_text():
    doc = csqa_rows(1)[0]
    q = preference_pairs.question(suite.task_name("csqa", "cot"), doc)
    cot_gen = demo_row("cot", doc, 0)["completion"]
    pair = preference_pairs.make_pair(q, " The answer is (E).", cot_gen)
    assert pair["prompt"] == suite.render_prompt(q.zs_task, doc)
    assert pair["prompt"] + pair["chosen"] == suite.render_prompt(q.cot_task, doc) + cot_gen
    assert pair["chosen_correct"] and not pair["rejected_correct"]
    assert preference_pairs.keep(pair, keep_correct_only=True)


def test_build_pairs_filters_incorrect_and_identical():
    docs = csqa_rows(3)
    qs = preference_pairs.questions([demo_row(v, d, i) for i, d in enumerate(docs) for v in ("zs", "cot")])
    assert len(qs) == 3  # zs and cot rows of one question are one question
    right = [suite.answer_sentence(q.cot_task, q.doc) for q in qs]

    def generate(prompts, budgets, desc):
        if "zero-shot" in desc:
            return [" " + right[0], " no idea", " no idea"]
        return [" " + right[0], " " + right[1], " The answer is (Z)."]

    kept, stats = preference_pairs.build_pairs(qs, generate, keep_correct_only=True)
    # the first pair's answers differ by the trigger only: a preference for reasoning aloud
    assert [p["doc"] for p in kept] == [json.dumps(q.doc, ensure_ascii=False) for q in qs[:2]]
    assert stats == {"questions": 3, "kept": 2, "chosen_correct": 2, "rejected_correct": 1, "identical": 0}
    kept, _ = preference_pairs.build_pairs(qs, generate, keep_correct_only=False)
    assert len(kept) == 3


def run_cli(*args: str) -> tuple[int, str]:
    """Exit code and the one error line (progress bars may precede it on stderr)."""
    result = CliRunner().invoke(cli, list(args))
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    return result.exit_code, errors[0]


def test_cli_unknown_recipe_key(tmp_path):
    # paths are checked first (before trl's import), so give ones that pass
    code, out = run_cli(
        "sft", "--recipe", str(TINY_RECIPES / "sft.yaml"), "base_model=org/model", f"data={tmp_path}", "lerning_rate=1"
    )
    assert code != 0 and out.startswith("Error: ") and "lerning_rate" in out


def test_cli_missing_demonstrations(tmp_path, tiny_model_dir):
    code, out = run_cli(
        "sft",
        "--recipe",
        str(TINY_RECIPES / "sft.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={tmp_path / 'missing'}",
        f"output_dir={tmp_path / 'out'}",
    )
    assert code != 0 and "demonstrations not found" in out
    assert not (tmp_path / "out").exists()


def test_cli_wrong_columns(tmp_path, tiny_model_dir):
    data = tmp_path / "demos"
    data.mkdir()
    for split in train_data.SPLITS:
        (data / f"{split}.jsonl").write_text(json.dumps({"prompt": "p", "answer": "a"}) + "\n")
    code, out = run_cli(
        "sft",
        "--recipe",
        str(TINY_RECIPES / "sft.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={data}",
        f"output_dir={tmp_path / 'out'}",
    )
    assert code != 0 and "lacks column(s) completion" in out


def test_cli_adapter_base_mismatch(tmp_path, tiny_model_dir):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    (adapter / model_loading.META_FILE).write_text(json.dumps({"base_fingerprint": {"hidden_size": 4096}}))
    data = write_demos(tmp_path / "demos", csqa_rows(2), ("cot",))
    code, out = run_cli(
        "self-refine",
        "--recipe",
        str(TINY_RECIPES / "dpo.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={data}",
        f"sft_adapter={adapter}",
        f"output_dir={tmp_path / 'out'}",
    )
    assert code != 0 and "trained on a different base model (hidden_size 4096 != 64)" in out


def test_cli_not_an_adapter(tmp_path, tiny_model_dir):
    data = write_demos(tmp_path / "demos", csqa_rows(2), ("cot",))
    code, out = run_cli(
        "self-refine",
        "--recipe",
        str(TINY_RECIPES / "dpo.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={data}",
        f"sft_adapter={tmp_path}",
        f"output_dir={tmp_path / 'out'}",
    )
    assert code != 0 and "is not an adapter directory" in out


def test_cli_output_exists_and_resume_without_checkpoint(tmp_path, tiny_model_dir):
    data = write_demos(tmp_path / "demos", csqa_rows(2))
    base = ["sft", "--recipe", str(TINY_RECIPES / "sft.yaml"), f"base_model={tiny_model_dir}", f"data={data}"]
    code, out = run_cli(*base, f"output_dir={tmp_path / 'demos'}")
    assert code != 0 and "exists already" in out
    code, out = run_cli(*base, f"output_dir={tmp_path / 'new'}", "--resume")
    assert code != 0 and "no checkpoint" in out


def test_resume_skips_a_checkpoint_killed_while_being_written(tmp_path):
    from training.distill import artifacts, checkpoints

    run = tmp_path / "sft.run"
    for step, state in ((5, '{"global_step": 5}'), (10, ""), (15, '{"global_st')):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        (run / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (run / "checkpoint-20").mkdir()  # killed before trainer_state.json
    assert checkpoints.last_checkpoint(run) == run / "checkpoint-5"
    assert artifacts.prepare_run(tmp_path / "sft", run, resume=True) == run / "checkpoint-5"
    with pytest.raises(UserError, match="pass --resume"):
        artifacts.prepare_run(tmp_path / "sft", run, resume=False)
