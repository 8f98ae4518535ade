"""``aligncot analyze``: what the answers in lm-eval samples files are made of."""

from __future__ import annotations

import json
from pathlib import Path

import click

from training.cli import Command
from training.errors import UserError
from training.evaluate import analysis


def token_counter(tokenizer: str):
    """Answer length in tokens of a local tokenizer (a model folder, e.g. ``aligncot models pull``'s)."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(tokenizer)
    except (OSError, ValueError) as e:
        raise UserError(f"--tokenizer {tokenizer}: cannot load a tokenizer ({e})") from None
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


@click.command(cls=Command)
@click.argument("samples", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file (a JSON list) instead of text.")
@click.option(
    "--tokenizer",
    type=click.Path(exists=True, file_okay=False),
    help="Count answer lengths in this tokenizer's tokens (a local model folder) instead of words.",
)
def analyze(samples: tuple[Path, ...], as_json: bool, tokenizer: str | None) -> None:
    """Prediction letters vs gold, invalid and truncated shares, answer lengths, and what the
    final answer sentences state, per lm-eval samples file (``samples_<task>_<stamp>.jsonl``).
    """
    length, unit = (token_counter(tokenizer), "tokens") if tokenizer else (analysis.word_count, "words")
    results = [analysis.analyze_file(p, length, unit) for p in samples]
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in results], indent=2))
        return
    click.echo("\n\n".join(analysis.report(a) for a in results))
