"""SFT step time with trl's LM head over every position vs over the completion positions only.

``aligncot sft`` trains with :class:`training.distill.completion_logits.CompletionLogitsSFTTrainer`
(recipe key ``completion_logits_only``, on by default): the output layer projects only the
positions whose next-token label is in the loss. trl's own head, on CPU, projects every
position of the row. This script times both on the same trainer, model and batches.

Data: the shipped PaLM-540B CommonsenseQA train CoT (what the smollm2 job trains on), prompt =
the suite's CoT prompt rendered with the student's chat template (the smollm2 recipe's
``chat_template: true``), completion = the teacher's rationale; batches from trl's own dataset
preparation and collator under the recipe's packing and batch size.

Arms, on the same batches and weights, one after the other within each repeat:

- ``full``: ``SFTTrainer.compute_loss`` (trl's fused head over every position);
- ``completion``: ``CompletionLogitsSFTTrainer.compute_loss`` (the scored positions only).

Each timed step is forward + backward + AdamW step; an arm's time is its best of ``--repeats``
passes over ``--steps`` batches (the machine is shared), after one untimed step per arm; this
process's CPU seconds are printed beside. Before timing, both arms' losses on the first batch at
the same weights are printed (they must agree).

Models, in one run:

- ``tiny``: a random 2-layer Llama built on the spot, trained with the tiny recipe (always; its
  vocabulary is 512 tokens, so its output layer is a small part of the step: it shows the
  machinery, not the saving);
- ``smollm2``: the pulled SmolLM2-135M-Instruct (``aligncot models pull smollm2-135m-instruct``)
  with the smollm2 recipe's LoRA, packing and batch size, fp32, when it is in the cache
  (``--model DIR`` for another directory); skipped otherwise;
- ``gemma``: the pulled google/gemma-3-270m (``aligncot models pull gemma-3-270m``; a base model,
  so plain-text prompts) with its recipe, when it is in the cache; skipped otherwise. Its
  262k-token vocabulary makes the output layer a large part of the step.

For each real model the script prints tokens/s (the batches' tokens over the best wall time) and
the time one epoch of ``--epoch-rows`` demonstrations would take at that rate; with both real
models, the ratio of their completion-only rates (what ``aligncot sft`` trains with).

Threads: ``torch.set_num_threads(--threads)`` (default 1); set ``OMP_NUM_THREADS`` to the same.

    PYTHONPATH=. python tests/benchmarks/bench_sft_logits.py [--models tiny,smollm2,gemma] [--steps 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.data import read_jsonl  # noqa: E402

CSQA_TEACHER = ROOT / "training" / "data" / "teachers" / "csqa_palm-540b_train.jsonl"
RECIPES = ROOT / "harness_configs" / "recipes"
# Bench arm -> the registry's name, which is also the recipe directory's.
REAL_MODELS = {"smollm2": "smollm2-135m-instruct", "gemma": "gemma-3-270m"}


def demonstrations(tokenizer, n: int, chat: bool) -> list[dict]:
    """``n`` CSQA CoT prompt/completion rows, the prompt chat-templated or plain as the recipe says
    (what ``aligncot sft`` trains on)."""
    from training.distill.chat_format import chat_prompt

    task = suite.task_name("csqa", "cot")
    return [
        {
            "prompt": chat_prompt(tokenizer, task, r["doc"]) if chat else suite.render_prompt(task, r["doc"]),
            "completion": " " + r["completion"],
        }
        for r in read_jsonl(CSQA_TEACHER)[:n]
    ]


def pulled_model(name: str) -> str | None:
    """The registry's cache directory of model ``name`` when it has been pulled, else None."""
    from training.models import registry

    return str(registry.model_dir(name)) if registry.is_pulled(name) else None


def epoch_tokens(trainer, rows: int) -> int:
    """Tokens one epoch of the first ``rows`` demonstrations trains through, for the projection: each
    prompt and completion tokenized as one text with the trainer's tokenizer, plus the EOS trl
    appends (a tokenizer that prepends BOS adds one more per row in trl's own preparation)."""
    tok, chat = trainer.processing_class, trainer.args.chat_template
    total = 0
    for row in demonstrations(tok, rows, chat):
        total += len(tok(row["prompt"] + row["completion"], add_special_tokens=False)["input_ids"]) + 1
    return total


def trainer_for(base: str, recipe: Path, rows_wanted: int, out: str):
    """The recipe's trainer on ``base`` (what ``aligncot sft`` builds), LoRA dropout off so the arms' losses compare."""
    import datasets
    from trl import get_peft_config

    from training.distill import model_loading, sft
    from training.distill.completion_logits import CompletionLogitsSFTTrainer
    from training.distill.recipes import SFTRecipe, load_recipe

    overrides = [f"base_model={base}", "data=unused", f"output_dir={out}", "lora_dropout=0.0", "report_to=[]"]
    overrides += ["eval_strategy='no'", "save_strategy='no'"]  # nothing is evaluated or saved here (YAML: quoted)
    args, model_args = load_recipe(SFTRecipe, recipe, overrides)
    model_args, _ = model_loading.resolve_precision(model_args, cuda=False)
    tok = model_loading.load_tokenizer(base)
    model = model_loading.load_base(model_args, attn_implementation=sft.attention(args, model_args, cuda=False))
    data = datasets.Dataset.from_list(demonstrations(tok, rows_wanted, args.chat_template))
    return CompletionLogitsSFTTrainer(
        model=model, args=args, train_dataset=data, processing_class=tok, peft_config=get_peft_config(model_args)
    )


