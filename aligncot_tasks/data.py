"""Dataset loading: the hub by default, local JSON Lines with ``ALIGNCOT_DATA_DIR``.

With ``ALIGNCOT_DATA_DIR=<dir>`` set, a split is read from
``<dir>/<hub id with "/" -> "__">/<config or "default">/<split>.jsonl`` -- the layout of a
hub dataset re-serialised row by row, so the same rows in the same schema reach the same
prompt and scoring code. The variable is read at load time, not at import time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aligncot_tasks.types import Doc

if TYPE_CHECKING:
    from datasets import DatasetDict

DATA_DIR_ENV = "ALIGNCOT_DATA_DIR"


class DataError(Exception):
    """A split could not be found or read."""


def local_split_path(root: str | os.PathLike[str], hub_id: str, config: str | None, split: str) -> Path:
    """Where a split lives under a local data directory.

    >>> local_split_path("/d", "openai/gsm8k", "main", "test").as_posix()
    '/d/openai__gsm8k/main/test.jsonl'
    >>> local_split_path("/d", "baber/piqa", None, "validation").as_posix()
    '/d/baber__piqa/default/validation.jsonl'
    """
    return Path(root) / hub_id.replace("/", "__") / (config or "default") / f"{split}.jsonl"


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, Doc]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file.

    Raises:
        DataError: A line is not JSON or not a JSON object (the message names path:line).
    """
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{n}: expected a JSON object")
            yield n, row


def read_jsonl(path: str | os.PathLike[str]) -> list[Doc]:
    """Read a JSON Lines file of objects; blank lines are skipped."""
    return [row for _, row in iter_jsonl(path)]


def load_rows(hub_id: str, config: str | None, split: str) -> list[Doc]:
    """Load one split as a list of rows (dicts in the hub schema).

    Args:
        hub_id: Hugging Face dataset id, e.g. ``"tau/commonsense_qa"``.
        config: Dataset config name, or None for the default config.
        split: Split name.

    Raises:
        DataError: The split does not exist locally (offline mode) or on the hub.
    """
    root = os.environ.get(DATA_DIR_ENV)
    if root:
        path = local_split_path(root, hub_id, config, split)
        if not path.is_file():
            raise DataError(f"{DATA_DIR_ENV} is set but {path} does not exist")
        return read_jsonl(path)
    import datasets

    try:
        return list(datasets.load_dataset(hub_id, config, split=split))
    except Exception as e:  # datasets raises many types; the message is what matters
        raise DataError(f"cannot load {hub_id} ({config or 'default'}) split {split!r}: {e}") from e


def load_for_lm_eval(hub_id: str, config: str | None = None, splits: list[str] | None = None, **_: Any) -> DatasetDict:
    """``custom_dataset`` hook for the task YAMLs: a DatasetDict of the requested splits.

    lm-eval calls this with the task's ``dataset_kwargs`` plus its ``metadata`` (which
    carries unrelated keys such as ``version``), hence the catch-all.
    """
    import datasets

    root = os.environ.get(DATA_DIR_ENV)
    if not root:
        if not splits:
            return datasets.load_dataset(hub_id, config)
        # Only the splits the task evaluates: evaluation never needs to fetch a training split.
        return datasets.DatasetDict({s: datasets.load_dataset(hub_id, config, split=s) for s in splits})
    return datasets.DatasetDict({s: datasets.Dataset.from_list(load_rows(hub_id, config, s)) for s in splits or []})
