"""Padding waste and throughput of SFT batches: packed padding-free vs padded, side by side.

Data: CoT-length demonstrations built from GSM8K reference rationales
(``../shared/data/openai__gsm8k/main/train.jsonl``; the shipped fixture rows when
``../shared`` is absent): prompt = the suite's CoT prompt, completion = the rationale and the
reference's final ``#### N`` line (the lengths are what matters here).

Arms, all through trl's own dataset preparation and collator (what ``aligncot sft`` trains on)
and the same LoRA model, on ``--threads`` CPU threads (1), one optimiser step per batch:

- ``padded``: ``packing=false``, batches of ``--batch-size`` examples padded to the longest;
- ``packed sdpa``: bfd packing, padding-free rows, transformers' SDPA (block-diagonal mask over
  the row);
- ``packed varlen``: the same rows with ``sdpa_varlen`` (what ``aligncot sft`` uses on CPU).

A packed row holds about as many real tokens as a padded batch (``--pack-length``), so the arms
take about the same number of steps. Before timing, each arm's summed completion loss at the
same weights is printed: equal values show the arms train on the same tokens with the same
loss. Timing: forward + backward + AdamW step over the epoch, arms interleaved, best of
``--repeats`` (the machine is shared), after one untimed forward + backward per arm; this
process's CPU seconds are printed beside (steadier than wall time under a neighbour's load).
Tokens/s counts real (non-pad) tokens only.

Models: tiny 2-layer Llamas of ``--hidden`` widths (built on the spot), or with ``--model DIR``
a real model (e.g. ``$(python -m training models pull smollm2-135m-instruct)``) with the LoRA of
``--recipe`` (default: the smollm2 recipe, r16 on all linear layers), fp32. ``--data csqa``
uses the shipped PaLM-540B CommonsenseQA train CoT (what the smollm2 job trains on; prompt =
the suite's CoT prompt without the chat template) instead of GSM8K.

Threads: ``torch.set_num_threads(--threads)`` (default 1) in this process; on a shared machine
give it your share of the cores and set ``OMP_NUM_THREADS`` to the same (see
:mod:`training.threads`, which does this for the pipeline's stage commands).

Targets: padding waste <= 5% (packed), tokens/s packed / padded >= 1.5x.

    PYTHONPATH=. python tests/benchmarks/bench_packing.py [--rows 256] [--hidden 64,256]
    PYTHONPATH=. python tests/benchmarks/bench_packing.py --model DIR --data csqa --rows 64 \
        --batch-size 4 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.data import local_split_path, read_jsonl  # noqa: E402
from training.distill import packed_attention  # noqa: E402

SHARED = Path(os.environ.get("ALIGNCOT_SHARED", ROOT.parent / "shared"))
#: GSM8K's calculator annotations ``<<48/2=24>>`` are not part of the written rationale.
CALC_ANNOTATION = re.compile(r"<<[^>]*>>")
GSM8K = suite.BENCHMARKS["gsm8k"]
CSQA_TEACHER = ROOT / "training" / "data" / "teachers" / "csqa_palm-540b_train.jsonl"
#: The LoRA of the real student's recipe (r16, all linear layers), used with ``--model``.
SMOLLM2_RECIPE = ROOT / "harness_configs" / "recipes" / "smollm2-135m-instruct" / "sft.yaml"


def csqa_demonstrations(n: int) -> tuple[list[dict], str]:
    """``n`` CSQA prompt/completion pairs: the shipped PaLM-540B CoT on train (what the smollm2 job trains on)."""
    task = suite.task_name("csqa", "cot")
    rows = [
        {"prompt": suite.render_prompt(task, r["doc"]), "completion": " " + r["completion"]}
        for r in read_jsonl(CSQA_TEACHER)[:n]
    ]
    return rows, str(CSQA_TEACHER.relative_to(ROOT))


def demonstrations(n: int) -> tuple[list[dict], str]:
    """``n`` GSM8K prompt/completion pairs with the reference rationale, and where they came from."""
    path = local_split_path(SHARED / "data", GSM8K.hub_id, GSM8K.config_name, "train")
    if not path.is_file():
        path = local_split_path(ROOT / "tests" / "fixtures" / "data", GSM8K.hub_id, GSM8K.config_name, "train")
    docs = read_jsonl(path)[:n]
    task = suite.task_name("gsm8k", "cot")
    rows = []
    for doc in docs:
        rows.append(
            {"prompt": suite.render_prompt(task, doc), "completion": " " + CALC_ANNOTATION.sub("", doc["answer"])}
        )
    return rows, str(path)


def trainer_for(model, tok, rows, packing: bool, batch_size: int, max_length: int, out: str):
    import datasets
    from trl import SFTConfig, SFTTrainer

    args = SFTConfig(
        output_dir=out,
        packing=packing,
        packing_strategy="bfd",
        completion_only_loss=True,
        max_length=max_length,
        per_device_train_batch_size=batch_size,
        report_to=[],
        bf16=False,
        use_cpu=True,
        dataloader_drop_last=False,
        seed=0,
    )
    return SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows), processing_class=tok)


def batches(trainer) -> list[dict]:
    return list(trainer.get_train_dataloader())


def waste(batch_list: list[dict]) -> tuple[int, int]:
    """(processed tokens, real tokens) over the batches: padding is processed but not real."""
    processed = sum(b["input_ids"].numel() for b in batch_list)
    if "attention_mask" in batch_list[0]:
        real = sum(int(b["attention_mask"].sum()) for b in batch_list)
    else:  # padding-free: one flattened row per batch; trl pads it only with pad_to_multiple_of (unset)
        real = sum(int(b["cu_seq_lens_q"][-1]) for b in batch_list)
    return processed, real


def model_inputs(batch: dict) -> dict:
    """What ``SFTTrainer.compute_loss`` hands the model: the whole collated batch, without a KV cache."""
    return {**batch, "use_cache": False}


def completion_nll(model, batch_list: list[dict]) -> float:
    """Summed completion-token loss over the batches: equal across arms iff they train on the same loss."""
    import torch

    total = 0.0
    with torch.no_grad():
        for b in batch_list:
            n = int((b["labels"][..., 1:] != -100).sum())
            total += float(model(**model_inputs(b)).loss) * n
    return total


def time_epoch(model, batch_list: list[dict]) -> tuple[float, float]:
    """Wall and CPU seconds of this process for forward + backward + AdamW step over every batch
    (one optimiser step per batch). CPU time is the steadier figure when neighbours load the machine."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    start, cpu = time.perf_counter(), time.process_time()
    for b in batch_list:
        model(**model_inputs(b)).loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    return time.perf_counter() - start, time.process_time() - cpu


