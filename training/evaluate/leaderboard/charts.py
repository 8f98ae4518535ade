"""PNG charts of a leaderboard, in the style of the papers' Figures 2/3.

One chart per variant (maj@k families included): grouped bars per benchmark, one bar per
student (every row but the teacher), each with its standard error as an error bar. The
teacher is a marker per benchmark (a short horizontal tick across that benchmark's group),
never a line joining unrelated benchmarks. A benchmark a row lacks is left empty; a
measured 0% gets a thin visible stub and its label, so "scored 0" never looks like "missing".

Each bar (and teacher marker) carries its invalid share -- questions with no extractable
answer -- as a hatched box stacked on the accuracy: a low bar with a tall hatched box did not
answer, a low bar without one answered wrongly.
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
#: Hatch of the invalid-share boxes, and their legend entry.
INVALID_HATCH = "////"
INVALID_LABEL = "invalid: no extractable answer"
#: Width of a teacher's invalid box, as a fraction of the group.
TEACHER_BOX = 0.15


def _invalid_box(ax, x: float, bottom: float, width: float, share: float | None, colour) -> bool:
    """Stack a hatched box of the invalid share (a fraction) on a bar; whether one was drawn."""
    if not share:
        return False
    from matplotlib.patches import Rectangle

    box = Rectangle(
        (x - width / 2, bottom),
        width,
        100 * share,
        facecolor="none",
        edgecolor=colour,
        hatch=INVALID_HATCH,
        linewidth=0.6,
        label="_nolegend_",  # one neutral legend entry for all boxes, added by figure()
    )
    ax.add_patch(box)
    return True


def _students(ax, board: Board, variant: str, benches: list[str], students: list[str]) -> bool:
    """Grouped bars with stderr error bars and invalid boxes; a measured 0% is a labelled stub,
    a missing cell no bar. Returns whether an invalid box was drawn."""
    width = GROUP_WIDTH / max(1, len(students))
    drawn = False
    for i, row in enumerate(students):
        xs, ys, errs, invalid = [], [], [], []
        for j, b in enumerate(benches):
            if (s := board.get(row, (b, variant))) is not None:
                xs.append(j - GROUP_WIDTH / 2 + (i + 0.5) * width)
                ys.append(100 * s.acc)
                errs.append(100 * (s.stderr or 0.0))
                invalid.append(s.invalid)
        heights = [max(y, ZERO_STUB) for y in ys]
        bars = ax.bar(xs, heights, width=width, label=row, yerr=errs, capsize=2, error_kw={"elinewidth": 0.8})
        colour = bars.patches[0].get_facecolor() if bars.patches else "black"
        for x, y, h, share in zip(xs, ys, heights, invalid):
            if y == 0:
                ax.annotate("0", (x, ZERO_STUB), ha="center", va="bottom", fontsize="x-small", color=colour)
            drawn |= _invalid_box(ax, x, h, width, share, colour)
    return drawn


def teacher_label(teacher: str) -> str:
    """The teacher's legend entry.

    >>> teacher_label("palm-540b"), teacher_label("teacher")
    ('palm-540b (teacher)', 'teacher')
    """
    return teacher if "teacher" in teacher else f"{teacher} (teacher)"


def _teacher(ax, board: Board, variant: str, benches: list[str], teacher: str) -> bool:
    """The teacher as one marker per benchmark: a tick across the group plus its error bar,
    and a narrow invalid box on the tick's end. Returns whether an invalid box was drawn."""
    drawn = False
    label: str | None = teacher_label(teacher)
    for j, b in enumerate(benches):
        if (s := board.get(teacher, (b, variant))) is not None:
            y = 100 * s.acc
            ax.hlines(y, j - GROUP_WIDTH / 2, j + GROUP_WIDTH / 2, colors="black", linewidth=2, label=label)
            ax.errorbar(j, y, yerr=100 * (s.stderr or 0.0), color="black", marker="D", capsize=3)
            drawn |= _invalid_box(ax, j + GROUP_WIDTH / 2 - TEACHER_BOX / 2, y, TEACHER_BOX, s.invalid, "black")
            label = None  # one legend entry
    return drawn


def figure(board: Board, variant: str, teacher: str | None = None, title: str = ""):
    """One variant's chart as a matplotlib figure (the caller saves and closes it)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    benches = [b for b, v in board.columns if v == variant]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(benches) + 2) + 2.5, 4.0))
    invalid = _students(ax, board, variant, benches, [r for r in board.rows if r != teacher])
    if teacher:
        invalid |= _teacher(ax, board, variant, benches, teacher)
    ax.set_xticks(range(len(benches)), [suite.BENCHMARKS[b].title for b in benches], rotation=20, ha="right")
    ax.set_xlim(-0.6, len(benches) - 0.4)
    ax.set_ylabel("accuracy (%); hatched: invalid share")
    ax.set_ylim(0, 100)
    ax.set_title(f"{title} - {variant}" if title else variant)
    handles, _ = ax.get_legend_handles_labels()
    # In row order, base and students first: matplotlib lists the teacher's lines before bars.
    handles.sort(key=lambda h: teacher is not None and h.get_label() == teacher_label(teacher))
    if invalid:
        from matplotlib.patches import Patch

        handles.append(Patch(facecolor="none", edgecolor="0.3", hatch=INVALID_HATCH, label=INVALID_LABEL))
    ax.legend(
        handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0)
    )  # beside, not over, the bars
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
