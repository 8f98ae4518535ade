"""Self-refine preference pairs: a correct CoT answer preferred to an incorrect one, both sampled.

Pang et al. 2024 (Iterative Reasoning Preference Optimization): the current policy samples
``samples_per_question`` CoT answers to each question with the suite's CoT prompt
(``Question.cot_prompt``: plain, or chat-templated as lm-eval's ``--apply_chat_template``
sends it); the suite's scorer judges each; a pair is

- ``prompt``: the CoT prompt (it ends with the reasoning trigger);
- ``chosen``: an answer the scorer marks correct;
- ``rejected``: an answer to the same prompt it marks incorrect;
- ``question_correct``: how many of the question's sampled answers were correct, so a round can
  train on the questions the student answers right more than once only
  (``min_correct_samples``, training/distill/pair_selection.py).

``prompt + chosen`` is then byte for byte what lm-eval evaluates for the CoT task, so DPO moves
exactly the behaviour the CoT evaluation measures. A question whose answers are all right or
all wrong gives no pair (and is counted). At most ``max_pairs_per_question`` pairs are kept per
question, chosen by a seeded generator so that a rerun keeps the same pairs, and spreading
over distinct answers before reusing one (each answer text counted once).
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from collections.abc import Sequence

from aligncot_tasks import suite
from training.distill.preference_pairs import Generate, Question


def select_pairs(
    correct: Sequence[str], incorrect: Sequence[str], max_pairs: int, rng: random.Random
) -> list[tuple[str, str]]:
    """At most ``max_pairs`` (correct, incorrect) pairs, each answer reused as rarely as possible.

    The candidates are visited in a seeded random order; each step takes the first one whose
    answers have been used least so far.

    >>> pairs = select_pairs(["a", "b"], ["x", "y", "z"], 3, random.Random(0))
    >>> len(pairs), len({c for c, _ in pairs}), len({r for _, r in pairs})
    (3, 2, 3)
    >>> select_pairs(["a"], [], 2, random.Random(0))
    []
    """
    candidates = list(itertools.product(correct, incorrect))
    rng.shuffle(candidates)
    used: Counter = Counter()
    out: list[tuple[str, str]] = []
    while candidates and len(out) < max_pairs:
        best = min(candidates, key=lambda c: used[("c", c[0])] + used[("r", c[1])])
        candidates.remove(best)
        used.update([("c", best[0]), ("r", best[1])])
        out.append(best)
    return out


def distinct(texts: Sequence[str]) -> list[str]:
    """Texts in first-seen order, answers equal up to surrounding whitespace counted once.

    >>> distinct([" a", "a ", "b"])
    [' a', 'b']
    """
    seen, out = set(), []
    for text in texts:
        if text.strip() not in seen:
            seen.add(text.strip())
            out.append(text)
    return out


def question_pairs(q: Question, answers: Sequence[str], max_pairs: int, rng: random.Random) -> tuple[list[dict], int]:
    """The pairs of one question from its sampled answers, and how many answers were correct."""
    verdicts = [suite.score(q.cot_task, q.doc, a).correct for a in answers]
    n_correct = sum(verdicts)
    correct = distinct([a for a, ok in zip(answers, verdicts) if ok])
    incorrect = distinct([a for a, ok in zip(answers, verdicts) if not ok])
    doc = json.dumps(q.doc, ensure_ascii=False)
    pairs = [
        {
            "prompt": q.cot_prompt,
            "chosen": chosen,
            "rejected": rejected,
            "task": q.cot_task,
            "doc": doc,
            "chosen_correct": True,
            "rejected_correct": False,
            "question_correct": n_correct,
        }
        for chosen, rejected in select_pairs(correct, incorrect, max_pairs, rng)
    ]
    return pairs, n_correct


def sample_answers(
    qs: Sequence[Question], generate: Generate, samples_per_question: int, max_new_tokens: int | None = None
) -> list[list[str]]:
    """``samples_per_question`` sampled CoT answers to each question (the suite's CoT prompt and budget).

    Each prompt appears ``samples_per_question`` times in a row in one ``generate`` call, so every
    occurrence is one sample and the batches stay full.
    """
    k = samples_per_question
    prompts = [q.cot_prompt for q in qs for _ in range(k)]
    budgets = [max_new_tokens or q.budget("cot") for q in qs for _ in range(k)]
    answers = generate(prompts, budgets, f"student CoT samples ({k} per question)")
    return [answers[i * k : (i + 1) * k] for i in range(len(qs))]


def build_sampled_pairs(
    qs: Sequence[Question],
    generate: Generate,
    samples_per_question: int,
    max_pairs_per_question: int,
    seed: int,
    max_new_tokens: int | None = None,
) -> tuple[list[dict], dict]:
    """Sample CoT answers to every question, judge them, and build correct-vs-incorrect pairs.

    Args:
        qs: Questions.
        generate: ``generate(prompts, budgets, desc) -> generations``, sampling: each prompt
            appears ``samples_per_question`` times in a row and each occurrence is one sample.
        samples_per_question: Answers sampled per question.
        max_pairs_per_question: Pairs kept per question at most.
        seed: Seeds the choice of pairs.
        max_new_tokens: Overrides the per-benchmark generation budgets.

    Returns:
        The pairs and counts: ``questions``, ``samples``, ``correct_samples``, ``all_right``,
        ``all_wrong``, ``paired`` (questions with at least one pair) and ``kept`` (pairs).
    """
    k = samples_per_question
    answers = sample_answers(qs, generate, k, max_new_tokens)
    rng = random.Random(seed)
    pairs, stats = [], Counter(questions=len(qs), samples=k * len(qs))
    for q, got_answers in zip(qs, answers):
        got, n_correct = question_pairs(q, got_answers, max_pairs_per_question, rng)
        pairs += got
        stats["correct_samples"] += n_correct
        stats["all_right"] += n_correct == k
        stats["all_wrong"] += n_correct == 0
        stats["paired"] += bool(got)
    stats["kept"] = len(pairs)
    keys = ("questions", "samples", "correct_samples", "all_right", "all_wrong", "paired", "kept")
    return pairs, {key: int(stats[key]) for key in keys}
