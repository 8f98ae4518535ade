"""Self-refine rows of the ``correct_samples`` kind: every distinct correct sampled CoT answer.

Rejection-sampling fine-tuning (Zelikman et al. 2022, STaR; Yuan et al. 2023, RFT): the current
policy samples ``samples_per_question`` CoT answers to each question with the suite's CoT prompt
(as ``correct_vs_incorrect`` does, training/distill/pairs_sampled.py), the suite's scorer judges
each, and the round fine-tunes on the correct ones with the NLL loss alone. A row is

- ``prompt``: the CoT prompt (it ends with the reasoning trigger);
- ``completion``: an answer the scorer marks correct, each distinct answer of a question once;
- ``task``, ``doc``: the question, as in a pair;
- ``question_correct``: how many of the question's samples were correct (``min_correct_samples``
  selects on it, training/distill/pair_selection.py).

Why not the chosen side of ``correct_vs_incorrect`` pairs with ``loss_type: [sft]``: a pair
needs an incorrect answer, so a question answered right in every sample gives none and its
correct answers are never trained on; an answer in two pairs counts twice; and trl's
``DPOTrainer`` forwards the rejected answer at every step and computes reference
log-probabilities that the NLL loss never reads. Here every correct answer counts once and
nothing else is computed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from aligncot_tasks import suite
from training.distill.pairs_sampled import distinct, sample_answers
from training.distill.preference_pairs import Generate, Question

#: Columns the trainer reads (trl's prompt-completion format).
ROW_COLUMNS = ("prompt", "completion")


def question_rows(q: Question, answers: Sequence[str]) -> tuple[list[dict], int]:
    """The rows of one question from its sampled answers, and how many answers were correct.

    >>> from training.distill.preference_pairs import question
    >>> doc = {"question": "q", "answer": "#### 2"}
    >>> rows, n = question_rows(question("aligncot_gsm8k_cot", doc), [" The answer is 2.", "The answer is 2. ", " 3"])
    >>> n, [r["completion"] for r in rows], rows[0]["question_correct"]
    (2, [' The answer is 2.'], 2)
    """
    verdicts = [suite.score(q.cot_task, q.doc, a).correct for a in answers]
    n_correct = sum(verdicts)
    doc = json.dumps(q.doc, ensure_ascii=False)
    rows = [
        {"prompt": q.cot_prompt, "completion": a, "task": q.cot_task, "doc": doc, "question_correct": n_correct}
        for a in distinct([a for a, ok in zip(answers, verdicts) if ok])
    ]
    return rows, n_correct


def build_correct_samples(
    qs: Sequence[Question], generate: Generate, samples_per_question: int, max_new_tokens: int | None = None
) -> tuple[list[dict], dict]:
    """Sample CoT answers to every question, judge them, and keep each distinct correct one.

    Args:
        qs: Questions.
        generate: ``generate(prompts, budgets, desc) -> generations``, sampling (each prompt
            appears ``samples_per_question`` times in a row).
        samples_per_question: Answers sampled per question.
        max_new_tokens: Overrides the per-benchmark generation budgets.

    Returns:
        The rows and counts: ``questions``, ``samples``, ``correct_samples``, ``all_right``,
        ``all_wrong``, ``answered`` (questions with at least one row), ``repeats`` (correct
        samples left out as equal to an earlier one) and ``kept`` (rows).
    """
    k = samples_per_question
    rows, stats = [], Counter(questions=len(qs), samples=k * len(qs))
    for q, answers in zip(qs, sample_answers(qs, generate, k, max_new_tokens)):
        got, n_correct = question_rows(q, answers)
        rows += got
        stats["correct_samples"] += n_correct
        stats["all_right"] += n_correct == k
        stats["all_wrong"] += n_correct == 0
        stats["answered"] += bool(got)
        stats["repeats"] += n_correct - len(got)
    stats["kept"] = len(rows)
    keys = ("questions", "samples", "correct_samples", "all_right", "all_wrong", "answered", "repeats", "kept")
    return rows, {key: int(stats[key]) for key in keys}
