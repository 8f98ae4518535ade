"""`make demo`'s wall time against its 40-minute budget (issue 19), stage by stage.

Runs ``aligncot run smollm2_demo`` from scratch (a fresh ``ALIGNCOT_HOME``, so the student is
pulled too, and a fresh run directory) and prints the run's own stage table, its last line (base
-> student on the 300 CSQA questions, McNemar), and the total as a share of the budget. The
install (``make install``) is not in it: time it separately. Run it on an idle machine; every
torch process it starts uses all cores (``OMP_NUM_THREADS`` overrides).

    PYTHONPATH=. python tests/benchmarks/bench_demo.py [--recipe smollm2_demo] [--keep DIR] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The issue's budget for `make demo` on an idle 2-core machine, install excluded.
BUDGET_S = 40 * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="smollm2_demo")
    parser.add_argument("--keep", type=Path, help="Run (and keep) the run directory and model cache here.")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="Recipe override (repeatable).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        env = {**os.environ, "ALIGNCOT_HOME": str(root / "home")}
        cmd = [sys.executable, "-m", "training", "run", args.recipe, "--run-dir", str(root / "run")]
        cmd += [f"--set={s}" for s in args.sets]
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", file=sys.stderr)
        return proc.returncode
    lines = proc.stdout.strip().splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("stage "))) :]
    print("\n".join(line for line in table[:-1] if not line.startswith(("leaderboard:", " "))))
    print(f"wall time {wall:.0f} s = {wall / 60:.1f} min: {wall / BUDGET_S:.2f} of the {BUDGET_S // 60}-minute budget")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
