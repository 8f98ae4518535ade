"""lm-eval's per-question samples files, read into one typed row per question.

``lm_eval --log_samples --output_path DIR`` (and ``aligncot eval``) writes, in one folder,
``results_<stamp>.json`` and, per leaf task, ``samples_<task>_<stamp>.jsonl``: one line per
question with ``doc_id``, ``doc``, ``doc_hash`` (sha256 of the document as lm-eval dumps
it), the prompt (``arguments``), the raw generations (``resps``), the filtered ones and
one key per metric (``acc``, ``invalid``, ``truncated``, ``maj@k`` ...). The same stamp ties
a results file to its samples, whatever the ``--output_path`` layout around them.

A question is identified by ``(doc_id, doc_hash)``: the id alone would silently pair
different questions when two runs read different data (another split, an edited file).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import iter_jsonl
from training.errors import ResultsError

#: A self-consistency task's name: its verdict is the majority vote ``maj@<k>``.
MAJ_TASK = re.compile(r"^aligncot_(?P<bench>[a-z0-9]+)_cot_maj(?P<k>\d+)$")

Key = tuple[int, str]  # (doc_id, doc_hash)
#: What a duplicate-question error tells the user to do.
DEDUPE_HINT = "a row holds each question once (`aligncot score --dedupe` keeps first occurrences)"


@dataclass(frozen=True)
class Sample:
    """One question of one task as one model answered it.

    Attributes:
        task: Leaf task name (e.g. ``aligncot_mmlu_cot_anatomy``).
        doc_id: lm-eval's index of the question in the evaluated split.
        doc_hash: lm-eval's hash of the document.
        correct: The task's verdict (``acc``, or ``maj@k`` for a maj task).
        invalid: No answer could be extracted (None: the task does not report it).
        truncated: Generation hit the token cap without an answer (None: not reported).
        extracted: The answer the suite's scorer read, None when none (or not generative).
        target: The reference answer as lm-eval logged it.
        prompt: The text the model was given.
        generations: The model's raw generations (k of them for a maj task).
        doc: The dataset row.
    """

    task: str
    doc_id: int
    doc_hash: str
    correct: bool
    invalid: bool | None
    truncated: bool | None
    extracted: str | None
    target: str
    prompt: str
    generations: tuple[str, ...]
    doc: dict

    @property
    def key(self) -> Key:
        """What pairs this question with the same question of another run."""
        return self.doc_id, self.doc_hash


def doc_hash(doc: dict) -> str:
    """The document hash lm-eval logs (sha256 of ``json.dumps(doc, indent=2, ensure_ascii=False)``).

    >>> doc_hash({"q": "1+1?"})[:12]
    '312d278766de'
    """
    return hashlib.sha256(json.dumps(doc, indent=2, default=str, ensure_ascii=False).encode("utf-8")).hexdigest()


def verdict_metric(task: str) -> str:
    """The per-question metric that is a task's verdict.

    >>> verdict_metric("aligncot_gsm8k_cot_maj8"), verdict_metric("aligncot_csqa_cot")
    ('maj@8', 'acc')
    """
    m = MAJ_TASK.match(task)
    return f"maj@{m['k']}" if m else "acc"


def stamp(results_path: Path) -> str:
    """The timestamp that names a results file and its samples files.

    >>> stamp(Path("out/m/results_2026-01-01T00-00-00.123.json"))
    '2026-01-01T00-00-00.123'
    """
    return results_path.name.removeprefix("results_").removesuffix(".json")


def samples_path(results_path: Path, task: str) -> Path:
    """Where lm-eval puts a leaf task's samples beside ``results_path``."""
    return results_path.parent / f"samples_{task}_{stamp(results_path)}.jsonl"


def leaf_tasks(data: dict, name: str) -> list[str]:
    """The leaf tasks of an entry of a results file (itself when it is not a group)."""
    children = (data.get("group_subtasks") or {}).get(name)
    if not children:
        return [name]
    return [leaf for c in children for leaf in leaf_tasks(data, c)]


def _flag(value) -> bool | None:
    """A per-question 0/1 metric as a flag. A maj@k task logs ``invalid`` / ``truncated`` as
    the share of its k generations; the question counts as invalid only when all k are."""
    return None if value is None else float(value) >= 1.0


def _prompt(arguments) -> str:
    """The context of lm-eval's first request (dict form ``gen_args_0.arg_0`` or list form)."""
    if isinstance(arguments, dict):
        first = next(iter(arguments.values()), None)
        return str(first.get("arg_0", "")) if isinstance(first, dict) else ""
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], list):
        return str(arguments[0][0])
    return ""


def _extracted(task: str, row: dict, generations: tuple[str, ...]) -> str | None:
    """The extracted answer: logged by the task when it logs verdict dicts, else the
    suite's own scorer run on the first generation (the one extractor, not a copy)."""
    filtered = (row.get("filtered_resps") or [None])[0]
    if isinstance(filtered, dict) and "extracted" in filtered:
        return filtered["extracted"]
    if isinstance(filtered, list) and filtered and all(isinstance(f, dict) for f in filtered):
        answers = [f.get("extracted") for f in filtered]
        if len(answers) == 1:
            return answers[0]
        return ", ".join("—" if a is None else str(a) for a in answers)  # the k votes of a maj@k question
    spec = suite.all_tasks().get(task)
    if spec is None or spec.variant == suite.LL or not generations:
        return None
    return suite.score(spec, row["doc"], generations[0]).extracted


