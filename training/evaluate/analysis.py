"""What a samples file's answers are made of: the numbers a results page interprets.

An accuracy alone does not say whether a student learned to choose or only to answer one
letter. Over one lm-eval ``--log_samples`` file this counts, per question:

- the predicted letters (the suite's scorer's extraction, as the samples file logs it)
  against the gold letters, with ``none`` for no answer;
- the invalid and truncated shares, as the task logged them;
- the answer length (mean and max, in words, or in tokens of a given tokenizer);
- for multiple-choice answers, what the final answer sentence states
  (:func:`aligncot_tasks.scoring.choice.stated`): whether its option text is the gold
  option's, and whether it is the option of the letter the same sentence names -- a
  student may reason to the right option and still write another letter.

The file is read by :mod:`training.evaluate.samples`; the command is
:mod:`training.evaluate.analysis_cli` (``aligncot analyze``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.scoring import choice
from training.errors import ResultsError
from training.evaluate.samples import Sample, read_samples, task_of

#: How the letter counts name a question without an extracted answer.
NONE = "none"


@dataclass(frozen=True)
class Analysis:
    """The numbers of one samples file.

    Attributes:
        path: The samples file.
        task: Its task.
        n: Questions.
        correct: Questions the scorer marked correct.
        invalid: Questions without an extracted answer (the task's ``invalid`` flag).
        truncated: Questions cut off at the token cap (None: the task does not log it).
        predictions: Letter -> questions answered with it, plus ``none`` (multiple choice only).
        gold: Letter -> questions whose gold answer it is (multiple choice only).
        length_mean: Mean answer length (first generation of each question).
        length_max: Longest answer.
        length_unit: ``words`` or ``tokens``.
        stated_gold: Final answer sentences whose option text is the gold option's.
        stated_letter: Final answer sentences that name a letter.
        stated_own: Of those, sentences whose option text is that letter's own option.
    """

    path: str
    task: str
    n: int
    correct: int
    invalid: int
    truncated: int | None
    predictions: dict[str, int] | None
    gold: dict[str, int] | None
    length_mean: float
    length_max: int
    length_unit: str
    stated_gold: int | None
    stated_letter: int | None
    stated_own: int | None

    def as_dict(self) -> dict:
        """The analysis as plain JSON-ready data."""
        return asdict(self)


def letter_counts(letters: Iterable[str | None], order: str) -> dict[str, int]:
    """Counts per option letter in ``order`` (zeros kept), then ``none`` for no answer.

    >>> letter_counts(["B", None, "B", "A"], "ABC")
    {'A': 1, 'B': 2, 'C': 0, 'none': 1}
    """
    counts = Counter(NONE if x is None else x for x in letters)
    extra = sorted(k for k in counts if k not in order and k != NONE)  # a letter beyond the first item's
    return {k: counts[k] for k in (*order, *extra)} | {NONE: counts[NONE]}


def word_count(text: str) -> int:
    """Length of an answer in white-space separated words.

    >>> word_count(" The answer is (B) lamp. ")
    5
    """
    return len(text.split())


def prediction(s: Sample, letters: str) -> str | None:
    """The option letter the scorer read for a question, None when it read none.

    A maj@k question logs its k votes; its letter is then the first generation's, as scored
    by the suite (the one scorer).
    """
    if len(s.generations) > 1:
        return suite.score(s.task, s.doc, s.generations[0]).extracted
    return s.extracted if s.extracted in tuple(letters) else None


def format_counts(counts: dict[str, int]) -> str:
    """``A 49 · B 69 · none 3``.

    >>> format_counts({"A": 49, "B": 69, "none": 3})
    'A 49 · B 69 · none 3'
    """
    return " · ".join(f"{k} {v}" for k, v in counts.items())


def analyze(
    samples: list[Sample], path: str = "", length: Callable[[str], int] = word_count, unit: str = "words"
) -> Analysis:
    """The :class:`Analysis` of one file's questions.

    Args:
        samples: The file's questions (:func:`training.evaluate.samples.read_samples`).
        path: The file, as reported.
        length: Answer length of a text (default: :func:`word_count`).
        unit: What ``length`` counts.

    Raises:
        ResultsError: No questions.
    """
    if not samples:
        raise ResultsError(f"{path}: no questions")
    task = samples[0].task
    spec = suite.all_tasks().get(task)
    items = [suite.item(spec, s.doc) if spec is not None else None for s in samples]
    lengths = [length(s.generations[0]) if s.generations else 0 for s in samples]
    truncated = [s.truncated for s in samples]
    # Letters and answer sentences need options and generated text (not a loglikelihood task's scores).
    mc = all(it is not None and it.options and s.generations for s, it in zip(samples, items))
    predictions = gold = stated_gold = stated_letter = stated_own = None
    if mc:
        known = [it for it in items if it is not None]  # every one, when mc
        order = max((it.letters for it in known), key=len)
        predictions = letter_counts((prediction(s, it.letters) for s, it in zip(samples, known)), order)
        gold = {k: v for k, v in letter_counts((it.gold for it in known), order).items() if k != NONE}
        states = [choice.stated(s.generations[0], it.letters, it.options) for s, it in zip(samples, known)]
        stated_gold = sum(it.gold in texts for it, (_, texts) in zip(known, states))
        stated_letter = sum(letter is not None for letter, _ in states)
        stated_own = sum(letter is not None and letter in texts for letter, texts in states)
    return Analysis(
        path=path,
        task=task,
        n=len(samples),
        correct=sum(s.correct for s in samples),
        invalid=sum(bool(s.invalid) if s.invalid is not None else s.extracted is None for s in samples),
        truncated=None if None in truncated else sum(map(bool, truncated)),
        predictions=predictions,
        gold=gold,
        length_mean=sum(lengths) / len(lengths),
        length_max=max(lengths),
        length_unit=unit,
        stated_gold=stated_gold,
        stated_letter=stated_letter,
        stated_own=stated_own,
    )


def analyze_file(path: Path, length: Callable[[str], int] = word_count, unit: str = "words") -> Analysis:
    """Read one samples file (its task from its name) and analyze it.

    Raises:
        ResultsError: The file is not an lm-eval samples file.
    """
    return analyze(read_samples(path, task_of(path)), str(path), length, unit)


def share(k: int, n: int) -> str:
    """``k/n (pct%)``.

    >>> share(3, 300)
    '3/300 (1.0%)'
    """
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else f"{k}/{n}"


def report(a: Analysis) -> str:
    """The analysis as a few aligned lines of text."""
    lines = [
        f"{a.path}  ({a.task}, {a.n} questions)",
        f"  correct                       {share(a.correct, a.n)}",
        f"  invalid                       {share(a.invalid, a.n)}",
        f"  truncated                     {'not logged' if a.truncated is None else share(a.truncated, a.n)}",
        f"  answer length                 mean {a.length_mean:.1f}, max {a.length_max} {a.length_unit}",
    ]
    if a.predictions is not None and a.gold is not None:
        lines += [
            f"  predictions                   {format_counts(a.predictions)}",
            f"  gold                          {format_counts(a.gold)}",
            f"  stated text is gold's         {share(a.stated_gold or 0, a.n)} final answer sentences",
            f"  stated text is its letter's   {share(a.stated_own or 0, a.stated_letter or 0)} "
            "final answer sentences that name a letter",
        ]
    return "\n".join(lines)
