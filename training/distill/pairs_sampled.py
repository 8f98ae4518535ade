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
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Judged:
    """One question's sampled answers as the suite's scorer judged them.

    Attributes:
        question: The question.
        correct: Its correct answers, each distinct answer once (:func:`distinct`).
        incorrect: Its incorrect answers, each distinct answer once.
        n_correct: How many of its samples were correct (repeats counted).
    """

    question: Question
    correct: list[str]
    incorrect: list[str]
    n_correct: int

    @property
    def doc(self) -> str:
        """The question's dataset row as JSON (the saved rows' ``doc``)."""
        return json.dumps(self.question.doc, ensure_ascii=False)


def judge(q: Question, answers: Sequence[str]) -> Judged:
    """Score each sampled answer to ``q`` with the suite's scorer.

    >>> from training.distill.preference_pairs import question
    >>> j = judge(question("aligncot_gsm8k_cot", {"question": "q", "answer": "#### 2"}), [" 2", "2 ", " 3"])
    >>> j.correct, j.incorrect, j.n_correct
    ([' 2'], [' 3'], 2)
    """
    verdicts = [suite.score(q.cot_task, q.doc, a).correct for a in answers]
    return Judged(
        q,
        distinct([a for a, ok in zip(answers, verdicts) if ok]),
        distinct([a for a, ok in zip(answers, verdicts) if not ok]),
        sum(verdicts),
    )


def sample_and_judge(
    qs: Sequence[Question], generate: Generate, samples_per_question: int, max_new_tokens: int | None = None
) -> tuple[list[Judged], Counter]:
    """Sample ``samples_per_question`` CoT answers to each question and judge them.

    Each prompt appears ``samples_per_question`` times in a row in one ``generate`` call (the
    suite's CoT prompt and budget), so every occurrence is one sample and the batches stay full.

    Returns:
        Each question judged, and the counts ``questions``, ``samples``, ``correct_samples``,
        ``all_right`` and ``all_wrong``.
    """
    k = samples_per_question
    prompts = [q.cot_prompt for q in qs for _ in range(k)]
    budgets = [max_new_tokens or q.budget("cot") for q in qs for _ in range(k)]
    answers = generate(prompts, budgets, f"student CoT samples ({k} per question)")
    judged = [judge(q, answers[i * k : (i + 1) * k]) for i, q in enumerate(qs)]
    stats = Counter(questions=len(qs), samples=len(answers))
    for j in judged:
        stats["correct_samples"] += j.n_correct
        stats["all_right"] += j.n_correct == k
        stats["all_wrong"] += j.n_correct == 0
    return judged, stats


def question_pairs(j: Judged, max_pairs: int, rng: random.Random) -> list[dict]:
    """The pairs of one judged question."""
    q = j.question
    return [
        {
            "prompt": q.cot_prompt,
            "chosen": chosen,
            "rejected": rejected,
            "task": q.cot_task,
            "doc": j.doc,
            "chosen_correct": True,
            "rejected_correct": False,
            "question_correct": j.n_correct,
        }
        for chosen, rejected in select_pairs(j.correct, j.incorrect, max_pairs, rng)
    ]


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
    judged, stats = sample_and_judge(qs, generate, samples_per_question, max_new_tokens)
    rng = random.Random(seed)
    pairs = []
    for j in judged:
        got = question_pairs(j, max_pairs_per_question, rng)
        pairs += got
        stats["paired"] += bool(got)
    stats["kept"] = len(pairs)
    keys = ("questions", "samples", "correct_samples", "all_right", "all_wrong", "paired", "kept")
    return pairs, {key: int(stats[key]) for key in keys}
