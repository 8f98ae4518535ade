"""Scoring throughput: numeric scorer generations/s, MATH checker latency percentiles.

Not collected by pytest. Needs ``../shared`` (or ``ALIGNCOT_SHARED``)::

    PYTHONPATH=$PWD python tests/benchmarks/bench_scoring.py

Numeric: every GPT-3 GSM8K solution in ``generations/gsm8k_gpt3_solutions.jsonl`` scored
with ``suite.score`` (extraction + comparison), best of three passes. MATH: ``is_correct``
on the real MATH test answers, per item, in two workloads measured side by side: each
gold answer against itself (the cheap normalised path) and against the next gold answer
of the same type (mostly a mismatch, which goes to the bounded symbolic worker).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aligncot_tasks import suite  # noqa: E402
from aligncot_tasks.items import Item  # noqa: E402
from aligncot_tasks.scoring import latex, symbolic  # noqa: E402

SHARED = Path(os.environ.get("ALIGNCOT_SHARED", ROOT.parent / "shared"))


def bench_numeric() -> float:
    rows = [json.loads(line) for line in open(SHARED / "generations" / "gsm8k_gpt3_solutions.jsonl", encoding="utf-8")]
    spec = suite.get_task("aligncot_gsm8k_cot")
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        agree = sum(suite.score(spec, r["doc"], r["generation"]).correct == r["reference_correct"] for r in rows)
        best = min(best, time.perf_counter() - t)
    rate = len(rows) / best
    print(
        f"numeric: {len(rows)} GSM8K generations in {best:.3f} s = {rate:,.0f} generations/s; agreement with is_correct {agree}/{len(rows)} = {agree / len(rows):.4%}"
    )
    return rate


def percentiles(latencies: list[float]) -> str:
    q = statistics.quantiles(latencies, n=100)
    return f"p50 {q[49] * 1e3:7.2f} ms  p99 {q[98] * 1e3:7.2f} ms  max {max(latencies) * 1e3:7.1f} ms"


def bench_math() -> None:
    golds: dict[str, list[str]] = {}
    for path in sorted((SHARED / "data" / "EleutherAI__hendrycks_math").glob("*/test.jsonl")):
        golds[path.parent.name] = [
            latex.reference_answer(json.loads(line)["solution"]) for line in open(path, encoding="utf-8")
        ]
    symbolic.warm_up()  # worker start-up is paid once per run, not per item
    symbolic_calls: list[float] = []
    check = symbolic.equivalent

    def timed_check(gold: str, pred: str) -> bool:  # latency of the worker round trip alone
        t = time.perf_counter()
        try:
            return check(gold, pred)
        finally:
            symbolic_calls.append(time.perf_counter() - t)

    symbolic.equivalent = timed_check
    for name, shift in (("self", 0), ("next", 1)):
        latencies, n_true = [], 0
        kills, symbolic_calls[:] = symbolic._CHECKER.kills, []
        for answers in golds.values():
            for i, gold in enumerate(answers):
                pred = answers[(i + shift) % len(answers)]
                t = time.perf_counter()
                n_true += latex.is_correct(pred, Item("q", gold))
                latencies.append(time.perf_counter() - t)
        print(
            f"MATH checker, gold vs {name} gold: n={len(latencies)} equal={n_true}  {percentiles(latencies)}  total {sum(latencies):.1f} s  workers killed {symbolic._CHECKER.kills - kills}"
        )
        if len(symbolic_calls) > 1:
            print(f"  of which symbolic (worker) checks: n={len(symbolic_calls)}  {percentiles(symbolic_calls)}")
    symbolic.equivalent = check


if __name__ == "__main__":
    if not (SHARED / "data").is_dir():
        sys.exit(f"{SHARED} not found: set ALIGNCOT_SHARED")
    bench_numeric()
    bench_math()
