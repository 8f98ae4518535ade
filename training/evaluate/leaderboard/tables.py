"""The leaderboard's tables as plain data, formatted once for every rendering.

A :class:`Table` holds rows of :class:`Cell`: the main text (``45.3 ± 2.1``), a note shown
beside it (``inv 12.0% · trunc 3.0%``), and whether it is a significant difference. The
Markdown and HTML templates and the browser test read the same cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from aligncot_tasks import suite
from training.evaluate import paired
from training.evaluate.leaderboard.board import Board
from training.evaluate.leaderboard.cells import Column
from training.evaluate.leaderboard.comparisons import comparisons, holm_family


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes:
        col: Machine name of its column (the CSV header's).
        text: The number(s) shown.
        note: Shown beside the number in smaller type ('' for none).
        significant: A difference whose paired test rejects "no difference".
    """

    col: str
    text: str
    note: str = ""
    significant: bool = False


@dataclass(frozen=True)
class Table:
    """A table: ``id``, caption, header as (column id, title) pairs, rows (model, cells), footnote."""

    id: str
    caption: str
    header: list[tuple[str, str]]
    rows: list[tuple[str, list[Cell]]]
    footnote: str = ""


def col_id(column: Column) -> str:
    """Machine name of a column, as in the CSV header.

    >>> col_id(("csqa", "cot"))
    'csqa_cot'
    """
    return f"{column[0]}_{column[1]}"


def col_title(column: Column) -> str:
    """Display name of a column.

    >>> col_title(("gsm8k", "zs")), col_title(("gsm8k", "cot_maj8"))
    ('GSM8K zs', 'GSM8K maj@8')
    """
    variant = column[1].replace("cot_maj", "maj@")
    return f"{suite.BENCHMARKS[column[0]].title} {variant}"


def pct(value: float | None, stderr: float | None = None, signed: bool = False) -> str:
    """A fraction as percent with one decimal, optionally ``± stderr``; '' when missing.

    >>> pct(0.4531, 0.0213), pct(-0.05, signed=True), pct(None)
    ('45.3 ± 2.1', '-5.0', '')
    """
    if value is None:
        return ""
    text = f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"
    return text + (f" ± {100 * stderr:.1f}" if stderr is not None else "")


def shares(board: Board, row: str, column: Column) -> str:
    """What an accuracy is made of: invalid share, truncated share, no-cue share, pass@k.

    The invalid share is what tells "wrong answers" from "no answer at all": a 0.0 with
    100% invalid means the model never produced an extractable answer. On numeric tasks the
    no-cue share says how many of the extracted answers were salvaged (the last number of a
    text that never states an answer), so that a low invalid share does not read as a model
    that commits to an answer.
    """
    s = board.get(row, column)
    if s is None:
        return ""
    parts = [f"inv {100 * s.invalid:.1f}%"] if s.invalid is not None else []
    parts += [f"trunc {100 * s.truncated:.1f}%"] if s.truncated is not None else []
    parts += [f"no cue {100 * s.no_cue:.1f}%"] if s.no_cue is not None else []
    parts += [f"pass@{column[1].rpartition('maj')[2]} {100 * s.pass_k:.1f}"] if s.pass_k is not None else []
    return " · ".join(parts)


def delta_cell(board: Board, row: str, baseline: str, column: Column, p_holm: float | None = None) -> Cell:
    """Δ to the baseline; with samples on both sides also its paired CI and McNemar p
    (``p_holm``: shown instead, Holm-adjusted, and deciding significance)."""
    cid = f"delta_{col_id(column)}"
    r = board.paired(row, baseline, column)
    if r is None:
        return Cell(cid, pct(board.delta(row, baseline, column), signed=True))
    p, name = (r.p, "p") if p_holm is None else (p_holm, "p_holm")
    significant = p < 1 - paired.LEVEL
    text = f"{100 * r.delta:+.1f} [{100 * r.ci[0]:+.1f}, {100 * r.ci[1]:+.1f}] {name}={p:.2g}"
    return Cell(cid, text + (" *" if significant else ""), f"n={r.n}", significant)


def model_cell(board: Board, row: str) -> Cell:
    """The row label, with the recorded-generations mark (the prompt is named in the notes)."""
    return Cell("model", row, "scored from recorded generations" if row in board.recorded else "")


