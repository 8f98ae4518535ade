"""Annotation throughput against a loopback server with a fixed per-request latency.

With C requests in flight and latency L, no client can finish more than C / L requests per
second: the concurrency-bound limit. This script runs the real annotation loop (jobs,
OpenAI client, scoring, one SQLite commit per answer) against ``tests/fault_server.py`` in
its own process and prints, for each C, the measured rate as a fraction of C / L and as a
multiple of the sequential loop (C = 1) measured in the same run. Target: >= 0.95 at C = 64.

    PYTHONPATH=. python tests/benchmarks/bench_annotate.py [--latency 1.0] [--per-worker 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from synthetic_csqa import csqa_rows  # noqa: E402

from aligncot_tasks import suite  # noqa: E402
from training.annotate.backends.openai import OpenAIBackend  # noqa: E402
from training.annotate.jobs import GenParams, build_jobs  # noqa: E402
from training.annotate.run import annotate  # noqa: E402
from training.annotate.store import Store  # noqa: E402


def measure(url: str, concurrency: int, n: int, tag: str) -> tuple[float, float]:
    """Requests per second of the full annotation loop for ``n`` fresh jobs, and its CPU ms per request."""
    jobs = build_jobs(
        suite.get_task("aligncot_csqa_cot"),
        csqa_rows(n, prefix=f"Bench {tag}"),
        "train",
        GenParams(0.0, 64, 0, chat=False),
        1,
        "openai",
        "bench",
    )
    backend = OpenAIBackend("bench", url, "EMPTY", concurrency=concurrency, timeout=30)
    with tempfile.TemporaryDirectory() as d, Store(d) as store:
        start, cpu = time.perf_counter(), time.process_time()
        totals = annotate(jobs, backend, store, progress=False)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert totals.done == n, totals
    return n / wall, cpu / n * 1000


def measure_bare(url: str, concurrency: int, n: int) -> float:
    """Requests per second of a bare aiohttp loop (no openai client, scoring or store): the
    ceiling this machine and server allow, printed beside the real loop."""
    import asyncio

    import aiohttp

    async def run() -> float:
        todo = iter(range(n))
        async with aiohttp.ClientSession() as session:

            async def worker() -> None:
                for i in todo:
                    async with session.post(f"{url}/completions", json={"model": "bench", "prompt": f"bare {i}"}) as r:
                        await r.json()

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return n / (time.perf_counter() - start)

    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=1.0, help="server seconds per request (LLM calls take seconds)")
    ap.add_argument("--per-worker", type=int, default=30, help="requests per worker (n = C x this)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = ap.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(TESTS / "fault_server.py"), str(args.latency)], stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip()
        measure(url, 8, 16, "warmup")
        rates = {c: measure(url, c, c * args.per_worker, f"c{c}") for c in args.concurrency}
        sequential = rates[1][0] if 1 in rates else measure(url, 1, args.per_worker, "seq")[0]
        top = max(args.concurrency)
        bare = measure_bare(url, top, top * args.per_worker)
    finally:
        server.terminate()
        server.wait(timeout=10)
    # CPU ms per request bounds throughput at 1000 / ms per free core: on a busy machine the
    # loop waits for a core, which shows as a lower fraction of C / L.
    print(
        f"latency {args.latency}s, {args.per_worker} requests per worker, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'C':>4} {'req/s':>9} {'limit C/L':>10} {'of limit':>9} {'x sequential':>13} {'cpu ms/req':>11}")
    for c, (rate, cpu_ms) in rates.items():
        limit = c / args.latency
        print(f"{c:>4} {rate:>9.1f} {limit:>10.1f} {rate / limit:>9.3f} {rate / sequential:>13.1f} {cpu_ms:>11.2f}")
    print(f"bare aiohttp loop at C={top}: {bare:.1f} req/s = {bare / (top / args.latency):.3f} of the limit")


if __name__ == "__main__":
    main()
