"""Tokens/s of the project's batched generation beside lm-eval's ``--model hf``, side by side.

Model: SmolLM2-135M-Instruct as ``aligncot models pull smollm2-135m-instruct`` writes it
(``--model`` takes any HF directory), fp32 on the CPU. Questions: the first ``--questions``
CommonsenseQA validation rows (``$ALIGNCOT_DATA_DIR`` when set, else the validation docs
shipped in ``training/data/teachers/``), prompted with the suite's ``aligncot_csqa_cot``
prompt (:func:`aligncot_tasks.suite.render_prompt`, no chat template), greedy, at most
``--max-new-tokens`` new tokens, cut at the task's stop sequences.

Arms (two code paths of the project, and the reference), each at every ``--batch-sizes``:

- ``student``: :func:`training.generation.student.generate_hf`, what self-refine generates
  its preference pairs with (the continuous-batching engine: at most the batch size in
  flight, each row leaving at EOS, a stop sequence or the budget);
- ``annotate``: :class:`training.annotate.backends.hf.HFBackend` (the annotation teacher's
  hf backend), its text cut at the stop sequences as ``aligncot annotate`` does; it loads
  its own copy of the model through its own ``load()``;
- ``lm-eval``: lm-eval's ``HFLM`` (the class ``lm_eval --model hf`` builds) ``generate_until``
  on the same prompts, with the ``generation_kwargs`` of the task YAML lm-eval reads
  (``until`` = the suite's stop sequences) and ``max_gen_toks`` = ``--max-new-tokens``; it
  stops a batch once every row has met a stop sequence or EOS.

Counting: every arm is credited with the tokens of the text it returns (after the stop cut),
re-encoded by the model's tokenizer without special tokens -- lm-eval returns only text,
so this is the one count all three arms allow. Tokens an arm decodes past a stop sequence
and throws away are therefore its own cost, not credit. ``same text`` is the fraction of
questions on which an arm's text equals lm-eval's (batches pad differently, so fp32 rounding
can flip a greedy step).

Timing: per batch size the arms run back to back in rotating order (the machine is shared:
neighbours see the same load), after one untimed warm-up call per arm; wall seconds, and this
process's CPU seconds beside them (steadier when neighbours load the machine: with one thread,
CPU time is the work done). A batch size listed twice (``--batch-sizes 16,16,16``) is measured
again with the next arm first. Batch size ``B``
generates at most ``--max-batches`` batches (``B x max-batches`` questions), so batch 1 does
not take hours: every ratio compares arms on the same questions.

Threads: ``torch.set_num_threads(--threads)`` (default 1) in this one process. On a shared
2-core machine two torch processes with 2 OpenMP threads each run ~10x slower than one; set
``--threads`` to your share of the cores (``OMP_NUM_THREADS=1`` as well, so that OpenMP's pool
is never larger). The pipeline gives its stage commands ``OMP_NUM_THREADS`` the same way
(:mod:`training.threads`).

    PYTHONPATH=. python tests/benchmarks/bench_generation.py [--questions 64] \\
        [--max-new-tokens 48] [--batch-sizes 1,16,64] [--max-batches 8] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.data import DATA_DIR_ENV, load_rows, read_jsonl  # noqa: E402
from training.generation.stops import cut_at_stop  # noqa: E402

TASK = "aligncot_csqa_cot"
TASK_YAML = ROOT / "aligncot_tasks" / "tasks" / "csqa" / f"{TASK}.yaml"
SHIPPED_VALIDATION = ROOT / "training" / "data" / "teachers" / "csqa_palm-540b_validation.jsonl"
#: ``aligncot models pull`` cache entry (``$ALIGNCOT_HOME``, default ``~/.cache/aligncot``).
MODEL_NAME = "smollm2-135m-instruct"

#: An arm: (prompts, docs, batch size, max new tokens) -> returned texts, in input order.
Arm = Callable[[list[str], list[dict], int, int], list[str]]


def questions(n: int) -> tuple[list[dict], str]:
    """The first ``n`` CSQA validation rows and where they came from."""
    spec = suite.get_task(TASK)
    if os.environ.get(DATA_DIR_ENV):
        rows = load_rows(spec.benchmark.hub_id, spec.dataset_config, spec.benchmark.eval_split)
        return rows[:n], f"${DATA_DIR_ENV}"
    return [r["doc"] for r in read_jsonl(SHIPPED_VALIDATION)[:n]], str(SHIPPED_VALIDATION.relative_to(ROOT))


def default_model() -> str:
    """The pulled student's directory (the registry's cache path), or exit naming the pull command."""
    from training.models import registry

    if not registry.is_pulled(MODEL_NAME):
        path = registry.model_dir(MODEL_NAME)
        raise SystemExit(f"{path} missing: run `python -m training models pull {MODEL_NAME}` or pass --model")
    return str(registry.model_dir(MODEL_NAME))


def student_arm(model, tok) -> Arm:
    from training.generation.student import generate_hf

    def run(prompts, docs, batch_size, max_new):
        return generate_hf(model, tok, prompts, max_new, batch_size, desc=f"student b{batch_size}")

    return run


def annotate_arm(model_dir: str) -> Arm:
    from training.annotate.backends.hf import HFBackend
    from training.annotate.jobs import GenParams, build_jobs

    backend = HFBackend(model=model_dir, device="cpu", dtype="float32")
    backend.load()  # outside the timing, like the other arms' model

    def run(prompts, docs, batch_size, max_new):
        params = GenParams(0.0, max_new, None, chat=False)
        jobs = build_jobs(suite.get_task(TASK), docs, "validation", params, 1, "hf", model_dir)
        texts: dict[str, str] = {}
        backend.batch_size = batch_size
        backend.run(jobs, lambda job, result: texts.__setitem__(job.key, cut_at_stop(result.text, job.params.stop)[0]))
        return [texts[j.key] for j in jobs]

    return run


def lm_eval_arm(model, tok, batch_sizes: list[int]) -> Arm:
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    # The task YAML lm-eval reads (not a copy of its stop sequences); only the budget changes.
    task_kwargs = yaml.safe_load(TASK_YAML.read_text(encoding="utf-8"))["generation_kwargs"]
    # HFLM fixes its batch size at construction: one per size, built before timing, sharing the model.
    lms = {b: HFLM(pretrained=model, tokenizer=tok, batch_size=b, device="cpu") for b in {1, *batch_sizes}}

    def run(prompts, docs, batch_size, max_new):
        kwargs = {**task_kwargs, "max_gen_toks": max_new}
        requests = [
            Instance("generate_until", doc, (prompt, dict(kwargs)), idx=0) for prompt, doc in zip(prompts, docs)
        ]
        return lms[batch_size].generate_until(requests, disable_tqdm=True)

    return run


def timed(arm: Arm, prompts, docs, batch_size: int, max_new: int) -> tuple[list[str], float, float]:
    """The arm's texts, and the wall and CPU seconds of this process it took."""
    start, cpu = time.perf_counter(), time.process_time()
    texts = arm(prompts, docs, batch_size, max_new)
    return texts, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF model directory (default: the pulled SmolLM2 cache entry).")
    parser.add_argument("--questions", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-sizes", default="1,16,64")
    parser.add_argument("--max-batches", type=int, default=8, help="At most this many batches per batch size.")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads in this process.")
    a = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(a.threads)
    model_dir = a.model or default_model()
    docs, source = questions(a.questions)
    prompts = [suite.render_prompt(TASK, d) for d in docs]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    batch_sizes = [int(b) for b in a.batch_sizes.split(",")]
    arms = {
        "student": student_arm(model, tok),
        "annotate": annotate_arm(model_dir),
        "lm-eval": lm_eval_arm(model, tok, batch_sizes),
    }
    print(
        f"model {model_dir} (fp32, CPU, {torch.get_num_threads()} thread(s)); {len(docs)} CSQA validation questions "
        f"from {source}; {TASK} prompt, greedy, max {a.max_new_tokens} new tokens; tokens = re-encoded returned text"
    )
    for arm in arms.values():
        arm(prompts[:1], docs[:1], 1, 2)  # warm-up: first-call allocations, lazy imports

    for k, batch_size in enumerate(batch_sizes):
        n = min(len(docs), batch_size * a.max_batches) if a.max_batches else len(docs)
        names = list(arms)
        names = names[k % len(names) :] + names[: k % len(names)]  # rotate who goes first
        results = {name: timed(arms[name], prompts[:n], docs[:n], batch_size, a.max_new_tokens) for name in names}
        ref_texts = results["lm-eval"][0]
        tps, cps = {}, {}
        print(f"batch {batch_size}: {n} questions, order {', '.join(names)}")
        for name in arms:
            texts, seconds, cpu = results[name]
            tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)
            tps[name], cps[name] = tokens / seconds, tokens / cpu
            same = sum(t == r for t, r in zip(texts, ref_texts)) / n
            print(
                f"  {name:9s} {tokens:6d} tokens in {seconds:7.1f}s = {tps[name]:6.1f} tok/s "
                f"(per CPU-second {cps[name]:6.1f})  same text {same:.0%}"
            )
        print(
            "  ours/lm-eval: "
            + ", ".join(
                f"{name} {tps[name] / tps['lm-eval']:.2f}x (CPU {cps[name] / cps['lm-eval']:.2f}x)"
                for name in arms
                if name != "lm-eval"
            )
        )


if __name__ == "__main__":
    main()