#: Arms: (name, packed?, attention implementation). ``sdpa`` is transformers' default.
ARMS = (("padded", False, "sdpa"), ("packed sdpa", True, "sdpa"), ("packed varlen", True, packed_attention.NAME))


def lora_model(base: str, recipe_path: Path | None):
    """``(LoRA model, tokenizer)`` on ``base``: the recipe's LoRA (without one, trl's default rank on all linear layers).

    Dropout is off so that the loss check below compares the arms at the same weights.
    """
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import get_peft_config

    from training.distill.recipes import SFTRecipe, load_recipe

    overrides = [f"base_model={base}", "lora_dropout=0.0"]
    if recipe_path is None:
        # data and output_dir are required keys (nothing is read or written); all-linear as the real recipes.
        overrides += ["data=unused", "output_dir=unused", "lora_target_modules=all-linear"]
    # The LoRA is the one `aligncot sft` trains: trl's get_peft_config of the recipe's model config.
    _, model_args = load_recipe(SFTRecipe, recipe_path, overrides)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    return get_peft_model(model, get_peft_config(model_args)), AutoTokenizer.from_pretrained(base)


def measure(rows: list[dict], hidden: int, a: argparse.Namespace) -> dict[str, tuple[int, int, int, float, float]]:
    """Per arm: (optimizer steps, processed tokens, real tokens, best wall and best CPU seconds per epoch).

    ``hidden`` 0 means ``--model`` (a real model with ``--recipe``'s LoRA), else a tiny Llama.
    """
    from conftest import fixture_texts

    from training.demo.tiny import make_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        if hidden:
            texts = fixture_texts() + [r["prompt"] + r["completion"] for r in rows[:64]]
            base = make_tiny_model(Path(tmp) / "model", texts, hidden_size=hidden)
            model, tok = lora_model(str(base), None)
            what = f"tiny Llama hidden {hidden}, 2 layers, LoRA all-linear"
        else:
            model, tok = lora_model(a.model, a.recipe)
            lora = model.peft_config["default"]
            what = f"{a.model}, LoRA r{lora.r} on {sorted(lora.target_modules)} (recipe {a.recipe})"
        lengths = [len(tok(r["prompt"] + r["completion"])["input_ids"]) + 1 for r in rows]
        longest = max(lengths)
        # Same real tokens per optimiser step in both arms: a packed row holds what a padded batch
        # of batch_size average examples holds, so both take about the same number of steps.
        pack_length = a.pack_length or max(longest, round(a.batch_size * sum(lengths) / len(lengths)))
        padded = batches(trainer_for(model, tok, rows, False, a.batch_size, longest, tmp))
        packed = batches(trainer_for(model, tok, rows, True, 1, pack_length, tmp))
    data = {name: packed if is_packed else padded for name, is_packed, _ in ARMS}
    model.train()
    nll = {}
    for name, _, attn in ARMS:
        model.set_attn_implementation(attn)
        nll[name] = completion_nll(model, data[name])
    for name, _, attn in ARMS:  # untimed warm-up: the first backward pays one-off costs
        model.set_attn_implementation(attn)
        model(**model_inputs(data[name][0])).loss.backward()
        model.zero_grad(set_to_none=True)
    best = {name: (float("inf"), float("inf")) for name, _, _ in ARMS}
    for _ in range(a.repeats):  # interleaved: every arm sees the same background load
        for name, _, attn in ARMS:
            model.set_attn_implementation(attn)
            wall, cpu = time_epoch(model, data[name])
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    print(
        f"{what}; padded: batches of {a.batch_size} examples "
        f"(longest {longest} tokens); packed: bfd rows of {pack_length} tokens, 1 row per step; best of {a.repeats}"
    )
    print("  summed completion loss at the same weights: " + ", ".join(f"{name} {v:.3f}" for name, v in nll.items()))
    return {name: (len(data[name]), *waste(data[name]), *best[name]) for name, _, _ in ARMS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8, help="Padded batch size (examples).")
    parser.add_argument(
        "--pack-length",
        type=int,
        default=0,
        help="Packed row length (default: batch-size x the mean example length, so both arms "
        "take about the same number of optimiser steps).",
    )
    parser.add_argument("--hidden", default="64,256", help="Tiny model widths to measure (64: the test model).")
    parser.add_argument(
        "--model", default=None, help="A real HF model directory instead of tiny models (e.g. the pulled SmolLM2)."
    )
    parser.add_argument(
        "--recipe", type=Path, default=SMOLLM2_RECIPE, help="SFT recipe whose LoRA settings --model trains."
    )
    parser.add_argument("--data", choices=("gsm8k", "csqa"), default="gsm8k", help="Demonstrations (see above).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args()

    import torch

    torch.set_num_threads(a.threads)
    rows, source = (csqa_demonstrations if a.data == "csqa" else demonstrations)(a.rows)
    print(f"data: {len(rows)} {a.data} CoT demonstrations from {source}; CPU, {torch.get_num_threads()} thread(s)")
    for hidden in [0] if a.model else (int(h) for h in a.hidden.split(",")):
        results = measure(rows, hidden, a)
        if len({real for _, _, real, _, _ in results.values()}) != 1:
            raise SystemExit(f"arms saw different real tokens: {results}")
        tps, cps = {}, {}
        for name, (steps, processed, real, seconds, cpu) in results.items():
            tps[name], cps[name] = real / seconds, real / cpu
            print(
                f"  {name:13s} steps={steps:4d} processed={processed:7d} real={real:7d} "
                f"padding waste={100 * (processed - real) / processed:5.1f}%  "
                f"epoch={seconds:6.2f}s  real tokens/s={tps[name]:8.0f}  vs padded {tps[name] / tps['padded']:.2f}x  "
                f"(per CPU-second {cps[name]:8.0f}, {cps[name] / cps['padded']:.2f}x)"
            )
        print("  targets: packed waste <= 5%, real tokens/s packed/padded >= 1.5x")


if __name__ == "__main__":
    main()
