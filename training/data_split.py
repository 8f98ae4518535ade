"""A tuning split carved out of a benchmark's training split, and the question keys it excludes.

Tuning runs must not look at the evaluation split, so a deterministic slice of the *training*
split stands in for it: every ``every``-th training row (index % every == 0) is held out and
written as the evaluation split of a local data directory (``ALIGNCOT_DATA_DIR`` layout,
:func:`aligncot_tasks.data.local_split_path`), so ``lm_eval --tasks aligncot_<key>_cot`` with
that directory scores the held-out rows. Its question keys go to a text file that
``aligncot annotate --import --exclude-questions FILE`` and ``aligncot demos
--exclude-questions FILE`` read, so the teacher's answers to those questions never become
demonstrations.

A question's key is a hash of its row (canonical JSON), not a dataset field: every benchmark
has a row, not every one has an id, and a recorded teacher file carries the same row in the
same hub schema, in its own order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import load_rows, local_split_path
from training import atomic
from training.errors import UserError

#: File (inside the output directory) listing the held-out question keys, one per line.
KEYS_NAME = "tuning_questions.txt"


def question_key(doc: dict) -> str:
    """A question's key: the first 16 hex digits of the SHA-256 of its canonical JSON.

    Key order does not matter, content does:

    >>> question_key({"q": "x", "a": 1}) == question_key({"a": 1, "q": "x"})
    True
    >>> question_key({"q": "x"})
    '9fcde69f0e8f40f0'
    """
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def held_out(rows: list[dict], every: int) -> list[dict]:
    """The rows at index 0, every, 2 * every, ... (the tuning split).

    >>> held_out([{"i": i} for i in range(7)], 3)
    [{'i': 0}, {'i': 3}, {'i': 6}]
    """
    if every < 1:
        raise UserError(f"--every must be >= 1, got {every}")
    return rows[::every]


def write_keys(path: Path, keys: Iterable[str], header: str) -> Path:
    """Write ``keys`` to ``path`` (atomically) as :func:`read_keys` reads them: a ``#`` comment
    line holding ``header``, then one key per line, in the order given."""
    return atomic.write_text(path, f"# {header}\n" + "".join(k + "\n" for k in keys))


def read_keys(path: Path) -> set[str]:
    """The question keys listed in ``path`` (one per line; blank lines and ``#`` comments skipped).

    Raises:
        UserError: The file cannot be read or lists no key.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror})") from None
    keys = {s for line in lines if (s := line.split("#", 1)[0].strip())}
    if not keys:
        raise UserError(f"{path}: lists no question keys")
    return keys


@dataclass(frozen=True)
class TuningSplit:
    """What :func:`write_tuning_split` wrote: the split file, the key file, and the counts."""

    split_path: Path
    keys_path: Path
    train_rows: int
    held_out: int


def write_tuning_split(benchmark: str, every: int, out_dir: Path) -> TuningSplit:
    """Hold out every ``every``-th training row of ``benchmark`` and write the tuning split.

    Writes ``out_dir/<hub id>/<config>/<eval split>.jsonl`` (the held-out rows, so that
    ``ALIGNCOT_DATA_DIR=out_dir`` evaluates them) and ``out_dir/tuning_questions.txt`` (their
    keys, for ``aligncot annotate --import --exclude-questions``). The training split is read
    as every loader reads it: ``ALIGNCOT_DATA_DIR`` when set, else the hub.

    Raises:
        UserError: Unknown benchmark, one split into per-config tasks, or one without a
            training split.
    """
    bench = suite.BENCHMARKS.get(benchmark)
    if bench is None:
        raise UserError(f"unknown benchmark {benchmark!r}; one of {', '.join(sorted(suite.BENCHMARKS))}")
    if bench.per_config or bench.train_split is None:
        raise UserError(f"{bench.title} has no single training split to carve a tuning split from")
    rows = load_rows(bench.hub_id, bench.config_name, bench.train_split)
    kept = held_out(rows, every)
    split_path = local_split_path(out_dir, bench.hub_id, bench.config_name, bench.eval_split)
    keys_path = out_dir / KEYS_NAME
    split_path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_jsonl(split_path, kept)
    header = f"{bench.hub_id} {bench.train_split} rows with index % {every} == 0 (training/data_split.py)"
    write_keys(keys_path, (question_key(r) for r in kept), header)
    return TuningSplit(split_path, keys_path, len(rows), len(kept))
