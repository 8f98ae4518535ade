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
  (``--model DIR`` for another directory); skipped otherwise.

Threads: ``torch.set_num_threads(--threads)`` (default 1); set ``OMP_NUM_THREADS`` to the same.

    PYTHONPATH=. python tests/benchmarks/bench_sft_logits.py [--models tiny,smollm2] [--steps 4] [--repeats 3]
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
MODEL_NAME = "smollm2-135m-instruct"


def demonstrations(tokenizer, n: int) -> list[dict]:
    """``n`` CSQA CoT prompt/completion rows with the chat-templated prompt, as ``aligncot sft`` trains them."""
    from training.distill.chat_format import chat_prompt

    task = suite.task_name("csqa", "cot")
    return [
        {"prompt": chat_prompt(tokenizer, task, r["doc"]), "completion": " " + r["completion"]}
        for r in read_jsonl(CSQA_TEACHER)[:n]
    ]


def pulled_model() -> str | None:
    """The registry's cache directory of the student when it has been pulled, else None."""
    from training.models import registry

    return str(registry.model_dir(MODEL_NAME)) if registry.is_pulled(MODEL_NAME) else None


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
    data = datasets.Dataset.from_list(demonstrations(tok, rows_wanted))
    return CompletionLogitsSFTTrainer(
        model=model, args=args, train_dataset=data, processing_class=tok, peft_config=get_peft_config(model_args)
    )


def step(trainer, compute_loss, batch: dict, opt) -> None:
    compute_loss(trainer, trainer.model, dict(batch)).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)


def measure(trainer, steps: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Per arm: best (wall, CPU) seconds of ``steps`` training steps; prints the batches and the loss check."""
    import torch
    from trl import SFTTrainer

    from training.distill.completion_logits import CompletionLogitsSFTTrainer, scored_positions

    arms = {"full": SFTTrainer.compute_loss, "completion": CompletionLogitsSFTTrainer.compute_loss}
    loader = iter(trainer.get_train_dataloader())
    batches = [next(loader) for _ in range(steps)]
    positions = sum(b["labels"][:, 1:].numel() for b in batches)
    scored = sum(int(scored_positions(b["labels"]).sum()) for b in batches)
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
    return best


def report(best: dict[str, tuple[float, float]], steps: int) -> None:
    (full_wall, full_cpu), (wall, cpu) = best["full"], best["completion"]
    for name, (w, c) in best.items():
        print(f"  {name:10s} {w / steps:7.3f} s/step wall  {c / steps:7.3f} s/step CPU")
    print(f"  step time full / completion-only: {full_wall / wall:.2f}x wall, {full_cpu / cpu:.2f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tiny,smollm2", help="Comma-separated: tiny, smollm2.")
    parser.add_argument("--model", default=None, help="The smollm2 arm's directory (default: the pulled student).")
    parser.add_argument("--rows", type=int, default=64, help="Demonstrations prepared (the batches come from them).")
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
            report(measure(trainer, a.steps, a.repeats), a.steps)
        if "smollm2" in wanted:
            base = a.model or pulled_model()
            if base is None:
                print(f"smollm2: skipped, not pulled (`aligncot models pull {MODEL_NAME}` or --model DIR)")
                return
            recipe = RECIPES / MODEL_NAME / "sft.yaml"
            print(f"smollm2: {base}, fp32, recipe {recipe.relative_to(ROOT)}")
            trainer = trainer_for(base, recipe, a.rows, str(Path(tmp) / "smollm2_out"))
            report(measure(trainer, a.steps, a.repeats), a.steps)


if __name__ == "__main__":
    main()