def step(trainer, compute_loss, batch: dict, opt) -> None:
    compute_loss(trainer, trainer.model, dict(batch)).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def measure(trainer, steps: int, repeats: int) -> tuple[dict[str, tuple[float, float]], int]:
    """Per arm: best (wall, CPU) seconds of ``steps`` training steps, and the batches' token count;
    prints the batches and the loss check."""
    import torch
    from trl import SFTTrainer

    from training.distill.completion_logits import CompletionLogitsSFTTrainer, scored_positions

    arms = {"full": SFTTrainer.compute_loss, "completion": CompletionLogitsSFTTrainer.compute_loss}
    loader = iter(trainer.get_train_dataloader())
    batches = [next(loader) for _ in range(steps)]
    positions = sum(b["labels"][:, 1:].numel() for b in batches)
    scored = sum(int(scored_positions(b["labels"]).sum()) for b in batches)
    # Packed rows are padding-free (no mask): every input position is a token.
    tokens = sum(int(b["attention_mask"].sum()) if "attention_mask" in b else b["input_ids"].numel() for b in batches)
    rows, length = batches[0]["labels"].shape
    print(
        f"  {steps} batches, {positions // steps} positions each on average (the first: {rows} x {length} "
        f"rows x tokens); {scored} of the {positions} positions scored ({100 * scored / positions:.0f}%)"
    )
    model = trainer.model
    model.train()
    with torch.no_grad():
        losses = {name: fn(trainer, model, dict(batches[0])).item() for name, fn in arms.items()}
    print("  first-batch loss at the same weights: " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    for fn in arms.values():  # untimed warm-up: the first backward pays one-off costs
        step(trainer, fn, batches[0], opt)
    best = {name: (float("inf"), float("inf")) for name in arms}
    for _ in range(repeats):
        for name, fn in arms.items():
            start, cpu = time.perf_counter(), time.process_time()
            for batch in batches:
                step(trainer, fn, batch, opt)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best, tokens


def report(best: dict[str, tuple[float, float]], steps: int, tokens: int) -> float:
    """Print each arm's step time and tokens/s; returns the completion-only arm's tokens/s."""
    (full_wall, full_cpu), (wall, cpu) = best["full"], best["completion"]
    for name, (w, c) in best.items():
        print(f"  {name:10s} {w / steps:7.3f} s/step wall  {c / steps:7.3f} s/step CPU  {tokens / w:7.0f} tokens/s")
    print(f"  step time full / completion-only: {full_wall / wall:.2f}x wall, {full_cpu / cpu:.2f}x CPU")
    return tokens / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tiny,smollm2,gemma", help="Comma-separated: tiny, smollm2, gemma.")
    parser.add_argument("--model", default=None, help="The smollm2 arm's directory (default: the pulled student).")
    parser.add_argument("--rows", type=int, default=64, help="Demonstrations prepared (the batches come from them).")
    parser.add_argument("--epoch-rows", type=int, default=2000, help="Demonstrations in the projected epoch.")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    a = parser.parse_args()

    import torch

    from training.distill import model_loading

    model_loading.silence_library_deprecations()
    torch.set_num_threads(a.threads)
    wanted = a.models.split(",")
    print(
        f"data: CSQA CoT demonstrations from {CSQA_TEACHER.relative_to(ROOT)}; CPU, {torch.get_num_threads()} thread(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if "tiny" in wanted:
            from conftest import fixture_texts

            from training.demo.tiny import make_tiny_model

            base = make_tiny_model(Path(tmp) / "tiny", fixture_texts())
            print(f"tiny: random 2-layer Llama, vocab 512, recipe {(RECIPES / 'tiny' / 'sft.yaml').relative_to(ROOT)}")
            trainer = trainer_for(str(base), RECIPES / "tiny" / "sft.yaml", a.rows, str(Path(tmp) / "tiny_out"))
            best, tokens = measure(trainer, a.steps, a.repeats)
            report(best, a.steps, tokens)
        rates: dict[str, float] = {}
        for arm, name in REAL_MODELS.items():
            if arm not in wanted:
                continue
            base = (a.model if arm == "smollm2" else None) or pulled_model(name)
            if base is None:
                print(f"{arm}: skipped, not pulled (`aligncot models pull {name}`)")
                continue
            recipe = RECIPES / name / "sft.yaml"
            print(f"{arm}: {base}, fp32, recipe {recipe.relative_to(ROOT)}")
            trainer = trainer_for(base, recipe, a.rows, str(Path(tmp) / f"{arm}_out"))
            best, tokens = measure(trainer, a.steps, a.repeats)
            rates[arm] = report(best, a.steps, tokens)
            total = epoch_tokens(trainer, a.epoch_rows)
            print(
                f"  one epoch of the first {a.epoch_rows} demonstrations: {total} tokens, "
                f"{total / rates[arm] / 60:.0f} min at this rate (training steps only)"
            )
            del trainer
        if len(rates) == 2:
            print(f"completion-only tokens/s, smollm2 / gemma: {rates['smollm2'] / rates['gemma']:.2f}x")


if __name__ == "__main__":
    main()
