"""``aligncot answers SAMPLES...``: the click edge of :mod:`training.evaluate.answer_shapes`."""

from __future__ import annotations

from pathlib import Path

import click

from training.cli import Command
from training.evaluate.answer_shapes import analyse, report


@click.command(cls=Command)
@click.argument("samples", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def answers(samples: tuple[Path, ...]) -> None:
    """Letter distribution and final answer sentences of multiple-choice samples files.

    SAMPLES are lm-eval --log_samples files (samples_aligncot_<bench>_<zs|cot>_*.jsonl).
    Prints predicted vs gold letters, and how many generations end in the suite's canonical
    answer sentence, state their letter's own option text, and state the gold option's text.
    """
    for path in samples:
        click.echo(f"{path}\n{report(analyse(path))}")
