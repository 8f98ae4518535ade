"""Copy an experiment's lm-eval folders into the repository's results tree, portably.

    python3 harness_configs/experiments/ship_results.py DEST WORK SRC=SLICE [SRC=SLICE ...]

For every ``SRC/<run>/<model dir>/results_*.json`` (``aligncot eval --output-dir SRC/<run>``),
the files of that folder (results and ``--log_samples``) go to ``DEST/SLICE/<run>/``. In the
results files this machine's paths are written portably -- WORK as ``out``, the checkout the
evaluations ran in (``$REPO``, else the current directory) as ``.``, the home directory as ``~``
-- so only path strings in their config change, no number does. A SRC that does not exist is
skipped. The experiment scripts' ``ship`` phases call it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def ship(dest: Path, work: Path, sources: list[tuple[Path, str]], repo: Path, home: Path) -> None:
    """Copy each source's run folders to ``dest/<slice>/<run>/`` (module docstring)."""
    for root, slice_ in sources:
        for results in sorted(root.glob("*/*/results_*.json")):
            target = dest / slice_ / results.parent.parent.name
            target.mkdir(parents=True, exist_ok=True)
            for f in sorted(results.parent.iterdir()):
                text = f.read_text(encoding="utf-8")
                if f.name.startswith("results_"):
                    for path, short in ((work, "out"), (repo, "."), (home, "~")):
                        text = text.replace(f"{path}/", f"{short}/").replace(f'"{path}"', f'"{short}"')
                (target / f.name).write_text(text, encoding="utf-8")
            print(f"{results.parent} -> {target}")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or not all("=" in a for a in argv[2:]):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sources = [(Path(src), slice_) for src, slice_ in (a.rsplit("=", 1) for a in argv[2:])]
    repo = Path(os.environ.get("REPO") or Path.cwd())
    ship(Path(argv[0]), Path(argv[1]), sources, repo, Path.home())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
