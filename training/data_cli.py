"""``aligncot data``: commands that prepare data files (the click edge of :mod:`training.data_split`)."""

from __future__ import annotations

from pathlib import Path

import click

from training.cli import Command
from training.data_split import write_tuning_split


@click.group()
def data() -> None:
    """Prepare data files (tuning splits)."""


@data.command("tuning-split", cls=Command)
@click.option("--benchmark", required=True, help="Suite benchmark key, e.g. csqa.")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Hold out training rows with index % N == 0.",
)
@click.option(
    "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Data directory to write."
)
def tuning_split(benchmark: str, every: int, out_dir: Path) -> None:
    """Hold out every N-th training row as a tuning split.

    Writes the held-out rows as the benchmark's evaluation split under OUT (use it with
    ALIGNCOT_DATA_DIR=OUT) and their question keys to OUT/tuning_questions.txt, for
    `aligncot annotate --import FILE --exclude-questions OUT/tuning_questions.txt`.
    The training split is read from $ALIGNCOT_DATA_DIR when set, else the hub.
    """
    split = write_tuning_split(benchmark, every, out_dir)
    click.echo(f"held out {split.held_out} of {split.train_rows} training rows -> {split.split_path}")
    click.echo(f"question keys -> {split.keys_path}")