def _generations(row: dict) -> tuple[str, ...]:
    """The raw generations of a generative task's question; () for loglikelihood tasks,
    whose ``resps`` are (logprob, is_greedy) pairs."""
    first = (row.get("resps") or [[]])[0]
    items = first if isinstance(first, list) else [first]
    return tuple(items) if all(isinstance(g, str) for g in items) else ()


def parse_sample(task: str, row: dict) -> Sample:
    """One samples line as a :class:`Sample` (KeyError/TypeError/ValueError when malformed)."""
    generations = _generations(row)
    filtered = (row.get("filtered_resps") or [None])[0]
    if isinstance(filtered, list) and len(filtered) == 1:
        filtered = filtered[0]
    truncated = row.get("truncated", filtered.get("truncated") if isinstance(filtered, dict) else None)
    return Sample(
        task,
        int(row["doc_id"]),
        str(row.get("doc_hash") or doc_hash(row["doc"])),
        bool(float(row[verdict_metric(task)])),
        _flag(row.get("invalid")),
        _flag(truncated),
        _extracted(task, row, generations),
        str(row.get("target", "")),
        _prompt(row.get("arguments")),
        generations,
        row["doc"],
    )


def first_duplicate(keys) -> tuple[int, int] | None:
    """Positions (0-based) of the first key seen before, and of its first occurrence; None when all differ.

    >>> first_duplicate([(0, "a"), (1, "b"), (0, "a"), (1, "b")])
    (2, 0)
    >>> first_duplicate([(0, "a"), (0, "b")]) is None
    True
    """
    seen: dict = {}
    for i, key in enumerate(keys):
        if key in seen:
            return i, seen[key]
        seen[key] = i
    return None


def read_samples(path: Path, task: str) -> list[Sample]:
    """Every question of one samples file.

    Raises:
        ResultsError: A line that is not an lm-eval sample, or a question the file holds
            twice (same doc_id and doc_hash), with its line number.
    """
    out, lines = [], []
    try:
        for n, row in iter_jsonl(path):
            try:
                out.append(parse_sample(task, row))
            except (KeyError, TypeError, ValueError) as e:
                raise ResultsError(f"{path}:{n}: not an lm-eval sample ({e!r})") from None
            lines.append(n)
    except OSError as e:
        raise ResultsError(f"{path}: {e.strerror}") from None
    if dup := first_duplicate(s.key for s in out):
        raise ResultsError(
            f"{path}:{lines[dup[0]]}: doc_id {out[dup[0]].doc_id} repeats line {lines[dup[1]]} "
            f"(same doc_hash); {DEDUPE_HINT}"
        )
    return out


def entry_samples(results_path: Path, data: dict, name: str) -> tuple[Path, ...] | None:
    """The samples files behind an entry (all its leaves), or None when any is missing."""
    paths = tuple(samples_path(results_path, leaf) for leaf in leaf_tasks(data, name))
    return paths if all(p.is_file() for p in paths) else None


def read_entry(paths: tuple[Path, ...]) -> list[Sample]:
    """The questions of an entry: its leaves' samples, concatenated in leaf order."""
    return [s for p in paths for s in read_samples(p, task_of(p))]


def task_of(path: Path) -> str:
    """The task a samples file belongs to, from its name.

    >>> task_of(Path("samples_aligncot_mmlu_cot_anatomy_2026-01-01T00-00-00.5.jsonl"))
    'aligncot_mmlu_cot_anatomy'
    """
    name = path.name.removeprefix("samples_").removesuffix(".jsonl")
    return name.rsplit("_", 1)[0]


def above_chance(samples: list[Sample]) -> float | None:
    """Mean of ``(correct - chance) / (1 - chance)`` per question, chance = 1 / its number of
    options (Open LLM Leaderboard v2 style); None when a question has no options."""
    total = 0.0
    for s in samples:
        spec = suite.all_tasks().get(s.task)
        options = suite.item(spec, s.doc).options if spec is not None else None
        if not options or len(options) < 2:
            return None
        chance = 1 / len(options)
        total += (float(s.correct) - chance) / (1 - chance)
    return total / len(samples) if samples else None


def pair(a: list[Sample], b: list[Sample]) -> tuple[list[bool], list[bool], int]:
    """Verdicts of the questions both runs answered, matched by ``(doc_id, doc_hash)``.

    Returns:
        (A's verdicts, B's verdicts, questions of either run without a partner).

    Raises:
        ResultsError: A ``doc_id`` names different documents in the two runs (the runs read
            different data, so no pairing by id can be trusted), or a run holds a question
            twice (it would be counted twice).
    """
    for side, run in (("A", a), ("B", b)):
        if dup := first_duplicate((s.task, *s.key) for s in run):
            s = run[dup[0]]
            raise ResultsError(f"run {side} holds {s.task} doc_id {s.doc_id} twice (same doc_hash); {DEDUPE_HINT}")
    by_key = {(s.task, *s.key): s for s in b}
    hashes = {(s.task, s.doc_id): s.doc_hash for s in b}
    x, y = [], []
    for s in a:
        other = by_key.get((s.task, *s.key))
        if other is None:
            if hashes.get((s.task, s.doc_id), s.doc_hash) != s.doc_hash:
                raise ResultsError(
                    f"{s.task} doc_id {s.doc_id}: the two runs hold different documents "
                    "(doc_hash differs); were they evaluated on the same data?"
                )
            continue
        x.append(s.correct)
        y.append(other.correct)
    return x, y, len(a) + len(b) - 2 * len(x)
