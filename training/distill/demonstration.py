"""One demonstration from one teacher annotation: the student's prompt and completion.

The completion is the teacher's rationale, cut before the sentence of its own final answer,
then the scorer's canonical answer sentence (see :mod:`training.distill.demos`).
"""

from __future__ import annotations

import dataclasses
import json
import re

from aligncot_tasks import prompts, scoring, suite
from aligncot_tasks.scoring._match import SOLUTION_CUE_RE, before_ramble, commitments

#: A sentence ends at ., ! or ? before whitespace, or at a line break.
SENTENCE_END_RE = re.compile(r"[.!?](?=\s)|\n")
#: Anything but letters and digits, for comparing questions.
NON_WORD_RE = re.compile(r"[\W_]+")


def normalise_question(text: str) -> str:
    """Lower case, punctuation and spacing removed: how questions are compared.

    >>> normalise_question("  What's 2+2?\\n") == normalise_question("what s 2 2")
    True
    """
    return NON_WORD_RE.sub(" ", text.lower()).strip()


def rationale(completion: str) -> str:
    r"""The teacher's reasoning without its own final answer statement.

    Cuts before the sentence that holds the last commitment the scorer would read (an
    answer cue, a ``\boxed{}``, a solution line ``A: 18``), and drops a made-up next
    question, so the demonstration ends in exactly one (canonical) answer sentence; text
    without a commitment is kept whole.

    >>> rationale(" 2 apples plus 1. Therefore, among A through E, the answer is (B). Done.")
    '2 apples plus 1.'
    >>> rationale("The answer is (A).")
    ''
    >>> rationale("3*10=30 ounces\nSo 900/10=90 bags\nA: 90")
    '3*10=30 ounces\nSo 900/10=90 bags'
    >>> rationale("No cue, just text.")
    'No cue, just text.'

    A chat teacher that restates the trigger (the prompt already ends with it) loses the echo:

    >>> rationale(" Let's think step by step. First, 2. So the answer is (A).")
    'First, 2.'
    """
    text = before_ramble(completion)
    found = commitments(text, SOLUTION_CUE_RE)
    if found:
        ends = [m.end() for m in SENTENCE_END_RE.finditer(text, 0, found[-1].start)]
        text = text[: ends[-1] if ends else 0]
    text = text.strip()
    return text[len(prompts.COT_TRIGGER) :].strip() if text.startswith(prompts.COT_TRIGGER) else text


def student_task(task: str, style: str) -> suite.TaskSpec:
    """The task the student is evaluated on: the cot or zs sibling of the annotated task."""
    spec = suite.get_task(task)
    return suite.get_task(suite.task_name(spec.benchmark.key, "cot" if style == "cot" else "zs", spec.config))


def stated_answer(spec: suite.TaskSpec, doc: dict, row: dict) -> str | None:
    """The canonical sentence for the answer the teacher committed to (None: it stated none)."""
    if row["correct"]:
        return suite.answer_sentence(spec, doc)
    if row.get("extracted") is None:
        return None
    return scoring.answer_sentence(spec.answer_type, dataclasses.replace(suite.item(spec, doc), gold=row["extracted"]))


def demonstration(row: dict, style: str) -> dict | None:
    """One annotation row -> one training row (None when it cannot be one)."""
    spec = student_task(row["task"], style)
    doc = row["doc"]
    sentence = stated_answer(spec, doc, row)
    if sentence is None or (style == "cot" and row.get("finish_reason") == "length"):
        return None
    reasoning = rationale(row["completion"]) if style == "cot" else ""
    if reasoning:  # a rationale cut after a line without a full stop keeps its line break
        reasoning += " " if reasoning.endswith((".", "!", "?")) else "\n"
    return {
        "prompt": suite.render_prompt(spec, doc),
        "completion": " " + reasoning + sentence,
        "task": spec.name,
        "doc": json.dumps(doc, ensure_ascii=False, sort_keys=True),
        "doc_id": row["doc_id"],
        "sample": row["sample"],
        "correct": bool(row["correct"]),
        "source": row["source"],
    }
