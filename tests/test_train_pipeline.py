"""The training pipeline on a tiny model: ``aligncot sft`` (artifacts, memorisation judged by the real lm_eval CLI,
kill-and-resume, 2-process ``accelerate launch``) and ``aligncot self-refine`` (DPO learns the preference)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from train_support import ROOT, TINY_RECIPES, csqa_rows, write_demos, write_eval_data

import aligncot_tasks
from aligncot_tasks import suite
from training.cli import main as cli
from training.distill import checkpoints
from training.distill.model_loading import META_FILE

#: Questions of the functional proof; each appears as a zs and a cot demonstration.
N_DOCS = 8
VARIANTS = ("zs", "cot")


def env() -> dict:
    """Subprocess environment: the checkout importable, one thread (the machine is shared)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def sft(*args: str) -> str:
    result = CliRunner().invoke(cli, ["sft", "--recipe", str(TINY_RECIPES / "sft.yaml"), *args])
    assert result.exit_code == 0, result.output[-3000:]
    return result.output


def test_sft_writes_adapter_tokenizer_and_card(tmp_path, tiny_model_dir):
    data = write_demos(tmp_path / "demos", csqa_rows(2))
    out = tmp_path / "sft"
    sft(f"base_model={tiny_model_dir}", f"data={data}", f"output_dir={out}", "num_train_epochs=1")
    names = {p.name for p in out.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "README.md", META_FILE} <= names
    meta = json.loads((out / META_FILE).read_text())
    card = (out / "README.md").read_text()
    assert meta["base_model"] == str(tiny_model_dir) and meta["aligncot_version"] == aligncot_tasks.__version__
    assert meta["data_sha256"] in card and f"base_model: {tiny_model_dir}" in card
    assert meta["recipe"]["learning_rate"] == 5e-3 and meta["train_steps"] >= 1 and meta["world_size"] == 1
    assert "eval_loss" in meta["final_metrics"]
    assert not list(tmp_path.glob(".sft.*"))  # no temporary directory left behind
    assert checkpoints.last_checkpoint(tmp_path / "sft.run") is not None


def test_final_eval_reuses_the_trainers_last_step_evaluation():
    from types import SimpleNamespace

    from training.distill.sft import final_eval

    calls = []
    trainer = SimpleNamespace(
        state=SimpleNamespace(
            global_step=22,
            log_history=[{"loss": 0.5, "step": 22}, {"eval_loss": 0.6, "eval_runtime": 3.0, "epoch": 1.0, "step": 22}],
        ),
        evaluate=lambda: calls.append(1) or {"eval_loss": 0.7},
    )
    assert final_eval(trainer) == {"eval_loss": 0.6, "eval_runtime": 3.0, "epoch": 1.0} and not calls
    trainer.state.global_step = 30  # the last evaluation was before the last step: evaluate again
    assert final_eval(trainer) == {"eval_loss": 0.7} and calls == [1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_model_dir):
    """An SFT adapter trained on N_DOCS questions x (zs, cot) demonstrations."""
    root = tmp_path_factory.mktemp("sft")
    docs = csqa_rows(N_DOCS)
    data = write_demos(root / "demos", docs, VARIANTS)
    sft(f"base_model={tiny_model_dir}", f"data={data}", f"output_dir={root / 'sft'}")
    return {"root": root, "docs": docs, "data": data, "adapter": root / "sft", "base": tiny_model_dir}


