"""Reading the demonstrations that ``aligncot demos`` writes, for SFT and self-refine.

Accepted layouts (``data`` in a recipe):

- the demos output directory ``OUT`` with ``OUT/dataset`` (a ``DatasetDict`` saved with
  ``save_to_disk``, splits ``train`` and ``validation``), or with ``OUT/train.jsonl`` and
  ``OUT/validation.jsonl``;
- the ``dataset`` directory itself.

Each row carries ``prompt`` (the exact lm-eval prompt, ``suite.render_prompt``),
``completion`` (what the student learns to write after it), ``task`` and ``doc`` (the
dataset row as JSON). The data hash written into model cards is computed over the rows
as loaded, so the same demonstrations give the same hash in either layout.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from aligncot_tasks.data import DataError, read_jsonl
from training.errors import UserError

SPLITS = ("train", "validation")
#: Columns SFT trains on.
SFT_COLUMNS = ("prompt", "completion")
#: Columns self-refine needs to re-prompt the student with the suite's prompts.
SELF_REFINE_COLUMNS = ("task", "doc")


def load_demos(data: str | Path, columns: tuple[str, ...] = SFT_COLUMNS):
    """Load the train and validation demonstrations.

    Args:
        data: Demos output directory or its ``dataset`` directory.
        columns: Columns every split must have.

    Returns:
        A ``datasets.DatasetDict`` with ``train`` and ``validation``.

    Raises:
        UserError: Nothing readable there, a split or a column is missing, a split is empty.
    """
    import datasets

    root = Path(data)
    if not root.exists():
        raise UserError(f"demonstrations not found: {root} (run `aligncot demos` first)")
    saved = root / "dataset" if (root / "dataset").is_dir() else root
    if (saved / "dataset_dict.json").is_file():
        try:
            ds = datasets.load_from_disk(str(saved))
        except (OSError, ValueError) as e:
            raise UserError(f"{saved}: cannot read the saved dataset ({e})") from None
    elif all((root / f"{s}.jsonl").is_file() for s in SPLITS):
        ds = datasets.DatasetDict({s: _read_jsonl(root / f"{s}.jsonl") for s in SPLITS})
    else:
        raise UserError(f"{root}: no demonstrations (expected dataset/ or train.jsonl + validation.jsonl)")
    for split in SPLITS:
        if split not in ds:
            raise UserError(f"{root}: split {split!r} is missing (have: {', '.join(ds)})")
        missing = [c for c in columns if c not in ds[split].column_names]
        if missing:
            raise UserError(
                f"{root}: split {split!r} lacks column(s) {', '.join(missing)} "
                f"(have: {', '.join(ds[split].column_names)})"
            )
        if len(ds[split]) == 0:
            raise UserError(f"{root}: split {split!r} is empty")
    return datasets.DatasetDict({s: ds[s] for s in SPLITS})


def _read_jsonl(path: Path):
    import datasets

    try:
        rows = read_jsonl(path)
    except DataError as e:
        raise UserError(str(e)) from None
    return datasets.Dataset.from_list(rows)


def sft_view(ds):
    """Only ``prompt`` and ``completion``: what trl's prompt-completion format expects."""
    import datasets

    return datasets.DatasetDict({s: ds[s].select_columns(list(SFT_COLUMNS)) for s in ds})


def data_hash(ds, columns: tuple[str, ...] = SFT_COLUMNS) -> str:
    """SHA-256 over the rows' ``columns``, split by split, in order.

    >>> import datasets
    >>> a = datasets.DatasetDict({"train": datasets.Dataset.from_list([{"prompt": "p", "completion": " c"}])})
    >>> data_hash(a) == data_hash(a), len(data_hash(a))
    (True, 64)
    """
    h = hashlib.sha256()
    for split in sorted(ds):
        h.update(split.encode())
        for row in ds[split].select_columns(list(columns)):
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
            h.update(b"\n")
    return h.hexdigest()


def decode_doc(doc: object) -> dict:
    """The dataset row of a demonstration (stored as a JSON string; a dict is accepted too)."""
    if isinstance(doc, dict):
        return doc
    try:
        out = json.loads(doc) if isinstance(doc, (str, bytes)) else None
    except json.JSONDecodeError:
        out = None
    if not isinstance(out, dict):
        raise UserError(f"demonstration `doc` is not a JSON object: {str(doc)[:60]!r}")
    return out
