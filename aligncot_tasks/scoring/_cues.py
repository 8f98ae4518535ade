"""Where a multiple-choice generation commits: the cues before an answer and the verdicts after it.

:func:`commitments` lists every place that may hold the answer, in text order; which option
stands there is read by :mod:`aligncot_tasks.scoring.choice`. The shared answer cues are
:mod:`aligncot_tasks.scoring._match`'s; this module adds the choice cues ("I'd go with"),
the verdicts ("(B) is correct") and the walk-throughs that commit to nothing ("the second
option is (B) ...").
"""

from __future__ import annotations

import re

from aligncot_tasks.scoring import _match

#: Cues that commit to an option, besides the shared answer cues of ``_match``.
CHOICE_CUE_RE = re.compile(
    r"\bI(?:'ll|\s+will|'d|\s+would|\s+must)?\s+(?:go\s+with|choose|pick|select|opt\s+for|say)\b"
    r"|\banswer\s+(?:to|for)\s+(?:this|the)\s+question\s+is\b"
    r"|\banswer\s+(?:must|has\s+to|can\s+only|would\s+have\s+to)\s+be\b"
    r"|\b(?:correct|right|best|final)\s+(?:option|choice|letter)\s*:"
    r"|\b(?:correct|right|best|better|final)\s+(?:solution|response|statement|one)\s+(?:is|would\s+be)\b",
    re.IGNORECASE,
)
#: A verdict *after* the answer: "(B) is correct", "Option B is the best answer".
VERDICT_RE = re.compile(
    r"\b(?:is|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?"
    r"(?:(?:most\s+)?(?:correct|right|best|appropriate|likely|plausible|suitable|accurate)\s+(?:answer|option|choice)"
    r"|correct|right|answer)\b",
    re.IGNORECASE,
)
#: A shared cue naming an answer (or a judged option: "the correct option is") rather than
#: just an option ("the option is"), which may describe an option instead of choosing it.
ANSWER_WORD_RE = re.compile(r"(?i:answer|correct|best|better|right|final|likely|only|####)")
#: A shared cue after one of these words ("the second option is (B) ...") walks through
#: the options instead of committing to one.
WALKTHROUGH_WORDS = frozenset(
    [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "last",
        "next",
        "other",
        "another",
        "each",
        "every",
        "remaining",
        "previous",
    ]
)

CUE, LETTER_CUE, VERDICT = "cue", "letter cue", "verdict"  # kinds of commitment


def commitments(text: str) -> list[tuple[int, str, int]]:
    r"""Every commitment as ``(end, kind, start)`` in text order: a :data:`CUE` before its
    answer (an answer cue, a choice cue, a box's opening), a :data:`LETTER_CUE` ("the option
    is") that only a letter may follow (text after it describes an option: "the lamp option
    is dark"), a :data:`VERDICT` after its answer.

    >>> [(kind, end) for end, kind, _ in commitments("(A) is wrong; the answer is \\boxed{B}")]
    [('cue', 28), ('cue', 35)]
    >>> len(commitments("The next answer is (B).")), len(commitments("Next\n\nThe answer is (B)."))
    (0, 1)
    """
    found = []
    for m in _match.ANSWER_CUE_RE.finditer(text):
        # The word right before the cue, on its line and in its sentence: "Next\n\nThe answer
        # is (C)" and "...the previous one. The answer is (C)" commit; "the next answer is" walks.
        line = text[max(0, m.start() - 16) : m.start()].rsplit("\n", 1)[-1]
        before = line.split()[-1:]
        if before and before[0][-1] in ".!?:;":
            before = []
        if before and before[0].casefold() in WALKTHROUGH_WORDS:
            continue
        named = ANSWER_WORD_RE.search(m.group()) or (before and ANSWER_WORD_RE.fullmatch(before[0]))
        found.append((m.end(), CUE if named else LETTER_CUE, m.start()))
    found += [(m.end(), CUE, m.start()) for m in CHOICE_CUE_RE.finditer(text)]
    found += [(m.end(), CUE, m.start()) for m in _match.BOXED_OPEN_RE.finditer(text)]
    found += [(m.end(), VERDICT, m.start()) for m in VERDICT_RE.finditer(text)]
    return sorted(found)
