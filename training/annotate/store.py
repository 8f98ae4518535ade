"""Crash-safe store of teacher completions: one SQLite database per annotation directory.

Every finished completion is committed on its own, at once, under a key that hashes
everything that determines it (:func:`job_key`). A run killed at any instant loses at
most the requests in flight; a rerun with the same arguments finds their keys missing
and everything else present, so no stored key is ever requested again. ``INSERT OR
IGNORE`` on the primary key means two runs writing the same directory never duplicate a
row. WAL mode lets the exporter read while a run writes; ``synchronous=NORMAL`` is durable
against a killed process (the case that matters here), though not against power loss.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from training.errors import UserError

#: File name of the database inside an annotation directory.
DB_NAME = "annotations.db"
#: File name of the JSON Lines export inside an annotation directory.
EXPORT_NAME = "annotations.jsonl"

SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY, task TEXT NOT NULL, doc_id TEXT NOT NULL, sample INTEGER NOT NULL,
    doc TEXT NOT NULL, prompt TEXT NOT NULL, completion TEXT NOT NULL, finish_reason TEXT,
    prompt_tokens INTEGER, completion_tokens INTEGER, extracted TEXT, gold TEXT,
    correct INTEGER NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL, attempts INTEGER,
    started_at REAL, finished_at REAL
);
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY, task TEXT NOT NULL, doc_id TEXT NOT NULL, sample INTEGER NOT NULL,
    error TEXT NOT NULL, attempts INTEGER, failed_at REAL
);
"""


def job_key(backend: str, model: str, prompt: str | list, params: dict, sample: int) -> str:
    """Hash of everything that determines a completion.

    >>> a = job_key("openai", "m", "Q: 1?", {"temperature": 0.0}, 0)
    >>> a == job_key("openai", "m", "Q: 1?", {"temperature": 0.0}, 0), len(a)
    (True, 64)
    >>> a == job_key("openai", "m", "Q: 1?", {"temperature": 0.0}, 1)
    False
    """
    payload = {"backend": backend, "model": model, "prompt": prompt, "params": params, "sample": sample}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Record:
    """One stored completion (a row of ``completions``); see the table for the fields."""

    key: str
    task: str
    doc_id: str
    sample: int
    doc: str
    prompt: str
    completion: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    extracted: str | None
    gold: str | None
    correct: bool
    backend: str
    model: str
    attempts: int
    started_at: float
    finished_at: float

    def export(self) -> dict:
        """The record as an ``annotations.jsonl`` line: ``doc`` and chat prompts decoded."""
        row = asdict(self)
        row["doc"] = json.loads(self.doc)
        if self.prompt.startswith("["):  # chat messages are stored as their JSON
            row["prompt"] = json.loads(self.prompt)
        return row


@dataclass(frozen=True)
class Totals:
    """What a store holds for a set of keys."""

    done: int
    failed: int
    correct: int
    prompt_tokens: int
    completion_tokens: int
    truncated: int


def unreadable(path: Path, error: Exception) -> UserError:
    """The one-line error for a database file SQLite cannot read."""
    return UserError(f"{path}: {error} (damaged, or not an annotations database; move it aside to start over)")


#: Attempts to set up a database another run is setting up at the same moment (~10 s in all).
INIT_ATTEMPTS = 60


class Store:
    """The completions database of one annotation directory.

    Args:
        out_dir: The annotation directory (created).
    """

    def __init__(self, out_dir: str | Path):
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, every statement is its own transaction.
        self.db = sqlite3.connect(self.dir / DB_NAME, isolation_level=None, timeout=30)
        # Switching to WAL takes an exclusive lock for which SQLite does not call its busy
        # handler: a second run opening the same directory at that instant gets "database is
        # locked" at once. Retry briefly (bounded) instead of failing that run.
        for attempt in range(INIT_ATTEMPTS):
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == INIT_ATTEMPTS - 1:
                    self.db.close()
                    raise
                time.sleep(0.05 * (attempt + 1))
            except sqlite3.DatabaseError as e:  # "file is not a database": a damaged or foreign file
                self.db.close()
                raise unreadable(self.dir / DB_NAME, e) from None

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def keys(self) -> set[str]:
        """Keys of every stored completion."""
        return {k for (k,) in self.db.execute("SELECT key FROM completions")}

    def put(self, record: Record) -> bool:
        """Commit one completion and clear an earlier failure of its key.

        Returns:
            Whether the row is new (False: another run stored this key first).
        """
        fields = asdict(record)
        cols = ", ".join(fields)
        cur = self.db.execute(
            f"INSERT OR IGNORE INTO completions ({cols}) VALUES ({', '.join('?' * len(fields))})",
            [int(v) if isinstance(v, bool) else v for v in fields.values()],
        )
        self.db.execute("DELETE FROM failures WHERE key = ?", (record.key,))
        return cur.rowcount == 1

    def fail(self, key: str, task: str, doc_id: str, sample: int, error: str, attempts: int) -> None:
        """Record that a key failed after its last attempt (a rerun tries it again)."""
        self.db.execute(
            "INSERT OR REPLACE INTO failures VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, task, doc_id, sample, error, attempts, time.time()),
        )

    def records(self) -> Iterator[Record]:
        """Every stored completion, ordered by task, doc id and sample."""
        cur = self.db.execute("SELECT * FROM completions ORDER BY task, doc_id, sample, key")
        for row in cur:
            values = list(row)
            values[12] = bool(values[12])  # correct
            yield Record(*values)

    def failures(self) -> list[dict]:
        """Every recorded failure whose key has no completion yet."""
        cur = self.db.execute(
            "SELECT key, task, doc_id, sample, error, attempts FROM failures "
            "WHERE key NOT IN (SELECT key FROM completions) ORDER BY task, doc_id, sample"
        )
        return [dict(zip(("key", "task", "doc_id", "sample", "error", "attempts"), r)) for r in cur]

    def totals(self, keys: set[str] | None = None) -> Totals:
        """Counts over ``keys`` (every stored key when None)."""
        done = correct = ptoks = ctoks = truncated = 0
        for r in self.records():
            if keys is None or r.key in keys:
                done += 1
                correct += r.correct
                ptoks += r.prompt_tokens or 0
                ctoks += r.completion_tokens or 0
                truncated += r.finish_reason == "length"
        failed = sum(1 for f in self.failures() if keys is None or f["key"] in keys)
        return Totals(done, failed, correct, ptoks, ctoks, truncated)
