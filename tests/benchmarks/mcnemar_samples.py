"""Paired exact McNemar test of two lm-eval runs on the same questions (not collected by pytest).

Usage: python tests/benchmarks/mcnemar_samples.py BASE_SAMPLES.jsonl OTHER_SAMPLES.jsonl

Reads lm-eval ``--log_samples`` files of one aligncot task, pairs them by ``doc_id``, and
prints both accuracies and invalid rates (with standard errors), the discordant counts and
the two-sided exact McNemar p-value (a binomial test on the discordant pairs).
"""

from __future__ import annotations

import json
import math
import sys

from scipy.stats import binomtest


def read(path: str) -> dict[int, dict]:
    with open(path, encoding="utf-8") as f:
        return {row["doc_id"]: row for row in map(json.loads, f)}


def describe(name: str, rows: list[dict]) -> str:
    n = len(rows)
    parts = []
    for metric in ("acc", "invalid"):
        p = sum(r[metric] for r in rows) / n
        parts.append(f"{metric} {p:.4f} +- {math.sqrt(p * (1 - p) / (n - 1)):.4f}")
    return f"{name}: n {n}, " + ", ".join(parts)


def main(base_path: str, other_path: str) -> None:
    base, other = read(base_path), read(other_path)
    ids = sorted(base.keys() & other.keys())
    b = [base[i] for i in ids]
    o = [other[i] for i in ids]
    only_other = sum(1 for x, y in zip(b, o) if y["acc"] and not x["acc"])
    only_base = sum(1 for x, y in zip(b, o) if x["acc"] and not y["acc"])
    print(describe("base", b))
    print(describe("other", o))
    discordant = only_other + only_base
    p = binomtest(only_other, discordant, 0.5).pvalue if discordant else 1.0
    print(
        f"paired on {len(ids)} questions: other right & base wrong {only_other}, base right & other wrong "
        f"{only_base}; exact McNemar p = {p:.4g}"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
