"""PNG charts of a leaderboard, in the style of the papers' Figures 2/3.

One chart per variant (maj@k families included): grouped bars per benchmark, one bar per
student (every row but the teacher), each with its standard error as an error bar. The
teacher is a marker per benchmark (a short horizontal tick across that benchmark's group),
never a line joining unrelated benchmarks. A benchmark a row lacks is left empty; a
measured 0% gets a thin visible stub and its label, so "scored 0" never looks like "missing".
"""

from __future__ import annotations

import os
from pathlib import Path

from aligncot_tasks import suite
from training.evaluate.leaderboard.board import Board

#: Width of the group of bars at one benchmark (1.0 = touching the next group).
GROUP_WIDTH = 0.8
#: Height (percentage points) of the stub drawn for a measured 0% bar.
ZERO_STUB = 0.6


def _students(ax, board: Board, variant: str, benches: list[str], students: list[str]) -> None:
    """Grouped bars with stderr error bars; a measured 0% is a labelled stub, a missing cell no bar."""
    width = GROUP_WIDTH / max(1, len(students))
    for i, row in enumerate(students):
        xs, ys, errs = [], [], []
        for j, b in enumerate(benches):
            if (s := board.get(row, (b, variant))) is not None:
                xs.append(j - GROUP_WIDTH / 2 + (i + 0.5) * width)
                ys.append(100 * s.acc)
                errs.append(100 * (s.stderr or 0.0))
        heights = [max(y, ZERO_STUB) for y in ys]
        bars = ax.bar(xs, heights, width=width, label=row, yerr=errs, capsize=2, error_kw={"elinewidth": 0.8})
        colour = bars.patches[0].get_facecolor() if bars.patches else "black"
        for x, y in zip(xs, ys):
            if y == 0:
                ax.annotate("0", (x, ZERO_STUB), ha="center", va="bottom", fontsize="x-small", color=colour)


def _teacher(ax, board: Board, variant: str, benches: list[str], teacher: str) -> None:
    """The teacher as one marker per benchmark: a tick across the group plus its error bar."""
    label = teacher if "teacher" in teacher else f"{teacher} (teacher)"
    for j, b in enumerate(benches):
        if (s := board.get(teacher, (b, variant))) is not None:
            y = 100 * s.acc
            ax.hlines(y, j - GROUP_WIDTH / 2, j + GROUP_WIDTH / 2, colors="black", linewidth=2, label=label)
            ax.errorbar(j, y, yerr=100 * (s.stderr or 0.0), color="black", marker="D", capsize=3)
            label = None  # one legend entry


def figure(board: Board, variant: str, teacher: str | None = None, title: str = ""):
    """One variant's chart as a matplotlib figure (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    benches = [b for b, v in board.columns if v == variant]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(benches) + 2), 4.0))
    _students(ax, board, variant, benches, [r for r in board.rows if r != teacher])
    if teacher:
        _teacher(ax, board, variant, benches, teacher)
    ax.set_xticks(range(len(benches)), [suite.BENCHMARKS[b].title for b in benches], rotation=20, ha="right")
    ax.set_xlim(-0.6, len(benches) - 0.4)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{title} - {variant}" if title else variant)
    ax.legend(fontsize="small", loc="upper right")
    fig.tight_layout()
    return fig


def draw_variant(board: Board, variant: str, path: Path, teacher: str | None = None, title: str = "") -> Path:
    """Draw one variant's chart to ``path`` (PNG) and return it."""
    import matplotlib.pyplot as plt

    fig = figure(board, variant, teacher, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_charts(board: Board, out_dir: str | os.PathLike, teacher: str | None = None, title: str = "") -> list[Path]:
    """One PNG per variant present: ``<out_dir>/accuracy_<variant>.png``."""
    return [draw_variant(board, v, Path(out_dir) / f"accuracy_{v}.png", teacher, title) for v in board.variants]
