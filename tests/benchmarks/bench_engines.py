"""lm-eval's ``hf`` beside ``hf-continuous`` on the real student, in one run: time, decode share, agreement.

Model: SmolLM2-135M-Instruct as ``aligncot models pull smollm2-135m-instruct`` writes it
(``--model`` takes any HF directory), fp32 on the CPU, loaded once and shared by both
backends. Questions: the first ``--limit`` rows of ``--task`` (default ``aligncot_csqa_cot``,
128 rows), read from ``$ALIGNCOT_DATA_DIR``, else ``../shared/data``, else the slices shipped
in ``tests/fixtures/data`` (32 rows); the chat template applied, the task's own generation
arguments (greedy, its ``max_gen_toks``, its stop sequences), both at ``--batch-size``
(static batches for ``hf``, sequences in flight for ``hf-continuous``). Each backend is one
``lm_eval.simple_evaluate`` call after an untimed one-question warm-up; ``--order`` says which
runs first (the machine may be shared: alternate it between runs).

Printed:

- wall seconds of each and the ratio ``hf / hf-continuous``;
- useful / computed decode tokens: useful = the tokens of each returned answer re-encoded by
  the student's tokenizer, plus one for the end-of-sequence or the first token of the stop
  sequence (capped at the budget); computed for ``hf`` = per lm-eval batch (its order:
  longest context first) rows x the batch's longest useful count; computed for
  ``hf-continuous`` = the tokens the engine decoded, as it counts them;
- the bound: prefill (the engine run with a one-token budget on the same contexts) plus the
  useful tokens at the continuous run's decode rate;
- agreement: identical answers extracted by the suite's scorer, identical verdicts, identical
  texts, and both accuracies (the rows that differ are listed, text side by side).

    OMP_NUM_THREADS=1 PYTHONPATH=. python tests/benchmarks/bench_engines.py \\
        [--task aligncot_gsm8k_cot] [--limit 128] [--batch-size 32] [--threads 1] [--order hf,hf-continuous]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench_generation import default_model  # noqa: E402  (a sibling script: its directory is on sys.path)

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.data import DATA_DIR_ENV  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"


def data_dir() -> str:
    """Where the questions come from: the environment's data dir, ../shared, or the shipped slices."""
    if os.environ.get(DATA_DIR_ENV):
        return os.environ[DATA_DIR_ENV]
    return str(SHARED_DATA if SHARED_DATA.is_dir() else FIXTURE_DATA)


class DecodeLog:
    """Records what the engine decoded (wraps :func:`training.generation.engine.generate`)."""

    def __init__(self) -> None:
        from training.generation import engine

        self.inner, self.stats = engine.generate, engine.DecodeStats()
        engine.generate = self  # the lm-eval backend calls engine.generate through the module

    def __call__(self, *args, **kwargs):
        return self.inner(*args, **kwargs, stats=self.stats)


def evaluate(lm, task: str, limit: int, task_manager, gen_kwargs: str | None = None) -> tuple[dict, float]:
    """One ``simple_evaluate`` call: results (samples included) and wall seconds."""
    import lm_eval

    start = time.perf_counter()
    out = lm_eval.simple_evaluate(
        model=lm,
        tasks=[task],
        task_manager=task_manager,
        limit=limit,
        gen_kwargs=gen_kwargs,
        log_samples=True,
        apply_chat_template=True,
    )
    return out, time.perf_counter() - start


def useful_tokens(tok, samples: list[dict], budget: int) -> list[int]:
    """Per sample: tokens of the returned answer, plus the one that ended it, capped at the budget."""
    return [min(budget, len(tok(s["resps"][0][0], add_special_tokens=False)["input_ids"]) + 1) for s in samples]


