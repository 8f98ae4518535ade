"""The eval-only install, as a new user does it: a fresh venv, ``pip install torch && pip install -e .``,
then the README's one ``lm_eval`` command on a base model plus a PEFT adapter.

Slow (minutes: it installs lm-eval, transformers, datasets... into an empty venv) and needs a
package index (PyPI or the machine's pip configuration). lm-eval >= 0.4.10's ``--model hf``
imports accelerate, and ``peft=`` imports peft: the core install must bring both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_DATA, ROOT, fixture_texts

#: The torch the README pins before the project (an unpinned one pulls GBs of CUDA packages).
TORCH = "torch==2.13.0"


def _tiny_model_and_adapter(root: Path) -> tuple[Path, Path]:
    """A random 2-layer Llama and a LoRA adapter over it, built with the dev environment's peft."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.demo.tiny import make_tiny_model

    model_dir = make_tiny_model(root / "model", fixture_texts())
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    adapter = root / "adapter"
    get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"])).save_pretrained(adapter)
    return model_dir, adapter


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_eval_only_install_runs_the_readme_lm_eval_command(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
    for args in ([TORCH], ["-e", str(ROOT)]):
        done = subprocess.run(pip + args, capture_output=True, text=True)
        if done.returncode and "No matching distribution" in done.stderr + done.stdout:
            pytest.skip(f"no package index reachable: {done.stderr[-300:]}")
        assert done.returncode == 0, done.stderr[-3000:]
    model_dir, adapter = _tiny_model_and_adapter(tmp_path)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "OMP_NUM_THREADS": "1",
        "ALIGNCOT_DATA_DIR": str(FIXTURE_DATA),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }
    # The README's command, word for word apart from the paths and a 2-question, 8-token budget.
    command = (
        f'lm_eval --model hf --model_args pretrained={model_dir},peft={adapter} --include_path "$(aligncot tasks --path)"'
        " --tasks aligncot_csqa_cot --limit 2 --gen_kwargs max_gen_toks=8"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "aligncot_csqa_cot" in done.stdout and "peft" in done.stdout
    # The venv is the one used, not the dev environment this test runs in.
    assert Path(sys.executable).resolve() != (bin_dir / "python").resolve()
