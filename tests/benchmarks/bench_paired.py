"""Paired bootstrap at MMLU size: the multinomial shortcut vs resampling question indices.

Both draw the same distribution (a resample only changes how many questions of each kind it
holds); this prints their time side by side and the two intervals.

    python tests/benchmarks/bench_paired.py [--n 14042] [--resamples 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from training.evaluate import paired


def index_bootstrap(a: np.ndarray, b: np.ndarray, resamples: int, seed: int, chunk: int = 500) -> tuple[float, float]:
    """The textbook paired bootstrap: resample question indices, in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    d = a.astype(np.int8) - b.astype(np.int8)
    means = np.concatenate(
        [
            d[rng.integers(0, d.size, size=(min(chunk, resamples - i), d.size))].mean(axis=1)
            for i in range(0, resamples, chunk)
        ]
    )
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=14042)
    parser.add_argument("--resamples", type=int, default=paired.RESAMPLES)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = rng.random(args.n) < 0.55
    b = np.where(rng.random(args.n) < 0.85, a, ~a)
    t0 = time.perf_counter()
    fast = paired.compare(a, b, args.resamples)
    t1 = time.perf_counter()
    slow = index_bootstrap(a, b, args.resamples, seed=1)
    t2 = time.perf_counter()
    print(f"n={args.n} resamples={args.resamples}")
    print(f"multinomial (paired.compare, incl. McNemar): {t1 - t0:.3f}s  CI={fast.ci[0]:+.4f},{fast.ci[1]:+.4f}")
    print(f"index resampling:                            {t2 - t1:.3f}s  CI={slow[0]:+.4f},{slow[1]:+.4f}")
    print(f"speed-up: {(t2 - t1) / (t1 - t0):.0f}x")


if __name__ == "__main__":
    main()
