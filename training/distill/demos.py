"""Teacher annotations -> the students' training set (``aligncot demos``, :mod:`training.distill.cli`).

Format (``OUT/dataset`` is a ``datasets.DatasetDict`` saved with ``save_to_disk``, with
splits ``train`` and ``validation``; ``OUT/train.jsonl`` and ``OUT/validation.jsonl`` hold
the same rows; ``OUT/demos.json`` records the options and counts; ``OUT/questions.txt`` lists
the question keys of both splits, for a later ``--exclude-questions``). Each row:

- ``prompt``: exactly ``suite.render_prompt(task, doc)`` -- byte for byte the prompt lm-eval
  evaluates the student on (ends in ``Answer:`` or ``Answer: Let's think step by step.``).
- ``completion``: what the student should generate after it, starting with one space (lm-eval
  generates right after the prompt, so ``prompt + completion`` tokenises as context +
  continuation). ``--style cot``: the teacher's rationale -- cut before the sentence of its
  own final answer -- then one canonical answer sentence (after a space, or a line break
  when the rationale's last line has no full stop); ``--style answer``: only that sentence. The sentence is made by the scorer's ``answer_sentence`` (``The answer is (B) sunlight.``)
  for the answer the teacher committed to: the gold answer when it was right
  (``suite.answer_sentence(task, doc)``), its wrong answer for ``misleading`` rows.
- ``task``: the student's task (the cot task for ``--style cot``, the zs task for
  ``--style answer``); ``doc``: the dataset row as a JSON string; ``doc_id``, ``sample``:
  which annotation; ``correct``: whether the teacher was right; ``source``: its directory.

Left out first, and counted in ``demos.json``: the annotations of questions whose key
(:func:`training.data_split.question_key`) an ``--exclude-questions`` file lists -- before any
sampling, so the rows drawn are those drawn from annotations that never held them.

Dropped, and counted in ``demos.json``: rows without a stated answer (cannot end in a
sentence), for ``--style cot`` rationales cut off at the token budget (``finish_reason ==
"length"``), and with ``--drop-contaminated`` questions of the evaluation split (without
it, any such question is refused: MultiArith's shared split repeats 5 test problems in train).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, Literal, get_args

from aligncot_tasks import suite
from aligncot_tasks.data import DataError, load_rows, read_jsonl
from training import atomic
from training.annotate.store import DB_NAME, EXPORT_NAME
from training.data_split import question_key, write_keys
from training.distill.demonstration import demonstration, normalise_question
from training.errors import UserError

#: Which annotations become demonstrations: all, the teacher's correct answers, its wrong ones.
Kind = Literal["all", "truthful", "misleading"]
#: What a completion holds: rationale and answer sentence, or the answer sentence alone.
Style = Literal["cot", "answer"]
KINDS: tuple[Kind, ...] = get_args(Kind)
STYLES: tuple[Style, ...] = get_args(Style)
#: Ranaldi & Freitas train on 4000 class-balanced demonstrations per multiple-choice task.
MC_BALANCE = 4000
#: File (inside the output directory) listing the question keys of the train and validation rows.
QUESTIONS_NAME = "questions.txt"


def load_annotations(dirs: list[Path]) -> list[dict]:
    """Every ``annotations.jsonl`` row of ``dirs``, tagged with its ``source``."""
    rows = []
    for d in dirs:
        path = d / EXPORT_NAME
        if not path.is_file():
            if (d / DB_NAME).is_file():  # a store whose export is missing: --export writes it
                raise UserError(f"{path} not found (write it with `aligncot annotate --out {d} --export`)")
            raise UserError(
                f"{d} holds no annotations: annotate into it first "
                f"(`aligncot annotate --task TASK --model MODEL --out {d}`, or --import FILE)"
            )
        try:
            rows += [{**r, "source": str(d)} for r in read_jsonl(path)]
        except DataError as e:
            raise UserError(str(e)) from None
    return rows


def contaminated(demos: list[dict]) -> list[bool]:
    """Which demonstrations ask a question of their task's evaluation split.

    Questions are compared as the student sees them -- text and options, normalised -- since
    some benchmarks reuse a stem with other options (OpenBookQA: 23 train stems recur in
    its test split as different questions).
    """
    seen: dict[str, set[str]] = {}
    flags = []
    for d in demos:
        spec = suite.get_task(d["task"])
        if d["task"] not in seen:
            b = spec.benchmark
            try:
                rows = load_rows(b.hub_id, spec.dataset_config, b.eval_split)
            except DataError as e:
                raise UserError(f"cannot check contamination against {d['task']}'s evaluation split: {e}") from None
            seen[d["task"]] = {normalise_question(suite.prompt_text(spec, r)) for r in rows}
        flags.append(normalise_question(suite.prompt_text(spec, json.loads(d["doc"]))) in seen[d["task"]])
    return flags


def balanced_order(demos: list[dict], seed: int) -> list[dict]:
    """Seeded order whose every prefix is as class-balanced over gold labels as possible.

    Multiple-choice rows are shuffled within each gold letter and dealt round-robin
    (A, B, C, A, B, C, ...); other rows (open answers have no classes) are shuffled.
    """
    rng = random.Random(seed)
    if not all(suite.get_task(d["task"]).benchmark.multiple_choice for d in demos):
        out = list(demos)
        rng.shuffle(out)
        return out
    by_gold: dict[str, list[dict]] = defaultdict(list)
    for d in demos:
        by_gold[suite.item(d["task"], json.loads(d["doc"])).gold].append(d)
    queues = [by_gold[g] for g in sorted(by_gold)]
    for q in queues:
        rng.shuffle(q)
    return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]


def question_order(demos: list[dict], seed: int) -> list[tuple[str, str]]:
    """The demonstrations' questions, (task, doc_id), in a seeded order independent of the input's."""
    return sorted(
        {(d["task"], d["doc_id"]) for d in demos},
        key=lambda q: hashlib.sha256(f"{seed}:{q[0]}:{q[1]}".encode()).hexdigest(),
    )


def split_validation(demos: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Hold out ``ceil(val_fraction * questions)`` whole questions (all their samples), seeded."""
    questions = question_order(demos, seed)
    held = set(questions[: math.ceil(val_fraction * len(questions))])
    train = [d for d in demos if (d["task"], d["doc_id"]) not in held]
    return train, [d for d in demos if (d["task"], d["doc_id"]) in held]


