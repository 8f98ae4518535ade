"""The run's last line, ``eval.students`` and ``gpu_recipe`` (issue 19: `make demo`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from training.pipeline import cli
from training.pipeline.headline import headline
from training.pipeline.recipe import RecipeError, load_recipe
from training.pipeline.run import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "harness_configs" / "recipes" / "smollm2-135m-instruct" / "results" / "csqa300"


def test_headline_is_the_paired_comparison_of_the_shipped_runs(tmp_path):
    """The shipped base and SFT (run 2) samples give the published +11.3 points, p = 0.0024."""
    for name, shipped in (("student-base", "base"), ("student-sft", "sft-run2")):
        shutil.copytree(SHIPPED / shipped, tmp_path / name / "m")
    line = headline(tmp_path, "SmolLM2-135M-Instruct", "aligncot_csqa_cot", "student-base", "student-sft")
    assert line == (
        "SmolLM2-135M-Instruct on 300 CSQA questions: base 20.7% -> student 32.0% (+11.3 points, McNemar p=0.0024)"
    )


def test_eval_students_choose_the_rows_and_the_headline_compares_base_with_the_last(tmp_path):
    recipe, _ = load_recipe("smollm2_demo", ("eval.students=[student-base, student-sft-dpo]",))
    pipeline = Pipeline(recipe, tmp_path / "run")
    rows = [m["name"] for m in pipeline.eval_config(None)["models"]]
    assert rows == ["student-base", "student-sft-dpo"]
    assert pipeline.student_title == "SmolLM2-135M-Instruct"
    default, _ = load_recipe("smollm2_demo", ("eval.students=null",))
    assert Pipeline(default, tmp_path / "d").final_rows() == ("student-base", "student-sft", "student-sft-dpo")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (("self_refine=null", "eval.students=[student-base, student-sft-dpo]"), "needs a self_refine stage"),
        (("eval.students=[student-base, student-base]",), "at most once"),
        (("eval.students=[student-sft2]",), "students"),
        (("gpu_recipe=no-such-recipe",), "gpu_recipe: recipe 'no-such-recipe' not found"),
    ],
)
def test_bad_students_or_gpu_recipe_fail_when_the_recipe_loads(override, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe("smollm2_demo", override)


def test_a_gpu_switches_the_demo_to_its_full_size_recipe_and_says_so(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "cuda_available", lambda: True)
    monkeypatch.setattr(cli, "run_stages", lambda stages, *a, **k: seen.append([s.name for s in stages]) or [])
    monkeypatch.setattr(cli, "pipeline_headline", lambda pipeline: f"run dir {pipeline.run_dir.name}")
    out = CliRunner().invoke(cli.run, ["smollm2_demo", "--run-dir", str(tmp_path / "smollm2_csqa")])
    assert out.exit_code == 0, out.output
    assert "a GPU is here: running the full-size recipe smollm2_csqa instead of smollm2_demo" in out.output
    assert out.output.strip().splitlines()[-1] == "run dir smollm2_csqa" and seen
    monkeypatch.setattr(cli, "cuda_available", lambda: False)
    out = CliRunner().invoke(cli.run, ["smollm2_demo", "--run-dir", str(tmp_path / "cpu")])
    assert out.exit_code == 0 and "a GPU is here" not in out.output
