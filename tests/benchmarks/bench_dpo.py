"""DPO step time with and without precomputed reference log-probabilities, side by side.

What ``aligncot self-refine`` trains: trl's ``DPOTrainer`` continuing a LoRA adapter with
``ref_model=None`` (trl adds the frozen ``ref`` copy of the adapter as the reference). Arms:

- ``per step``: ``precompute_ref_log_probs=false``: every step runs a reference forward pass
  over the batch's chosen and rejected answers beside the policy's forward + backward;
- ``precomputed``: ``precompute_ref_log_probs=true``: trl computes the reference log-probs of
  every training pair once, when the trainer is built, and the steps read them from the batch.

Data: CSQA CoT pairs from the shipped PaLM-540B train CoT (``prompt`` = the suite's CoT prompt,
``chosen`` = a row's rationale, ``rejected`` = the next row's: realistic lengths). Model: a tiny
random 2-layer Llama built on the spot, or ``--model DIR`` (e.g. ``$(python -m training models
pull smollm2-135m-instruct)``) with a random r16 LoRA on all linear layers. CUDA when available
(bf16 autocast), else CPU with ``--threads`` threads (fp32).

Printed per arm: the one-off precompute time, the median step time over ``--steps`` steps (the
first step is warm-up and not counted), and the per-step ratio; then the ratio of the whole run
(precompute included) over one pass of ``--pairs`` pairs.

Two more arms compare the ways a round can train on correct answers alone (the NLL loss):
``DPO [sft]`` is ``DPOTrainer`` with ``loss_type: [sft]`` and precomputed reference log-probs
(how the ``civ-nllonly`` variants of issue 17 trained: every step forwards the rejected answers,
and the reference log-probs are computed though the loss never reads them); ``SFT rows`` is what
a round with the NLL loss alone runs now, for ``pairs: correct_samples`` and for pairs with
``loss_type: [sft]`` (training/distill/refine_sft.py: ``SFTTrainer`` on the same ``prompt`` +
``chosen`` as prompt/completion rows, no reference). Same batch, same answers.

    PYTHONPATH=. python tests/benchmarks/bench_dpo.py [--steps 10] [--pairs 64] [--batch-size 8]
    PYTHONPATH=. python tests/benchmarks/bench_dpo.py --model DIR --steps 10 --pairs 64
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TQDM_DISABLE", "1")  # trl's and datasets' progress bars would bury the table

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.data import read_jsonl  # noqa: E402

CSQA_TEACHER = ROOT / "training" / "data" / "teachers" / "csqa_palm-540b_train.jsonl"
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"


def pairs(n: int) -> list[dict]:
    """``n`` CSQA CoT preference pairs of realistic length (see the module docstring)."""
    task = suite.task_name("csqa", "cot")
    rows = read_jsonl(CSQA_TEACHER)[: n + 1]
    return [
        {
            "prompt": suite.render_prompt(task, a["doc"]),
            "chosen": " " + a["completion"],
            "rejected": " " + b["completion"],
        }
        for a, b in zip(rows, rows[1:])
    ]


def make_adapter(base_dir: Path, out: Path) -> None:
    """A random (non-zero) LoRA adapter on all linear layers, saved like an SFT adapter."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    config = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir), config).save_pretrained(out)


class StepTimer:
    """A ``TrainerCallback`` recording the wall time of each optimiser step."""

    def __init__(self, cuda: bool):
        from transformers import TrainerCallback

        timer = self
        self.times: list[float] = []

        class Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                timer._sync(cuda)
                timer.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                timer._sync(cuda)
                timer.times.append(time.perf_counter() - timer.started)

        self.callback = Callback()

    @staticmethod
    def _sync(cuda: bool) -> None:
        if cuda:
            import torch

            torch.cuda.synchronize()


