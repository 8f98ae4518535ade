"""``aligncot annotate --import FILE``: recorded teacher outputs -> the annotation store.

A recorded teacher (``shared/teachers`` format: one JSON object per line with ``doc``, the
row in the hub schema, ``completion``, the teacher's text, ``teacher``, its name, and
optionally ``source``, where the text was published) becomes the same store and
``annotations.jsonl`` as a live run, so ``aligncot demos`` reads it unchanged. Each
completion is judged by the suite's scorer, as a live answer is. The teacher was shown its
publisher's prompt, not the suite's: the stored ``prompt`` is the suite's (what a student is
trained and evaluated on) and the provenance says that the teacher's own prompt differed.

Keys hash (teacher, suite prompt, source, sample), so importing the same rows again adds
nothing; a second answer to the same question, in one file or in a later file of the same
import, becomes sample 1, 2, ... of that question.
Questions whose key (:func:`training.data_split.question_key`) is in ``exclude`` are skipped:
that is how a tuning split's questions stay out of the demonstrations.
"""

from __future__ import annotations

import json
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import DataError, iter_jsonl
from training.annotate.jobs import doc_id
from training.annotate.store import Record, Store, job_key
from training.data_split import question_key
from training.errors import UserError

#: ``backend`` of imported records: nothing was generated here.
BACKEND = "recorded"
#: Fields every imported line must have.
REQUIRED = ("doc", "completion")
#: What the provenance says about the prompt the teacher saw.
PROMPT_NOTE = "the teacher's own (publisher's) prompt, not the suite's; `prompt` is the suite's prompt for this row"
PROVENANCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS provenance (
    key TEXT PRIMARY KEY, teacher TEXT NOT NULL, source TEXT, file TEXT NOT NULL, line INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read, newly stored, already present, judged correct, excluded.

    ``read`` counts the rows considered after the exclusion; ``excluded`` those skipped.
    """

    read: int
    added: int
    present: int
    correct: int
    excluded: int = 0


def read_rows(path: Path, spec: suite.TaskSpec) -> list[tuple[int, dict]]:
    """The file's rows with their line numbers, checked before anything is written.

    Raises:
        UserError: Unreadable file, a line without ``doc`` or ``completion``, a ``doc``
            that is not a row of ``spec``'s benchmark.
    """
    try:
        rows = list(iter_jsonl(path))
    except DataError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"cannot read {path} ({e.strerror})") from None
    out = []
    for line, row in rows:
        missing = [k for k in REQUIRED if not isinstance(row, dict) or k not in row]
        if missing:
            raise UserError(f"{path}:{line}: missing {' and '.join(missing)} (need doc and completion)")
        if not isinstance(row["doc"], dict) or not isinstance(row["completion"], str):
            raise UserError(f"{path}:{line}: doc must be an object and completion a string")
        if row.get("benchmark", spec.benchmark.key) != spec.benchmark.key:
            raise UserError(f"{path}:{line}: a {row['benchmark']} row, but {spec.name} is {spec.benchmark.key}")
        try:
            suite.item(spec, row["doc"])
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise UserError(
                f"{path}:{line}: doc is not a {spec.benchmark.title} row ({type(e).__name__}: {e})"
            ) from None
        out.append((line, row))
    if not out:
        raise UserError(f"{path}: no rows")
    return out


def without_excluded(path: Path, rows: list[tuple[int, dict]], exclude: AbstractSet[str]) -> list[tuple[int, dict]]:
    """``rows`` less those whose question key is in ``exclude``.

    Raises:
        UserError: Every row is excluded (an import of nothing is a mistake, not a no-op).
    """
    kept = [(line, row) for line, row in rows if question_key(row["doc"]) not in exclude]
    if not kept:
        raise UserError(f"{path}: every row is excluded")
    return kept


def to_record(spec: suite.TaskSpec, split: str, line: int, row: dict, sample: int) -> Record:
    """One recorded answer as a store row, judged by the suite's scorer."""
    doc, teacher = row["doc"], str(row.get("teacher") or "recorded")
    prompt = suite.render_prompt(spec, doc)
    params = {"source": row.get("source"), "recorded": True}
    verdict = suite.score(spec, doc, row["completion"])
    return Record(
        key=job_key(BACKEND, teacher, prompt, params, sample),
        task=spec.name,
        doc_id=doc_id(row.get("split") or split, line - 1, doc),
        sample=sample,
        doc=json.dumps(doc, ensure_ascii=False, sort_keys=True),
        prompt=prompt,
        completion=row["completion"],
        finish_reason=None,
        prompt_tokens=None,
        completion_tokens=None,
        extracted=verdict.extracted,
        gold=suite.item(spec, doc).gold,
        correct=verdict.correct,
        backend=BACKEND,
        model=teacher,
        attempts=0,
        started_at=0.0,
        finished_at=0.0,
    )


def import_file(
    path: Path,
    task: str,
    store: Store,
    split: str = "train",
    exclude: AbstractSet[str] = frozenset(),
    seen: dict[str, tuple[int, int]] | None = None,
) -> ImportResult:
    """Score and store every row of ``path`` for ``task``; rows already stored are left alone.

    Rows whose question key is in ``exclude`` are skipped (not stored, not counted in ``read``).
    ``seen`` carries questions across the files of one import (question -> line of its first
    row, answers so far): a question another file already answered keeps that row's id and
    takes the next sample number, so several teachers' answers are samples of one question.

    Raises:
        UserError: Unknown or log-likelihood task, bad rows (nothing is written then).
    """
    try:
        spec = suite.generative_task(task)
    except (suite.UnknownTask, suite.NotGenerative) as e:
        raise UserError(str(e)) from None
    all_rows = read_rows(path, spec)
    rows = without_excluded(path, all_rows, exclude)
    store.db.executescript(PROVENANCE_SCHEMA)
    seen = {} if seen is None else seen
    added = correct = 0
    with store.db:  # one transaction: an import is stored whole or not at all
        store.db.execute("BEGIN")
        for line, row in rows:
            question = json.dumps(row["doc"], sort_keys=True)
            first, answers = seen.get(question, (line, 0))
            record = to_record(spec, split, first, row, answers)
            seen[question] = (first, answers + 1)
            added += store.put(record)
            correct += record.correct
            store.db.execute(
                "INSERT OR IGNORE INTO provenance VALUES (?, ?, ?, ?, ?)",
                (record.key, record.model, row.get("source"), path.name, line),
            )
    return ImportResult(len(rows), added, len(rows) - added, correct, len(all_rows) - len(rows))


def provenance(store: Store) -> dict[str, dict]:
    """Key -> provenance of every imported record (empty for a live run's store)."""
    tables = {t for (t,) in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "provenance" not in tables:
        return {}
    cur = store.db.execute("SELECT key, teacher, source, file, line FROM provenance")
    return {
        k: {"teacher": t, "source": s, "file": f, "line": n, "teacher_prompt": PROMPT_NOTE} for k, t, s, f, n in cur
    }


def export_rows(store: Store) -> list[dict]:
    """``annotations.jsonl`` rows: every record, with its provenance when it was imported."""
    found = provenance(store)
    return [{**r.export(), **({"provenance": found[r.key]} if r.key in found else {})} for r in store.records()]
