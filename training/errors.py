"""The one error hierarchy of ``training/``.

Anything the user can fix -- a recipe key, a missing file, a wrong column, an adapter
trained on another base, a stage that failed -- is raised as a :class:`UserError` (or a
subclass naming where it came from). Library code never raises click exceptions: the CLI
edge (:class:`training.cli.Command`) turns a ``UserError`` into a one-line error and a
non-zero exit, in one place. Every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input, reported in one line; the base of every error below."""


class RecipeError(UserError):
    """A pipeline recipe (``aligncot run``) that cannot be run."""


class ConfigError(UserError):
    """An eval config or model spec (``aligncot eval``) that cannot be run."""


class ResultsError(UserError):
    """A results file or directory the leaderboard cannot read."""


class StageFailed(UserError):
    """A pipeline stage's command exited non-zero (its log is quoted)."""


class BackendUnavailable(UserError):
    """A generation backend that cannot run here (extra not installed, no GPU)."""


class ServeError(UserError):
    """A local OpenAI-compatible server did not come up."""
