"""The ``aligncot`` command line: one click group, subcommands imported on first use.

Importing a subcommand's module can pull in torch/trl/lm-eval; the lazy group keeps
``aligncot --help`` and ``aligncot score`` fast and free of the training stack.
"""

from __future__ import annotations

import importlib

import click

#: subcommand -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "tasks": "training.cmd_tasks:tasks",
    "score": "training.cmd_tasks:score",
    "annotate": "training.annotate.cli:annotate",
    "demos": "training.demos:demos",
    "sft": "training.sft:sft_command",
    "self-refine": "training.self_refine:self_refine_command",
    "eval": "training.evaluate:eval_command",
    "leaderboard": "training.leaderboard:leaderboard",
    "run": "training.pipeline:run",
    "models": "training.models.cli:models",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aligncot")
def main() -> None:
    """aligncot: reasoning benchmarks for lm-eval and CoT distillation into small students."""