def validation_share(held_out: list[dict], sampled: list[dict], val_fraction: float, seed: int) -> list[dict]:
    """The held-out questions that make ``val_fraction`` of the questions of the dataset built.

    ``k`` questions with ``k / (k + training questions sampled) ~= val_fraction``, taken in the
    seeded order: with ``--balance N`` validation is a fraction of the N rows' questions, not of
    every annotated one, and a smaller N's validation is a prefix of a larger one's.
    """
    if val_fraction <= 0:
        return []
    trained = len({(d["task"], d["doc_id"]) for d in sampled})
    order = question_order(held_out, seed)
    keep = set(order[: math.ceil(val_fraction / (1 - val_fraction) * trained)])
    return [d for d in held_out if (d["task"], d["doc_id"]) in keep]


def build(
    dirs: list[Path],
    kind: Kind,
    style: Style,
    balance: int | None,
    fraction: float,
    val_fraction: float,
    seed: int,
    drop_contaminated: bool = False,
    exclude: AbstractSet[str] = frozenset(),
) -> tuple[list[dict], list[dict], dict[str, Any]]:
    """Training and validation rows plus counts; raises :class:`~training.errors.UserError` on bad input.

    Annotations of the questions whose keys are in ``exclude`` are left out before anything else.
    """
    loaded = load_annotations(dirs)
    rows = [r for r in loaded if question_key(r["doc"]) not in exclude]
    if not rows:
        raise UserError(f"every one of the {len(loaded)} annotations is of an excluded question")
    keep = {"all": lambda r: True, "truthful": lambda r: r["correct"], "misleading": lambda r: not r["correct"]}[kind]
    kept = [r for r in rows if keep(r)]
    demos = [d for d in (demonstration(r, style) for r in kept) if d is not None]
    stats: dict[str, Any] = {
        "excluded": len(loaded) - len(rows),
        "annotations": len(rows),
        "kind_kept": len(kept),
        "dropped_no_answer_or_truncated": len(kept) - len(demos),
    }
    if not demos:
        left = f" left after excluding {stats['excluded']} of listed questions" if stats["excluded"] else ""
        raise UserError(
            f"no {kind} demonstrations in {', '.join(map(str, dirs))} "
            f"({len(rows)} annotations{left}, {len(kept)} of kind {kind})"
        )
    flags = contaminated(demos)
    if any(flags) and not drop_contaminated:
        raise UserError(
            f"{sum(flags)} of {len(demos)} demonstrations ask a question of their task's "
            "evaluation split (pass --drop-contaminated to leave them out)"
        )
    demos = [d for d, bad in zip(demos, flags) if not bad]
    stats["dropped_contaminated"] = sum(flags)
    if not demos:
        raise UserError("every demonstration asks a question of its task's evaluation split")
    if balance is None and all(suite.get_task(d["task"]).benchmark.multiple_choice for d in demos):
        balance = MC_BALANCE
    # Validation questions are held out first, so that --balance N means N training rows
    # (the papers' 4000) and the validation slice is the same for every N and fraction.
    pool, held_out = split_validation(demos, val_fraction, seed)
    ordered = balanced_order(pool, seed)[: balance or None]
    validation = validation_share(held_out, ordered, val_fraction, seed)
    train = ordered[: round(fraction * len(ordered))]
    if not train:
        raise UserError(f"no training rows left (fraction {fraction} of {len(ordered)} after validation)")
    stats.update(
        balance=balance,
        train=len(train),
        validation=len(validation),
        train_labels=dict(sorted(Counter(suite.item(d["task"], json.loads(d["doc"])).gold for d in train).items())),
    )
    return train, validation, stats


def save(out: Path, train: list[dict], validation: list[dict], manifest: dict) -> None:
    """Write the dataset and JSONL files into ``out`` via a temporary directory."""
    import datasets

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".demos-"))
    try:
        columns = list(train[0])
        splits = {
            name: datasets.Dataset.from_list(rows) if rows else datasets.Dataset.from_dict({c: [] for c in columns})
            for name, rows in (("train", train), ("validation", validation))
        }
        datasets.DatasetDict(splits).save_to_disk(str(tmp / "dataset"))
        atomic.write_jsonl(tmp / "train.jsonl", train)
        atomic.write_jsonl(tmp / "validation.jsonl", validation)
        atomic.write_json(tmp / "demos.json", manifest, indent=2)
        keys = sorted({question_key(json.loads(d["doc"])) for d in train + validation})
        write_keys(tmp / QUESTIONS_NAME, keys, f"questions of {out}'s train and validation rows (aligncot demos)")
        if (out / "dataset").exists():
            shutil.rmtree(out / "dataset")
        for name in ("dataset", "train.jsonl", "validation.jsonl", "demos.json", QUESTIONS_NAME):
            (tmp / name).replace(out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