def static_computed(tok, samples: list[dict], useful: list[int], batch: int) -> int:
    """Decode tokens static batching computes: lm-eval's batches (longest context first) x their longest answer."""
    contexts = [s["arguments"][0][0] for s in samples]
    lengths = [len(tok(c, add_special_tokens=False)["input_ids"]) for c in contexts]
    order = sorted(range(len(samples)), key=lambda i: (-lengths[i], contexts[i]))
    chunks = [order[i : i + batch] for i in range(0, len(order), batch)]
    return sum(len(c) * max(useful[i] for i in c) for c in chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="HF model directory (default: the pulled SmolLM2).")
    parser.add_argument("--task", default="aligncot_csqa_cot")
    parser.add_argument("--limit", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads in this process.")
    parser.add_argument("--order", default="hf,hf-continuous", help="Which backend runs first.")
    parser.add_argument("--no-bound", action="store_true", help="Skip the prefill run behind the bound.")
    a = parser.parse_args()

    import torch
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import aligncot_tasks
    from training.distill.model_loading import silence_library_deprecations
    from training.generation import engine
    from training.generation.lm_eval_backend import ContinuousHFLM

    silence_library_deprecations()
    torch.set_num_threads(a.threads)
    os.environ[DATA_DIR_ENV] = data_dir()
    model_dir = a.model or default_model()
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    task_manager = TaskManager(include_path=str(aligncot_tasks.TASKS_DIR), include_defaults=False)
    lms = {
        "hf": HFLM(pretrained=model, tokenizer=tok, batch_size=a.batch_size, device="cpu"),
        "hf-continuous": ContinuousHFLM(pretrained=model, tokenizer=tok, batch_size=a.batch_size, device="cpu"),
    }
    order = a.order.split(",")
    for name in order:  # warm-up: lazy imports, first allocations, task building
        evaluate(lms[name], a.task, 1, task_manager, "max_gen_toks=2")

    log = DecodeLog()
    runs = {name: evaluate(lms[name], a.task, a.limit, task_manager) for name in order}
    decoded = log.stats.decoded
    samples = {name: sorted(r["samples"][a.task], key=lambda s: s["doc_id"]) for name, (r, _) in runs.items()}
    n = len(samples["hf"])
    budget = samples["hf"][0]["arguments"][0][1]["max_gen_toks"]
    print(
        f"model {model_dir} (fp32, CPU, {torch.get_num_threads()} thread(s)); {a.task}: {n} questions from "
        f"{os.environ[DATA_DIR_ENV]}, chat template, greedy, budget {budget}, batch {a.batch_size}; order {a.order}"
    )
    seconds = {name: s for name, (_, s) in runs.items()}
    for name in order:
        print(f"  {name:14s} {seconds[name]:8.1f} s")
    print(f"  wall-time ratio hf / hf-continuous: {seconds['hf'] / seconds['hf-continuous']:.2f}x")

    useful = useful_tokens(tok, samples["hf"], budget)
    static = static_computed(tok, samples["hf"], useful, a.batch_size)
    print(
        f"  useful / computed decode: hf {sum(useful)}/{static} = {sum(useful) / static:.2f}; "
        f"hf-continuous {sum(useful)}/{decoded} = {sum(useful) / max(decoded, 1):.2f}"
    )
    if not a.no_bound:
        contexts = [s["arguments"][0][0] for s in samples["hf"]]
        requests = [engine.Request(tok(c, add_special_tokens=False)["input_ids"], 1) for c in contexts]
        start = time.perf_counter()
        log.inner(model, tok, requests, max_in_flight=a.batch_size)
        prefill = time.perf_counter() - start
        rate = (decoded - n) / max(seconds["hf-continuous"] - prefill, 1e-9)
        bound = prefill + sum(useful) / rate
        print(
            f"  bound: prefill {prefill:.1f} s + useful decode {sum(useful) / rate:.1f} s at {rate:.1f} tok/s "
            f"= {bound:.1f} s (hf / bound = {seconds['hf'] / bound:.2f}x)"
        )

    a_hf, a_cb = samples["hf"], samples["hf-continuous"]
    scores = [
        (suite.score(a.task, x["doc"], x["resps"][0][0]), suite.score(a.task, y["doc"], y["resps"][0][0]))
        for x, y in zip(a_hf, a_cb)
    ]
    same_answer = sum(p.extracted == q.extracted for p, q in scores)
    same_verdict = sum(p.correct == q.correct for p, q in scores)
    same_text = sum(x["resps"] == y["resps"] for x, y in zip(a_hf, a_cb))
    acc = {name: sum(s[k].correct for s in scores) for k, name in enumerate(("hf", "hf-continuous"))}
    print(
        f"  agreement: extracted answer {same_answer}/{n} = {same_answer / n:.1%}, verdict {same_verdict}/{n}, "
        f"text {same_text}/{n}; correct: hf {acc['hf']}, hf-continuous {acc['hf-continuous']}"
    )
    for (p, q), x, y in zip(scores, a_hf, a_cb):
        if x["resps"] != y["resps"]:
            print(f"  doc {x['doc_id']}: answers {p.extracted!r} / {q.extracted!r}")
            print(f"    hf:            {x['resps'][0][0]!r}")
            print(f"    hf-continuous: {y['resps'][0][0]!r}")


if __name__ == "__main__":
    main()
