"""``aligncot models``: list the known models, pull one into the cache."""

from __future__ import annotations

import click

from training.cli import Command
from training.models.registry import MODELS, is_pulled, model_dir


@click.group()
def models() -> None:
    """Real models aligncot can build offline (the cache is $ALIGNCOT_HOME, default ~/.cache/aligncot)."""


@models.command("list", cls=Command)
def list_models() -> None:
    """Print each known model, its source and whether it is pulled."""
    for entry in MODELS.values():
        where = model_dir(entry.name)
        state = str(where) if is_pulled(entry.name) else "not pulled"
        click.echo(f"{entry.name}\t{entry.hub_id} ({entry.quantization} GGUF from {entry.distribution})\t{state}")


@models.command("pull", cls=Command)
@click.argument("name")
def pull_command(name: str) -> None:
    """Convert NAME's GGUF into a Hugging Face directory in the cache (once) and print its path.

    Use the path wherever a model is named: recipes' base_model, `aligncot eval --model
    pretrained=PATH`, `lm_eval --model_args pretrained=PATH`.
    """
    from training.models.pull import pull

    click.echo(str(pull(name)))
