"""``aligncot eval``: the models x tasks matrix on tiny models, an adapter and an API endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from training.evaluate.cli import eval_command
from training.evaluate.config import ConfigError, EvalConfig, ModelSpec
from training.evaluate.leaderboard.board import build_board, read_results_file
from training.evaluate.matrix import CELL_KEY, finished_cells, run_matrix

GEN = "max_gen_toks=4"  # tiny random models never stop early; keep generations short


@pytest.mark.parametrize(
    "flag, message",
    [
        ("name=a,pretrained=m,colour=red", "unknown key 'colour'"),
        ("name=a,pretrained=m,backend=local-completions", "needs base_url"),
        ("name=a,pretrained=m,backend=local-chat-completions,base_url=http://h", "set chat_template: true"),
        ("name=a,pretrained=m,backend=vllm", r"backend: Input should be 'hf', .* got 'vllm'"),
        ("name=a,pretrained", "'pretrained': expected KEY=VALUE"),
    ],
)
def test_bad_model_specs_name_the_problem(flag, message):
    with pytest.raises(ConfigError, match=message):
        ModelSpec.from_flag(flag)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("limit", "abc", "limit: .*got 'abc'"),
        ("limit", -3, "limit: .*got -3"),
        (
            "models",
            [{"name": "a", "pretrained": "m", "chat_template": "yes"}],
            r"models\[0\]\.chat_template: .*boolean, got 'yes'",
        ),
    ],
)
def test_config_types_are_refused_up_front_in_one_line(key, value, message):
    raw = {"models": [{"name": "a", "pretrained": "m"}], "tasks": ["aligncot_zs"], key: value}
    with pytest.raises(ConfigError, match=message) as e:
        EvalConfig.from_dict(raw)
    assert "\n" not in str(e.value)


def test_config_validates_tasks_and_names():
    spec = ModelSpec("a", "m")
    with pytest.raises(ConfigError, match="unknown task or group 'aligncot_nope'"):
        EvalConfig((spec,), ("aligncot_nope",))
    with pytest.raises(ConfigError, match="unique"):
        EvalConfig((spec, spec), ("aligncot_csqa_zs",))
    assert EvalConfig.from_dict({"models": [{"name": "a", "pretrained": "m"}], "tasks": ["aligncot_zs"]}).tasks == (
        "aligncot_zs",
    )


def test_cli_error_is_one_line_and_writes_nothing(tmp_path):
    out = CliRunner().invoke(
        eval_command,
        ["--model", "name=a,pretrained=m", "--tasks", "aligncot_nope", "--output-dir", str(tmp_path / "o")],
    )
    assert out.exit_code != 0 and out.output.strip().startswith("Error: unknown task") and not (tmp_path / "o").exists()


def test_truncated_or_sample_less_results_do_not_count_as_done(tmp_path):
    key = {"task": "aligncot_csqa_zs"}
    good = {"configs": {"aligncot_csqa_zs": {}}, CELL_KEY: key}
    (tmp_path / "results_1.json").write_text(json.dumps(good))
    assert finished_cells(tmp_path) == []  # its samples file is missing
    (tmp_path / "samples_aligncot_csqa_zs_1.jsonl").write_text("{}\n")
    assert finished_cells(tmp_path) == [key]
    (tmp_path / "results_2.json").write_text(json.dumps(good)[:20])  # killed mid-write
    assert finished_cells(tmp_path) == [key]


@pytest.fixture(scope="module")
def adapter_dir(tiny_model_dir, tmp_path_factory) -> Path:
    """A LoRA adapter with non-zero weights, so the adapted model generates differently."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.distill.model_loading import silence_library_deprecations

    silence_library_deprecations()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = get_peft_model(
        base, LoraConfig(r=4, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False)
    )
    out = tmp_path_factory.mktemp("adapter") / "lora"
    model.save_pretrained(out)
    return out


def generations(directory: Path, task: str) -> list:
    (path,) = directory.glob(f"samples_{task}_*.jsonl")
    return [json.loads(line)["resps"] for line in path.read_text().splitlines()]


@pytest.mark.parametrize(
    "tasks",
    [
        ("aligncot_csqa_zs", "aligncot_csqa_cot"),
        pytest.param(("aligncot_qa_zs", "aligncot_qa_cot"), marks=pytest.mark.slow),  # two groups (62 tasks each)
    ],
)
def test_matrix_hf_adapter_and_api_then_rerun_skips(tmp_path, tiny_model_dir, adapter_dir, offline_data, tasks):
    from training.demo.serving import served

    limit = 2 if tasks[0] == "aligncot_csqa_zs" else 1
    out = tmp_path / "results"
    with served(tiny_model_dir) as url:
        models = (
            ModelSpec("student", str(tiny_model_dir)),
            ModelSpec("student-lora", str(tiny_model_dir), peft=str(adapter_dir)),
            ModelSpec("api", str(tiny_model_dir), backend="local-completions", base_url=f"{url}/completions"),
        )
        cfg = EvalConfig(models, tasks, output_dir=str(out), limit=limit, gen_kwargs=GEN, device="cpu")
        written = run_matrix(cfg, echo=lambda _: None)
        assert len(written) == 6
        lines = []
        assert run_matrix(cfg, echo=lines.append) == []  # every cell done: nothing re-evaluated
    assert sum("done before, skipped" in line for line in lines) == 6
    assert "Building contexts" in (out / "lm_eval.log").read_text()  # lm-eval's chatter: in its log, not echoed
    assert len(list(out.rglob("results_*.json"))) == 6
    for model in ("student", "student-lora", "api"):  # lm-eval's layout: OUT/<model>/results_* + samples_*
        data = json.loads(next((out / model).glob("results_*.json")).read_text())
        assert data["model_name"] == model and data[CELL_KEY]["limit"] == limit
        # the row's tokenizer reaches the tasks (lm-eval task metadata): `truncated` is reported
        metrics = {key for result in data["results"].values() for key in result}
        assert ("truncated,none" in metrics) == (model != "api"), (model, sorted(metrics))
    leaf = "aligncot_csqa_zs"
    assert generations(out / "student", leaf) != generations(out / "student-lora", leaf)  # the adapter is applied
    board = build_board([out])
    assert sorted(board.rows) == ["api", "student", "student-lora"]
    for path in written:
        label, scores = read_results_file(path)
        raw = json.loads(path.read_text())["results"]
        for bench, variant in scores:
            assert board.get(label, (bench, variant)).acc == raw[f"aligncot_{bench}_{variant}"]["acc,none"]
    # A different limit is a different cell.
    cfg2 = EvalConfig(models[:1], tasks[:1], output_dir=str(out), limit=limit + 1, gen_kwargs=GEN, device="cpu")
    assert len(run_matrix(cfg2, echo=lambda _: None)) == 1


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).resolve().parents[1] / "harness_configs" / "eval").glob("*.yaml")),
    ids=lambda p: p.name,
)
def test_shipped_eval_configs_are_valid(path):
    from training.evaluate.config import load_config

    cfg = EvalConfig.from_dict(load_config(path), str(path))
    assert cfg.models and cfg.tasks


def test_api_rows_cannot_rank_options_by_loglikelihood():
    api = ModelSpec("api", "m", backend="local-completions", base_url="http://127.0.0.1:1/v1/completions")
    with pytest.raises(ConfigError, match="aligncot_csqa_ll ranks options by log-likelihood"):
        EvalConfig((api,), ("aligncot_zs", "aligncot_ll"))
    EvalConfig((api,), ("aligncot_zs", "aligncot_cot"))  # generation tasks are fine
