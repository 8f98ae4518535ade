"""Wrong training inputs, refused before any work (issue 22, defects 3, 7 and 8): recipe values
out of range, paths checked before trl's import, `demos` on an empty dir and its validation
share, bitsandbytes' offline kernel-hub warning."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from synthetic_csqa import csqa_rows, write_split
from test_demos import GOLDS, make_annotations

from training.distill import model_loading
from training.distill.cli import demos_command as demos
from training.distill.demos import build
from training.distill.recipe_checks import check_ranges
from training.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def model_dir(tmp_path) -> Path:
    """Something that passes for a base model directory (the checks read only its config.json)."""
    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text("{}")
    return d


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("num_train_epochs=-1", "'num_train_epochs' must be > 0 (or set max_steps), got -1"),
        ("learning_rate=-0.0001", "'learning_rate' must be >= 0, got -0.0001"),
        ("per_device_train_batch_size=0", "'per_device_train_batch_size' must be >= 1, got 0"),
        ("per_device_eval_batch_size=0", "'per_device_eval_batch_size' must be >= 1, got 0"),
        ("gradient_accumulation_steps=0", "'gradient_accumulation_steps' must be >= 1, got 0"),
        ("max_length=8", "'max_length' must be >= 16, got 8"),
    ],
)
@pytest.mark.parametrize("recipe", ["SFTRecipe", "DPORecipe"])
def test_out_of_range_recipe_values_are_refused(recipe, override, message, model_dir, tmp_path):
    from training.distill import recipes

    keys = [f"base_model={model_dir}", f"data={tmp_path}", f"output_dir={tmp_path / 'o'}", override]
    if recipe == "DPORecipe":
        keys.append(f"sft_adapter={tmp_path}")
    with pytest.raises(UserError) as e:
        recipes.load_recipe(getattr(recipes, recipe), None, keys)
    assert str(e.value) == f"command line: recipe key {message}"


def test_zero_epochs_with_max_steps_is_fine(model_dir, tmp_path):
    from training.distill import recipes

    keys = [f"base_model={model_dir}", f"data={tmp_path}", f"output_dir={tmp_path / 'o'}"]
    train, _ = recipes.load_recipe(recipes.SFTRecipe, None, [*keys, "num_train_epochs=0", "max_steps=3"])
    assert train.max_steps == 3
    with pytest.raises(UserError, match="'sft.num_train_epochs' must be > 0"):  # the pipeline names its section
        check_ranges(recipes.SFTRecipe(output_dir=str(tmp_path / "p"), num_train_epochs=-1), "r.yaml", "sft.")


def run_cli(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "training", *args], cwd=ROOT, capture_output=True, text=True)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    ("command", "keys", "message"),
    [
        ("sft", ["base_model=/nonexistent/dir"], "base_model /nonexistent/dir: directory not found"),
        ("sft", ["base_model={tmp}"], "not a model directory (no config.json)"),
        ("sft", ["base_model={model}", "data={tmp}/none"], "demonstrations not found"),
        (
            "self-refine",
            ["base_model={model}", "sft_adapter={tmp}/none"],
            "sft_adapter {tmp}/none: directory not found",
        ),
        ("self-refine", ["base_model={model}", "sft_adapter={tmp}"], "is not an adapter directory (no adapter_config"),
    ],
)
def test_paths_are_checked_before_trl_is_imported(command, keys, message, model_dir, tmp_path):
    fill = {"model": model_dir, "tmp": tmp_path}
    keys = [k.format(**fill) for k in keys]
    base = {"data": str(tmp_path), "output_dir": str(tmp_path / "out"), "sft_adapter": str(tmp_path)}
    given = {k.split("=")[0] for k in keys}
    keys += [f"{k}={v}" for k, v in base.items() if k not in given and (k != "sft_adapter" or command != "sft")]
    # -X importtime lists every module imported: trl must not be among them
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "training", command, *keys], cwd=ROOT, capture_output=True, text=True
    )
    lines = [x for x in proc.stderr.splitlines() if not x.startswith("import time:")]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-500:]
    assert lines[0].startswith("Error: command line: ") and message.format(**fill) in lines[0]
    assert "| trl" not in proc.stderr and "| torch" not in proc.stderr


def test_offline_kernel_hub_warning_is_dropped(caplog):
    model_loading.silence_offline_kernel_hub()
    name, prefix = model_loading.OFFLINE_KERNEL_HUB
    with caplog.at_level(logging.WARNING):
        logging.getLogger(name).warning("%s: could not verify publisher trust status", prefix)
        logging.getLogger(name).warning("another warning")
    assert [r.getMessage() for r in caplog.records] == ["another warning"]


@pytest.fixture()
def annotated(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "data"
    rows = csqa_rows(200, golds=GOLDS)
    write_split(root, "train", rows)
    write_split(root, "validation", csqa_rows(8, prefix="Evaluation question"))
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    return make_annotations(tmp_path / "ann", rows)


def test_val_fraction_is_a_share_of_the_sampled_questions(annotated):
    train, val, _ = build([annotated], "all", "answer", 20, 1.0, 0.2, 0)
    assert len(train) == 20 and len(val) == 5  # 5 / (20 + 5) = 0.2, not 0.2 of all 200 questions
    bigger, bigger_val, _ = build([annotated], "all", "answer", 40, 1.0, 0.2, 0)
    assert len(bigger_val) == 10 and {r["doc_id"] for r in val} < {r["doc_id"] for r in bigger_val}  # nested
    assert not {r["doc_id"] for r in bigger} & {r["doc_id"] for r in bigger_val}


def test_demos_on_an_empty_dir_says_annotate_first(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(demos, [str(empty), "--out", str(tmp_path / "d")])
    assert result.exit_code == 1 and "holds no annotations: annotate into it first" in result.output
    assert "--export" not in result.output and not (tmp_path / "d").exists()


def test_demos_manifest_records_the_validation_it_wrote(annotated, tmp_path):
    result = CliRunner().invoke(demos, [str(annotated), "--out", str(tmp_path / "d"), "--balance", "40"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "d" / "demos.json").read_text())
    assert manifest["train"] == 40 and manifest["validation"] == 3  # ceil(0.05 / 0.95 * 40)
