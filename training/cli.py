"""The ``aligncot`` command line: one click group, subcommands imported on first use.

Importing a subcommand's module can pull in torch/trl/lm-eval; the lazy group keeps
``aligncot --help`` and ``aligncot score`` fast and free of the training stack.
"""

from __future__ import annotations

import importlib

import click

#: subcommand -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "tasks": "training.suite_cli:tasks",
    "score": "training.suite_cli:score",
    "annotate": "training.annotate.cli:annotate",
    "demos": "training.distill.demos:demos",
    "sft": "training.distill.sft:sft_command",
    "self-refine": "training.distill.self_refine:self_refine_command",
    "eval": "training.evaluate.matrix:eval_command",
    "leaderboard": "training.evaluate.leaderboard.board:leaderboard",
    "run": "training.pipeline.run:run",
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
