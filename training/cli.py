"""The ``aligncot`` command line: one click group, subcommands imported on first use.

Importing a subcommand's module can pull in torch/trl/lm-eval; the lazy group keeps
``aligncot --help`` and ``aligncot score`` fast and free of the training stack.

This is the CLI edge: every subcommand is a :class:`Command`, which turns the project's
one error base class (:class:`training.errors.UserError`, and the suite's own input
errors) into a one-line click error and a non-zero exit, and a closed stdout (``aligncot
tasks | head``) into a quiet exit 0. Logging is configured here and nowhere else
(:func:`configure_logging`): the project's information at INFO, warnings at WARNING, and the
libraries' chatter (lm-eval, transformers) only from WARNING up unless ``-v``.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

import click

from aligncot_tasks.data import DataError
from aligncot_tasks.suite import NotGenerative, UnknownTask
from training.errors import UserError

#: subcommand -> "module:attribute" of its click command.
COMMANDS: dict[str, str] = {
    "tasks": "training.suite_cli:tasks",
    "score": "training.suite_cli:score",
    "annotate": "training.annotate.cli:annotate",
    "demos": "training.distill.cli:demos_command",
    "sft": "training.distill.cli:sft_command",
    "self-refine": "training.distill.cli:self_refine_command",
    "eval": "training.evaluate.cli:eval_command",
    "leaderboard": "training.evaluate.cli:leaderboard",
    "compare": "training.evaluate.cli:compare_command",
    "analyze": "training.evaluate.analysis_cli:analyze",
    "run": "training.pipeline.cli:run",
    "models": "training.models.cli:models",
    "data": "training.data_cli:data",
}

#: The project's loggers (modules log under ``logging.getLogger(__name__)``): INFO and up is shown.
PROJECT_LOGGERS = ("training", "aligncot_tasks")
#: Libraries whose INFO messages are chatter: shown with ``-v`` only.
CHATTY_LOGGERS = ("lm_eval", "transformers")
#: Set by ``-v``, so the stage commands ``aligncot run`` starts are verbose too.
VERBOSE_ENV = "ALIGNCOT_VERBOSE"

#: Errors the user can fix: reported in one line, exit status 1.
USER_ERRORS = (UserError, DataError, UnknownTask, NotGenerative)
#: File-system errors about a path the user named (unwritable, a file where a folder should
#: be, a full disk): one line naming the path, not a traceback. Others stay bugs.
PATH_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EEXIST}
)


def check_output_dir(path: Path, option: str) -> None:
    """Refuse an output folder that cannot be created or written, before any work is done.

    The first existing ancestor of ``path`` must be a writable directory (a file there, or
    a read-only folder, fails now rather than after minutes of scoring or rendering).

    >>> import tempfile; f = Path(tempfile.mkdtemp()) / "file.txt"; _ = f.write_text("x")
    >>> try:
    ...     check_output_dir(f / "out", "--out")
    ... except UserError as e:
    ...     print(str(e).endswith("file.txt is a file, not a directory"))
    True
    """
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists():
            break
    if not parent.is_dir():
        raise UserError(f"{option} {path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: directory {parent} is not writable")


class Command(click.Command):
    """A click command that reports :data:`USER_ERRORS` as one-line errors."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as e:
            raise click.ClickException(str(e)) from None
        except BrokenPipeError:
            # The reader went away (`| head`): not an error. Point stdout at devnull so the
            # interpreter's final flush does not raise again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as e:
            if e.filename is None or e.errno not in PATH_ERRNOS:
                raise
            raise click.ClickException(f"{e.filename}: {e.strerror}") from None


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


class _Stderr(logging.StreamHandler):
    """A handler writing to the ``sys.stderr`` of the moment (click's test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _Format(logging.Formatter):
    """Information as the bare message; anything louder names its level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno <= logging.INFO:
            return record.getMessage()
        return f"{record.levelname.lower()} [{record.name}]: {super().format(record)}"


def configure_logging(verbose: bool) -> None:
    """Route log records to stderr: the project's from INFO, other libraries' from WARNING.

    With ``verbose``, lm-eval's and transformers' INFO messages are shown too (transformers
    keeps its own handler: its level is set through ``TRANSFORMERS_VERBOSITY``, which the
    stage commands of ``aligncot run`` inherit, as they inherit :data:`VERBOSE_ENV`).
    Calling it again replaces the handler it installed before.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(handler)
    handler = _Stderr()
    handler.setFormatter(_Format())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    level = logging.INFO if verbose else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    # Every command may import bitsandbytes (the pipeline's `run` does, through peft): keep its
    # offline kernel-hub warning off the console everywhere, not only in the trainers.
    from training.distill.model_loading import silence_offline_kernel_hub

    silence_offline_kernel_hub()
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "info")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aligncot")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    envvar=VERBOSE_ENV,
    help="Show lm-eval's and transformers' information messages too (warnings are always shown).",
)
def main(verbose: bool) -> None:
    """aligncot: reasoning benchmarks for lm-eval and CoT distillation into small students."""
    configure_logging(verbose)
