"""Copy an experiment's lm-eval folders into the repository's results tree, portably.

    python3 harness_configs/experiments/ship_results.py DEST WORK SRC=SLICE [SRC=SLICE ...]
    python3 harness_configs/experiments/ship_results.py --grid DEST RUN

For every ``SRC/<run>/<model dir>/results_*.json`` (``aligncot eval --output-dir SRC/<run>``),
the files of that folder (results and ``--log_samples``) go to ``DEST/SLICE/<run>/``. In the
results files this machine's paths are written portably -- WORK as ``out``, the checkout the
evaluations ran in (``$REPO``, else the current directory) as ``.``, the home directory as ``~``
-- so only path strings in their config change, no number does. A SRC that does not exist is
skipped. The experiment scripts' ``ship`` phases call it.

``--grid``: a grid run (``aligncot run GRID.yaml --run-dir RUN``) as the grid wrote it: every
row's lm-eval folder (the base and the teacher from ``RUN/eval/results/``, each variant from
``RUN/<variant>/eval/results/``) to ``DEST/<row>/``, and the leaderboard (Markdown, HTML,
question pages) to ``DEST/leaderboard/``, with RUN written as ``out`` in every file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def portable(text: str, work: Path, repo: Path, home: Path) -> str:
    """``text`` with this machine's paths written as ``out``, ``.`` and ``~``.

    >>> portable('"/w/run/eval" and /h/x', Path("/w/run"), Path("/r"), Path("/h"))
    '"out/eval" and ~/x'
    """
    for path, short in ((work, "out"), (repo, "."), (home, "~")):
        text = text.replace(f"{path}/", f"{short}/").replace(f'"{path}"', f'"{short}"')
    return text


def ship(dest: Path, work: Path, sources: list[tuple[Path, str]], repo: Path, home: Path) -> None:
    """Copy each source's run folders to ``dest/<slice>/<run>/`` (module docstring)."""
    for root, slice_ in sources:
        for results in sorted(root.glob("*/*/results_*.json")):
            target = dest / slice_ / results.parent.parent.name
            target.mkdir(parents=True, exist_ok=True)
            for f in sorted(results.parent.iterdir()):
                text = f.read_text(encoding="utf-8")
                if f.name.startswith("results_"):
                    text = portable(text, work, repo, home)
                (target / f.name).write_text(text, encoding="utf-8")
            print(f"{results.parent} -> {target}")


def ship_grid(dest: Path, run: Path, repo: Path, home: Path) -> None:
    """Copy a grid run's row folders and leaderboard to ``dest`` (module docstring)."""
    folders = [p.parent for p in sorted(run.glob("eval/results/*/results_*.json"))]
    folders += [p.parent for p in sorted(run.glob("*/eval/results/*/results_*.json"))]
    for folder in dict.fromkeys(folders):
        copy_tree(folder, dest / folder.name, run, repo, home)
    copy_tree(run / "leaderboard", dest / "leaderboard", run, repo, home)


def copy_tree(src: Path, dest: Path, run: Path, repo: Path, home: Path) -> None:
    """Every file under ``src`` to ``dest``, paths written portably in the text files (charts are copied)."""
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dest / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix == ".png":
            target.write_bytes(f.read_bytes())
        else:
            target.write_text(portable(f.read_text(encoding="utf-8"), run, repo, home), encoding="utf-8")
    print(f"{src} -> {dest}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--grid"] and len(argv) == 3:
        ship_grid(Path(argv[1]), Path(argv[2]).resolve(), Path(os.environ.get("REPO") or Path.cwd()), Path.home())
        return 0
    if len(argv) < 3 or not all("=" in a for a in argv[2:]):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sources = [(Path(src), slice_) for src, slice_ in (a.rsplit("=", 1) for a in argv[2:])]
    repo = Path(os.environ.get("REPO") or Path.cwd())
    ship(Path(argv[0]), Path(argv[1]), sources, repo, Path.home())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