def run_arm(base_dir: Path, adapter: Path, data, arm: str, args, cuda: bool, tmp: Path) -> dict:
    """Build the trainer (timing trl's precompute, which runs in ``__init__``) and time ``args.steps`` steps.

    ``arm``: ``per step``, ``precomputed`` (DPO), ``DPO [sft]`` or ``SFT rows`` (module docstring).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOTrainer

    from training.distill import model_loading, refine_sft
    from training.distill.recipes import DPORecipe, load_recipe

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = model_loading.load_trainable_adapter(AutoModelForCausalLM.from_pretrained(base_dir), adapter)
    nll = arm in ("DPO [sft]", "SFT rows")
    config, _ = load_recipe(
        DPORecipe,
        None,
        [
            f"base_model={base_dir}",
            "data=unused",
            f"sft_adapter={adapter}",
            f"output_dir={tmp / arm.replace(' ', '_')}",
            f"max_steps={args.steps}",
            f"per_device_train_batch_size={args.batch_size}",
            f"precompute_ref_log_probs={arm != 'per step'}",
            f"loss_type={'[sft]' if nll else '[sigmoid]'}",
            f"pairs={'correct_samples' if arm == 'SFT rows' else 'correct_vs_incorrect'}",
            "max_length=512",
            "learning_rate=1e-5",
            "save_strategy='no'",
            "eval_strategy='no'",
            "load_best_model_at_end=false",
            f"logging_steps={10**6}",
            "report_to=[none]",
            f"bf16={cuda}",
            "activation_checkpointing=false",
            "dataloader_num_workers=0",
            "disable_tqdm=true",
            "seed=0",
        ],
    )
    timer = StepTimer(cuda)
    started = time.perf_counter()
    if arm == "SFT rows":
        rows = data.map(lambda r: {"completion": r["chosen"]}).select_columns(["prompt", "completion"])
        trainer = refine_sft.make_trainer(config, model, tokenizer, rows, None)
    else:
        trainer = DPOTrainer(model=model, ref_model=None, args=config, train_dataset=data, processing_class=tokenizer)
    built = time.perf_counter() - started
    trainer.add_callback(timer.callback)
    trainer.train()
    steps = timer.times[1:] or timer.times
    return {"build_s": built, "step_s": statistics.median(steps), "steps": len(steps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="base model directory (default: a tiny random model)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=64, help="training pairs (what precompute covers)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import datasets
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.set_num_threads(args.threads)
    datasets.disable_caching()  # each arm computes its reference log-probs afresh
    cuda = torch.cuda.is_available()
    data = datasets.Dataset.from_list(pairs(args.pairs))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        base = args.model
        if base is None:
            from training.demo.tiny import make_tiny_model

            texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURE_DATA.rglob("*.jsonl"))]
            base = make_tiny_model(tmp / "model", texts)
        make_adapter(base, tmp / "adapter")
        device = torch.cuda.get_device_name() if cuda else f"CPU, {args.threads} thread(s)"
        print(
            f"model {base if args.model else 'tiny random Llama'}; {device}; {args.pairs} pairs, batch {args.batch_size}"
        )
        arms = ("per step", "precomputed", "DPO [sft]", "SFT rows")
        res = {arm: run_arm(base, tmp / "adapter", data, arm, args, cuda, tmp) for arm in arms}
    for name, r in res.items():
        print(f"{name:12s} build {r['build_s']:7.2f} s   median step {r['step_s']:.4f} s over {r['steps']} steps")
    epoch_steps = -(-args.pairs // args.batch_size)
    whole = {arm: r["build_s"] + epoch_steps * r["step_s"] for arm, r in res.items()}
    for slow, fast in (("per step", "precomputed"), ("DPO [sft]", "SFT rows")):
        print(f"step time {slow} / {fast}: {res[slow]['step_s'] / res[fast]['step_s']:.2f}x")
        print(
            f"one pass over {args.pairs} pairs ({epoch_steps} steps, build included) {slow} / {fast}: "
            f"{whole[slow] / whole[fast]:.2f}x"
        )


if __name__ == "__main__":
    main()