#: The first header cell of every table.
MODEL = ("model", "Model")
ACCURACY_CAPTION = (
    "Accuracy (%), ± standard error; inv = share with no extractable answer, "
    "trunc = share cut off at the token cap without one"
)
#: Added to the accuracy caption when a column reports ``no_cue`` (numeric tasks).
NO_CUE_CAPTION = ", no cue = share whose answer was salvaged: the last number of a text that never states an answer"
ABOVE_CHANCE_CAPTION = (
    "Above chance: (acc - chance) / (1 - chance) per question (%), "
    "chance = 1 / number of options; blank for open-ended answers"
)
DELTA_FOOTNOTE = (
    f"Δ [95% {paired.CI_NAME}, {paired.RESAMPLES} resamples, seed {paired.SEED}] p = "
    f"{paired.TEST_NAME}, on the questions both rows answered (matched by doc_id and doc_hash); "
    f"* p < {1 - paired.LEVEL:.2g}, no multiple-comparison correction. A Δ without CI: "
    "no samples files (run lm-eval with --log_samples), so no paired test."
)
HOLM_NOTE = (
    "p_holm = Holm-adjusted over all {m} distinct paired tests of the difference tables; * p_holm < {alpha:.2g}."
)


def per_row(board: Board, columns: list[tuple[str, str]], cell, rows: list[str] | None = None) -> tuple[list, list]:
    """A table's header and rows: ``cell(row, key) -> Cell`` for each (key, title) column."""
    header = [MODEL, *columns]
    body = [
        (row, [model_cell(board, row), *(cell(row, key) for key, _ in columns)])
        for row in (board.rows if rows is None else rows)
    ]
    return header, body


def accuracy_cell(board: Board, row: str, column: Column) -> Cell:
    """Accuracy ± stderr, with the invalid/truncated shares (and pass@k) beside it."""
    s = board.get(row, column)
    return Cell(col_id(column), pct(s.acc, s.stderr) if s else "", shares(board, row, column))


def tables(
    board: Board,
    baseline: str | None = None,
    above_chance: bool = False,
    reference: str | None = None,
    adjust: str | None = None,
) -> list[Table]:
    """The report's tables: accuracy, CoT gain, chance-normalised (optional), and the
    difference tables of :func:`~training.evaluate.leaderboard.comparisons.comparisons` (to the
    baseline, to ``reference``, self-refine's own); ``adjust="holm"``: their p-values
    Holm-adjusted as one family, and said so."""
    cols = {col_id(c): c for c in board.columns}

    def average(row: str, key: str) -> Cell:
        return Cell(key, pct(*a) if (a := board.average(row, key.removeprefix("avg_"))) else "")

    def accuracy(row: str, key: str) -> Cell:
        return accuracy_cell(board, row, cols[key]) if key in cols else average(row, key)

    columns = [(col_id(c), col_title(c)) for c in board.columns]
    columns += [(f"avg_{v}", f"Avg {v}") for v in board.variants]
    caption = ACCURACY_CAPTION + (NO_CUE_CAPTION if any(map(board.reports_no_cue, board.columns)) else "")
    out = [Table("accuracy", caption, *per_row(board, columns, accuracy))]
    if gains := board.gain_benchmarks:

        def gain(row: str, key: str) -> Cell:
            g = board.gain(row, key.removeprefix("gain_"))
            return Cell(key, pct(*g, signed=True) if g else "")

        columns = [(f"gain_{b}", suite.BENCHMARKS[b].title) for b in gains]
        out.append(Table("cot_gain", "CoT gain: cot - zs (percentage points)", *per_row(board, columns, gain)))
    if above_chance:

        def chance(row: str, key: str) -> Cell:
            return Cell(key, pct(board.above_chance(row, cols[key.removesuffix("_above_chance")])))

        columns = [(f"{col_id(c)}_above_chance", col_title(c)) for c in board.columns]
        out.append(Table("above_chance", ABOVE_CHANCE_CAPTION, *per_row(board, columns, chance)))
    shown = comparisons(board, baseline, reference)
    adjusted = holm_family(board, shown) if adjust == "holm" else None
    for comparison in shown:

        def delta(row: str, key: str, against=comparison.against) -> Cell:
            c, other = cols[key.removeprefix("delta_")], against(row)
            return delta_cell(board, row, other, c, None if adjusted is None else adjusted.get((row, other, c)))

        columns = [(f"delta_{col_id(c)}", col_title(c)) for c in board.columns]
        header, rows = per_row(board, columns, delta, [r for r, _ in comparison.pairs(board)])
        note = DELTA_FOOTNOTE
        if adjusted is not None:
            tests = len({(frozenset(k[:2]), k[2]) for k in adjusted})
            holm_note = HOLM_NOTE.format(m=tests, alpha=1 - paired.LEVEL)
            note = note.replace(", no multiple-comparison correction", "") + " " + holm_note
        out.append(Table(comparison.table_id, comparison.title, header, rows, note))
    return out
