"""Counts behind the results page's reading of the maths grid's samples (issue 21).

    python3 harness_configs/experiments/math_samples.py results/math
    python3 harness_configs/experiments/math_samples.py --teachers training/data/teachers

For every shipped row and cot task: questions, right answers, median words, answers that state
"The answer is", answers with no number before it (a plan that computes nothing), and wrong
answers with a miscomputed step. With ``--teachers``: each GSM8K teacher file's rationales with
no number before the answer. A rough reading, not a scorer: a step is a single operation
"a op b = c" that stands alone (no operator right before or after it), recomputed.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

STEP = re.compile(r"(\d+(?:\.\d+)?) ([-+*/]) (\d+(?:\.\d+)?) = (\d+(?:\.\d+)?)")
CUE = "The answer is"


def plan_only(text: str) -> bool:
    """No number before the answer sentence.

    >>> plan_only("Calculate the wage, add the wages. The answer is 650"), plan_only("2 * 3 = 6. The answer is 6")
    (True, False)
    """
    return not re.search(r"\d", text.split(CUE)[0])


def miscomputed(text: str) -> bool:
    """Some stand-alone single-operation step is computed wrongly.

    >>> miscomputed("23 + 32 = 65. 65 - 44 = 19."), miscomputed("23 + 32 = 55. 1 + 2 * 3 = 7.")
    (True, False)
    """
    text = text.replace(",", "")
    for m in STEP.finditer(text):
        before, after = text[: m.start()].rstrip(), text[m.end() :].lstrip()
        if (before and before[-1] in "+-*/=(") or after[:1] in ("+", "-", "*", "/"):
            continue
        a, op, b, c = (float(m[1]), m[2], float(m[3]), float(m[4]))
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else c}[op]
        if abs(value - c) > 1e-6:
            return True
    return False


def row_counts(samples: Path) -> dict[str, float]:
    """The counts of one ``samples_*.jsonl`` file (module docstring)."""
    lines = [json.loads(line) for line in samples.read_text(encoding="utf-8").splitlines()]
    texts = [x["resps"][0][0] for x in lines]
    wrong = [t for x, t in zip(lines, texts) if not x["acc"]]
    plans = [x for x, t in zip(lines, texts) if plan_only(t)]
    return {
        "questions": len(lines),
        "right": sum(int(x["acc"]) for x in lines),
        "median_words": statistics.median(len(t.split()) for t in texts),
        "states_answer": sum(CUE.lower() in t.lower() for t in texts),
        "plan_only": len(plans),
        "plan_only_right": sum(int(x["acc"]) for x in plans),
        "wrong": len(wrong),
        "wrong_miscomputed": sum(map(miscomputed, wrong)),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--teachers"] and len(argv) == 2:
        for f in sorted(Path(argv[1]).glob("gsm8k_*_train.jsonl")):
            rows = [json.loads(line)["completion"] for line in f.read_text(encoding="utf-8").splitlines()]
            print(f"{f.name}: {sum(map(plan_only, rows))} of {len(rows)} rationales have no number before the answer")
        return 0
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for f in sorted(Path(argv[0]).glob("*/samples_aligncot_*_cot_*.jsonl")):
        print(f.parent.name, f.name.split("_")[2], row_counts(f))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
