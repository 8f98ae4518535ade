"""lm-eval backend ``hf-continuous`` and its selection in ``aligncot eval``, on the tiny model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from training.evaluate.cli import eval_command
from training.evaluate.config import ConfigError, EvalConfig, ModelSpec
from training.evaluate.matrix import run_matrix

GEN = "max_gen_toks=12"


def _resps(result: dict, task: str) -> list:
    return [s["resps"] for s in result["samples"][task]]


@pytest.mark.parametrize("chat", [False, True])
def test_generations_equal_hf_one_prompt_at_a_time(evaluate_tiny, tiny_model_dir, task_manager, offline_data, chat):
    """Greedy ``generate_until`` on the engine gives lm-eval's ``hf`` texts (batch 1: no padding)."""
    import lm_eval

    import training.generation.lm_eval_backend  # noqa: F401

    task = "aligncot_csqa_cot"
    kwargs = {"log_samples": True, "apply_chat_template": chat}
    reference = evaluate_tiny([task], 4, gen_kwargs=GEN, batch_size=1, **kwargs)
    continuous = lm_eval.simple_evaluate(
        model="hf-continuous",
        model_args=f"pretrained={tiny_model_dir},dtype=float32,device=cpu",
        tasks=[task],
        task_manager=task_manager,
        limit=4,
        gen_kwargs=GEN,
        batch_size=3,
        **kwargs,
    )
    assert _resps(continuous, task) == _resps(reference, task)
    assert all(r[0][0] for r in _resps(continuous, task))  # something was generated


def test_loglikelihood_is_hflm_unchanged(evaluate_tiny, tiny_model_dir, task_manager, offline_data):
    import lm_eval

    import training.generation.lm_eval_backend  # noqa: F401

    task = "aligncot_csqa_ll"
    reference = evaluate_tiny([task], 3, batch_size=2, log_samples=True)
    continuous = lm_eval.simple_evaluate(
        model="hf-continuous",
        model_args=f"pretrained={tiny_model_dir},dtype=float32,device=cpu",
        tasks=[task],
        task_manager=task_manager,
        limit=3,
        batch_size=2,
        log_samples=True,
    )
    assert _resps(continuous, task) == _resps(reference, task)


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ConfigError, match="'hf', 'hf-continuous', 'auto', 'local-completions'") as e:
        ModelSpec.from_flag("name=a,pretrained=m,backend=hf-static")
    assert "\n" not in str(e.value)


def test_default_backend_is_continuous_on_cpu_only():
    spec = ModelSpec("a", "/m")
    assert (spec.lm_eval_backend("cpu"), spec.lm_eval_backend("cuda")) == ("hf-continuous", "hf")
    assert ModelSpec("a", "/m", backend="hf").lm_eval_backend("cpu") == "hf"


@pytest.mark.parametrize(
    "flag, message",
    [
        ("name=a,pretrained={missing},backend=hf-continuous", "pretrained directory .* does not exist"),
        ("name=a,pretrained={model},peft={missing}", "peft directory .* does not exist"),
        ("name=a,pretrained={model},backend=hf-continuous,batch_size=0", "batch_size: .*greater than or equal to 1"),
    ],
)
def test_bad_rows_fail_in_one_line_before_a_model_loads(tmp_path, tiny_model_dir, monkeypatch, flag, message):
    import training.evaluate.matrix as matrix

    monkeypatch.setattr(matrix, "build_lm", lambda *a: pytest.fail("a model was loaded"))
    spec = flag.format(missing=tmp_path / "absent", model=tiny_model_dir)
    out = CliRunner().invoke(
        eval_command, ["--model", spec, "--tasks", "aligncot_csqa_cot", "--output-dir", str(tmp_path / "o")]
    )
    assert out.exit_code != 0 and not (tmp_path / "o").exists()
    assert len(out.output.strip().splitlines()) == 1 and out.output.startswith("Error: ")
    assert re.search(message, out.output), out.output


def test_hub_ids_are_not_checked_as_paths(tmp_path):
    cfg = EvalConfig((ModelSpec("a", "org/model"),), ("aligncot_csqa_cot",), str(tmp_path))
    cfg.check_local_paths()  # left to transformers


@pytest.mark.slow
def test_aligncot_eval_end_to_end_with_hf_continuous(tmp_path, tiny_model_dir, offline_data):
    """``aligncot eval`` with ``backend=hf-continuous``: results and samples, the backend recorded, resumable."""
    out = tmp_path / "results"
    args = [
        "--model",
        f"name=cont,pretrained={tiny_model_dir},backend=hf-continuous,batch_size=4,chat_template=true",
        "--tasks",
        "aligncot_csqa_cot,aligncot_csqa_ll",
        "--limit",
        "5",
        "--gen-kwargs",
        GEN,
        "--device",
        "cpu",
        "--output-dir",
        str(out),
    ]
    first = CliRunner().invoke(eval_command, args)
    assert first.exit_code == 0, first.output
    assert "2 cell(s) evaluated" in first.output and "lm_eval run --model hf " in first.output
    files = sorted(Path(out / "cont").glob("results_*.json"))
    assert len(files) == 2
    for path in files:
        data = json.loads(path.read_text())
        assert data["config"]["model"] == "hf-continuous"
        assert data["aligncot_cell"]["backend"] == "hf-continuous"
    samples = next(Path(out / "cont").glob("samples_aligncot_csqa_cot_*.jsonl")).read_text().splitlines()
    assert len(samples) == 5
    again = CliRunner().invoke(eval_command, args)
    assert again.exit_code == 0 and "0 cell(s) evaluated" in again.output
    cfg = EvalConfig((ModelSpec("cont", str(tiny_model_dir), "hf-continuous"),), ("aligncot_csqa_cot",), str(out))
    assert cfg.models[0].lm_eval_backend("cpu") == "hf-continuous"
    assert run_matrix is not None


def test_pipeline_eval_rows_take_the_recipe_backend(tmp_path):
    from training.pipeline.recipe import load_recipe
    from training.pipeline.run import Pipeline

    for override, want in (((), "auto"), (("eval.backend=hf",), "hf")):
        recipe, _ = load_recipe("demo", override)
        cfg = Pipeline(recipe, tmp_path / "run").eval_config(None)
        students = [m for m in cfg["models"] if m["name"].startswith("student")]
        assert students and {m["backend"] for m in students} == {want}
        EvalConfig.from_dict(cfg)
    with pytest.raises(Exception, match="backend"):
        load_recipe("demo", ("eval.backend=vllm",))


def test_leaderboard_names_rows_generated_by_hf_continuous(tmp_path):
    from training.evaluate.leaderboard.board import build_board
    from training.evaluate.leaderboard.render import notes

    for name, backend in (("cont", "hf-continuous"), ("static", "hf")):
        (tmp_path / name).mkdir()
        data = {"model_name": name, "config": {"model": backend}, "results": {"aligncot_csqa_cot": {"acc,none": 0.5}}}
        (tmp_path / name / "results_1.json").write_text(json.dumps(data))
    board = build_board([tmp_path])
    assert board.backends == {"cont": {"hf-continuous"}, "static": {"hf"}}
    assert [n for n in notes(board, None) if "hf-continuous" in n] == [
        "cont: generated by hf-continuous (continuous batching; lm-eval's hf otherwise)."
    ]
