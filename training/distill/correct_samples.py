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

Why not the chosen side of ``correct_vs_incorrect`` pairs with ``loss_type: [sft]`` (which
trains the same way, training/distill/refine_sft.py): a pair needs an incorrect answer, so a
question answered right in every sample gives none and its correct answers are never trained
on, and an answer in two pairs counts twice. Here every correct answer counts once.
"""

from __future__ import annotations

from collections.abc import Sequence

from training.distill.pairs_sampled import Judged, sample_and_judge
from training.distill.preference_pairs import Generate, Question

#: Columns the trainer reads (trl's prompt-completion format).
ROW_COLUMNS = ("prompt", "completion")


def question_rows(j: Judged) -> list[dict]:
    """The rows of one judged question: each distinct correct answer once.

    >>> from training.distill.pairs_sampled import judge
    >>> from training.distill.preference_pairs import question
    >>> q = question("aligncot_gsm8k_cot", {"question": "q", "answer": "#### 2"})
    >>> rows = question_rows(judge(q, [" The answer is 2.", "The answer is 2. ", " 3"]))
    >>> [r["completion"] for r in rows], rows[0]["question_correct"]
    ([' The answer is 2.'], 2)
    """
    q = j.question
    return [
        {"prompt": q.cot_prompt, "completion": a, "task": q.cot_task, "doc": j.doc, "question_correct": j.n_correct}
        for a in j.correct
    ]


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
    judged, stats = sample_and_judge(qs, generate, samples_per_question, max_new_tokens)
    rows = []
    for j in judged:
        got = question_rows(j)
        rows += got
        stats["answered"] += bool(got)
        stats["repeats"] += j.n_correct - len(got)
    stats["kept"] = len(rows)
    keys = ("questions", "samples", "correct_samples", "all_right", "all_wrong", "answered", "repeats", "kept")
    return rows, {key: int(stats[key]) for key in keys}