def lm_eval_acc(model_args: str, data_dir: Path, out: Path) -> dict[str, float]:
    """Run the real ``lm_eval`` CLI on the suite's CommonsenseQA tasks; accuracy per task."""
    tasks = [suite.task_name("csqa", v) for v in VARIANTS]
    cmd = [
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        model_args,
        "--device",
        "cpu",
        "--include_path",
        str(aligncot_tasks.TASKS_DIR),
        "--tasks",
        ",".join(tasks),
        "--batch_size",
        "16",
        "--output_path",
        str(out),
    ]
    proc = subprocess.run(
        cmd, env={**env(), "ALIGNCOT_DATA_DIR": str(data_dir)}, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(next(out.rglob("results_*.json")).read_text())["results"]
    return {t: results[t]["acc,none"] for t in tasks}


@pytest.mark.slow
def test_lm_eval_scores_the_adapter_not_the_base(trained):
    """The adapter reproduces its training answers under lm-eval's own prompts; the base does not."""
    root, base = trained["root"], trained["base"]
    data_dir = write_eval_data(root / "eval_data", trained["docs"])
    adapter_acc = lm_eval_acc(f"pretrained={base},peft={trained['adapter']},dtype=float32", data_dir, root / "ev_a")
    base_acc = lm_eval_acc(f"pretrained={base},dtype=float32", data_dir, root / "ev_b")
    print("adapter", adapter_acc, "base", base_acc)
    assert all(acc >= 0.8 for acc in adapter_acc.values()), adapter_acc
    assert all(acc <= 0.2 for acc in base_acc.values()), base_acc


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_step_count(tmp_path, tiny_model_dir):
    data = write_demos(tmp_path / "demos", csqa_rows(4))
    out = tmp_path / "sft"
    cmd = [
        sys.executable,
        "-m",
        "training",
        "sft",
        "--recipe",
        str(TINY_RECIPES / "sft.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={data}",
        f"output_dir={out}",
        "num_train_epochs=30",
    ]
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_dir = tmp_path / "sft.run"
    deadline = time.monotonic() + 300
    while checkpoints.last_checkpoint(run_dir) is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = checkpoints.last_checkpoint(run_dir)
    assert killed_at is not None and proc.returncode == -signal.SIGKILL
    assert not out.exists() and not list(tmp_path.glob(".sft.*"))  # nothing that looks finished
    state = json.loads((killed_at / "trainer_state.json").read_text())
    assert state["global_step"] < state["max_steps"]

    fresh = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    assert fresh.returncode != 0 and "--resume" in fresh.stderr  # refuses to mix runs
    resumed = subprocess.run(cmd + ["--resume"], env=env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    meta = json.loads((out / META_FILE).read_text())
    assert meta["train_steps"] == state["max_steps"]
    steps = [e["step"] for e in json.loads((out / "log_history.json").read_text()) if "loss" in e]
    assert steps == sorted(steps) and len(steps) == len(set(steps))  # one history, no restart from 0


@pytest.mark.slow
def test_accelerate_two_processes_save_one_adapter(tmp_path, tiny_model_dir):
    data = write_demos(tmp_path / "demos", csqa_rows(8))
    out = tmp_path / "sft"
    cmd = [
        "accelerate",
        "launch",
        "--config_file",
        str(ROOT / "harness_configs/accelerate/cpu_2proc.yaml"),
        "-m",
        "training",
        "sft",
        "--recipe",
        str(TINY_RECIPES / "sft.yaml"),
        f"base_model={tiny_model_dir}",
        f"data={data}",
        f"output_dir={out}",
        "num_train_epochs=2",
    ]
    proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("adapter written to") == 1  # only the main process publishes
    assert (out / "adapter_model.safetensors").is_file() and not list(tmp_path.glob(".sft.*"))
    assert json.loads((out / META_FILE).read_text())["world_size"] == 2


def sequence_logps(model, tok, prompt: str, completions: list[str]) -> list[float]:
    """Sum of log-probabilities of each completion (+ eos) after ``prompt``."""
    import torch

    out = []
    n_prompt = len(tok(prompt)["input_ids"])
    for completion in completions:
        ids = torch.tensor([tok(prompt + completion + tok.eos_token)["input_ids"]])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0, :-1].float()
        logp = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None])[:, 0]
        out.append(float(logp[n_prompt - 1 :].sum()))
    return out


@pytest.mark.slow
def test_self_refine_learns_to_prefer_its_cot_answers(trained):
    import datasets
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root, base = trained["root"], trained["base"]
    out = root / "dpo"
    result = CliRunner().invoke(
        cli,
        [
            "self-refine",
            "--recipe",
            str(TINY_RECIPES / "dpo.yaml"),
            f"base_model={base}",
            f"data={trained['data']}",
            f"sft_adapter={trained['adapter']}",
            f"output_dir={out}",
        ],
    )
    assert result.exit_code == 0, result.output[-3000:]

    pairs = datasets.load_from_disk(str(root / "dpo.pairs"))
    assert len(pairs["train"]) >= N_DOCS // 2 and all(pairs["train"]["chosen_correct"])
    for pair in pairs["train"]:
        doc = json.loads(pair["doc"])
        assert pair["prompt"] == suite.render_prompt(pair["task"], doc)
        cot_prompt = suite.render_prompt(suite.task_name("csqa", "cot"), doc)
        assert (pair["prompt"] + pair["chosen"]).startswith(cot_prompt)  # what lm-eval's cot task evaluates

    assert not (out / "ref").exists() and (out / "adapter_model.safetensors").is_file()
    log = [e for e in json.loads((out / "log_history.json").read_text()) if "rewards/margins" in e and "loss" in e]
    margins = [e["rewards/margins"] for e in log]
    assert log[-1]["rewards/accuracies"] == 1.0 and margins[-1] > margins[0]

    # Independently of trl's logs: the published adapter prefers chosen over rejected
    # relative to the SFT policy (the DPO implicit reward) on every training pair.
    tok = AutoTokenizer.from_pretrained(base)
    models = {
        name: PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), str(path)).eval()
        for name, path in (("sft", trained["adapter"]), ("dpo", out))
    }
    for pair in pairs["train"]:
        lp = {n: sequence_logps(m, tok, pair["prompt"], [pair["chosen"], pair["rejected"]]) for n, m in models.items()}
        margin = (lp["dpo"][0] - lp["sft"][0]) - (lp["dpo"][1] - lp["sft"][1])
        assert margin > 0, pair
