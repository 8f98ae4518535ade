"""Multiple-choice answer extraction (aligncot_tasks.scoring.choice) on real and adversarial text."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aligncot_tasks import suite
from aligncot_tasks.data import local_split_path, read_jsonl
from aligncot_tasks.items import Item
from aligncot_tasks.prompts import OPTION_LETTERS
from aligncot_tasks.scoring import choice, score
from aligncot_tasks.suite import BBH_SUBTASKS
from tests.conftest import FIXTURES

#: code-davinci-002 outputs on BBH's multiple-choice subtasks (CoT and direct, right and
#: wrong, and every CoT that does not end in "So the answer is (X).") with the BBH authors'
#: verdicts: copied from ../shared/generations/bbh_code-davinci-002.jsonl.
REAL = read_jsonl(FIXTURES / "generations" / "mc_real.jsonl")

#: A CSQA-like item: options include an article and a two-word text.
ITEM = Item("What do plants need to grow?", "C", ("lamp", "dark", "sunlight", "rain", "the moon"))


def bbh_verdict(generation: str, doc: dict, variant: str) -> bool:
    """BBH's rule: the extracted "(X)" equals the target; options are read from the input."""
    options = choice.inline_options(doc["input"])
    letter = choice.choose(generation, OPTION_LETTERS[: len(options)], options, variant)
    return letter is not None and f"({letter})" == doc["target"]


def test_real_fixture_covers_both_variants_and_verdicts():
    assert {(r["variant"], r["reference_correct"]) for r in REAL} == {
        (v, c) for v in ("zs", "cot") for c in (True, False)
    }


@pytest.mark.parametrize("row", REAL, ids=[f"{r['subtask']}-{r['variant']}-{i}" for i, r in enumerate(REAL)])
def test_real_outputs_agree_with_reference(row):
    assert bbh_verdict(row["generation"], row["doc"], row["variant"]) == row["reference_correct"]


PHRASINGS = [
    # (generation, variant, expected letter)
    ("The answer is (C).", "cot", "C"),
    ("The answer is (C).", "zs", "C"),
    ("Answer: C", "zs", "C"),
    ("Answer: C", "cot", "C"),
    ("C) sunlight", "zs", "C"),
    ("C) sunlight because plants need light.", "zs", "C"),
    (" C", "zs", "C"),
    ("(C)", "zs", "C"),
    ("**C**", "zs", "C"),
    ("Plants photosynthesise.\n\n**Answer: C**", "cot", "C"),
    ("the correct option is c", "cot", "C"),
    ("the answer is sunlight", "cot", "C"),
    ("sunlight", "zs", "C"),
    ("Sunlight.", "cot", "C"),
    ("the answer is the moon", "cot", "E"),
    ("It is definitely sunlight, since plants need it.", "zs", "C"),
    ("sunlight is the answer", "zs", "C"),
    ("Plants need light. Therefore, among A through E, the answer is C.", "cot", "C"),
    ("Therefore, among A through E, the answer is (E) the moon.", "cot", "E"),
    ("Plants need light. So the answer is (C) sunlight.", "cot", "C"),
    ("The answer is A. Wait, actually the answer is C.", "cot", "C"),
    ("The answer is (A) or (B). I'll go with (C).", "cot", "C"),
    ("I would choose C.", "cot", "C"),
    ("The answer to this question is C.", "cot", "C"),
    ("Sure! The correct answer is **C) sunlight**.", "zs", "C"),
    ("(C) is the correct answer.", "cot", "C"),
    ("Option A is wrong because lamps are artificial. Option C is correct.", "cot", "C"),
    ("Hence, option C is the most appropriate choice.", "cot", "C"),
    ("C is the answer.", "cot", "C"),
    ("\\boxed{C}", "cot", "C"),
    ("Final Answer: The final answer is $\\boxed{\\text{C}}$", "cot", "C"),
    ("The correct answer is: [C]", "cot", "C"),
    ("The best answer is option (c): sunlight.", "cot", "C"),
    ("ANSWER: c", "cot", "C"),
    ("So the answer is C .", "cot", "C"),
    ("The answer is 'C'.", "cot", "C"),
    ("（Ｃ）", "zs", "C"),
    ("A) lamp\nB) dark\nC) sunlight\nThe answer is C.", "zs", "C"),
    ("Plants need light.\n(C) sunlight", "cot", "C"),
    ("The answer is: C\n\nQuestion: What is 2+2?\nAnswer: B", "cot", "C"),
    ("So the answer is (C).\n\nQ: next question\nA: So the answer is (A).", "cot", "C"),
    ("The answer is C) sunlight, because plants use sunlight, not A) lamp.", "cot", "C"),
    ("The answer is (C), and (A) is wrong.", "cot", "C"),
    ("The answer is not (A) lamp, but (C) sunlight.", "cot", "C"),
    ("The answer must be C.", "cot", "C"),
    ("Answer: C (sunlight)", "zs", "C"),
    ("Sure! Here's my answer:\n\nC) sunlight\n\nPlants need sunlight to grow.", "zs", "C"),
    ("Option A (lamp) is incorrect because it is artificial. Option C (sunlight) is correct.", "cot", "C"),
    ("Plants need light.\n\n### Answer\nC", "cot", "C"),
    ("Plants need light. So, C) sunlight.", "cot", "C"),
    ("Ⓒ", "zs", "C"),
    ("Answer is C", "cot", "C"),
    ("The correct answer C", "cot", "C"),
    ("c is the answer", "cot", "C"),
    ("(c) is the answer", "zs", "C"),
    ("C is right.", "cot", "C"),
    ("Therefore, among A through E, the answer is most likely C, sunlight.", "cot", "C"),
    ("Therefore, among A through E, the answer is E, the moon.", "cot", "E"),
    ("C: sunlight", "zs", "C"),
    ("A: Let's think. Plants need light. So the answer is C.", "zs", "C"),
    ("A is incorrect, C is correct.", "zs", "C"),
    ("C is correct because plants need light.", "zs", "C"),
    ("Rain helps, but the better option is sunlight.", "cot", "C"),
    ("So the best one is (C).", "cot", "C"),
    ("A lamp", "zs", "A"),
    ("A because lamps glow", "zs", "A"),
    ("E. the moon", "zs", "E"),
    ("Answer: what plants need is (C) sunlight", "cot", "C"),  # the cue's sentence names one option
    ("Plants need light. Therefore, they need (C).", "cot", "C"),  # a concluding sentence
    ("So the answer is the the moon.", "cot", "E"),  # a doubled article
    ("Plants need light.\nc", "cot", "C"),
    # uncommitted, invalid or absent: never credited
    ("probably (A), (B), or (D)", "zs", None),
    ("probably (A), (B), or (D)", "cot", None),
    ("The answer is either (A) or (C).", "cot", None),
    ("Plants need light. So the a", "cot", None),  # cut off mid-word: "a" is no letter
    ("Plants need light. Therefore, they need (C), since", "cot", None),  # cut off mid-sentence
    ("Therefore, among A through E, the answer is (A) or (D).", "cot", None),
    ("Therefore, among A through E, the answer is most likely C, sunlight, but it could also be A, lamp.", "cot", None),
    (
        "Therefore, among A through E, the answer is (A) lamp, (B) dark, (C) sunlight, (D) rain, (E) the moon.",
        "cot",
        None,
    ),
    ("The answer is A, B and C.", "cot", None),
    ("The answer is sunlight or rain.", "cot", None),
    ("Both (A) and (C) are correct.", "cot", None),
    ("I'm not sure. It's either A or C.", "cot", None),
    ("The answer is not A.", "cot", None),
    ("I first thought the answer is (C). The answer is none of the above.", "cot", None),
    ("The answer is (C)? No, the answer is unclear from the options.", "cot", None),
    ("The answer is (F).", "cot", None),
    ("The answer is (F).", "zs", None),
    ("A lamp gives light.", "zs", None),
    ("A: Let's think step by step.", "zs", None),
    ("(B) sunlight is the correct answer", "cot", None),  # letter and text disagree
    ("The first option is (A) lamp, the second option is (B) dark.", "cot", None),
    ("The sunlight option is dark.", "cot", None),  # describes an option, chooses none
    ("The answer is B.C.", "cot", None),
    ("", "zs", None),
    ("\x00\x01", "cot", None),
]


@pytest.mark.parametrize(("generation", "variant", "expected"), PHRASINGS)
def test_phrasings(generation, variant, expected):
    assert choice.extract(generation, ITEM, variant) == expected


@pytest.mark.parametrize(
    ("generation", "options", "expected"),
    [
        ("dark", ("dark room", "dark alley"), None),  # a prefix of several options
        ("dark", ("dark", "dark room"), "A"),  # ... but exactly one of them
        ("dark room because it is night", ("dark", "dark room"), "B"),
        ("healthy", ("healthy", "cure", "healthy"), None),  # duplicated option text
        ("Bb Bb", ("BB BB", "BB Bb", "Bb Bb"), "C"),  # told apart by exact characters only
        ("The answer is 6''", ("6'", "6", "6''"), "C"),
        ("**", ("**", "//", "is", "not in"), "A"),  # the option text is Markdown-like
        ("-1", ("1", "-1"), "B"),
        ("c", ("Error", "a", "b", "c"), "C"),  # a lone letter is a letter
        ("The answer is b", ("Error", "a", "b", "c"), "B"),
    ],
)
def test_option_text_is_never_ambiguous(generation, options, expected):
    assert choice.choose(generation, OPTION_LETTERS[: len(options)], options, "zs") == expected


@pytest.mark.parametrize("n", [2, 3, 4, 5, 11, 18])
@pytest.mark.parametrize("variant", ["zs", "cot"])
def test_answer_sentence_round_trips(n, variant):
    for gold in OPTION_LETTERS[:n]:
        it = Item("q", gold, tuple(f"option {i}" for i in range(n)))
        assert choice.extract(choice.answer_sentence(it), it, variant) == gold


def test_inline_options():
    assert choice.inline_options(REAL[0]["doc"]["input"]) == (
        "02/06/2010",
        "12/21/2009",
        "02/16/1933",
        "02/16/2010",
        "11/30/2009",
        "05/24/2010",
    )


@settings(max_examples=300, deadline=None)
@given(
    generation=st.text(),
    options=st.lists(st.text(max_size=30), min_size=1, max_size=6),
    variant=st.sampled_from(["zs", "cot"]),
)
def test_never_raises_and_returns_a_valid_letter(generation, options, variant):
    letters = OPTION_LETTERS[: len(options)]
    assert choice.choose(generation, letters, options, variant) in (None, *letters)


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(max_size=200))
def test_final_gold_sentence_after_any_reasoning(prefix):
    """A final "The answer is (C)." after any reasoning is the CoT's commitment."""
    assume(not choice.NEW_QUESTION_RE.search(prefix))  # a new question: the rest is not an answer
    assert choice.extract(prefix + "\n\n" + choice.answer_sentence(ITEM), ITEM, "cot") == "C"


ADVERSARIAL = {
    "letters": "A) " * 100_000,
    "cues": "the answer is " * 30_000,
    "cue then spaces": ("answer" + " " * 1000) * 300,
    "listed letters": "the answer is (A) or " * 20_000,
    "newlines": "\n" * 300_000,
    "brackets": "(" * 300_000,
    "verdicts": "A is correct. " * 30_000,
    "boxes": "\\boxed{" * 50_000,
    "control and surrogates": "ß\u0301\ud800\x00\x1b" * 60_000,
    "hedges": "the answer is " + "probably " * 30_000 + "B",
}


# Not a speed test (~0.2 s each here): a hang guard. Catastrophic regex backtracking on
# these would take minutes to hours, and pytest-timeout fails the test instead of stalling CI.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_strings_never_raise_or_hang(name):
    for variant in ("zs", "cot"):
        result = score("choice", ADVERSARIAL[name], ITEM, variant)
        assert result.extracted in (None, *ITEM.letters)


MC_BENCHMARKS = [key for key, b in suite.BENCHMARKS.items() if b.multiple_choice]


def test_gold_letter_and_gold_text_score_correct_on_every_row(shared_dir):
    """On every eval row: "The answer is <gold>." and the gold option's text score correct.

    Two kinds of rows are exempt because no reading of the gold text can tell the options
    apart: another option repeats it verbatim (scores invalid), or it is a lone letter that
    names another option (MMLU's "c" as option D: it reads as letter C, as every model means it).
    """
    counts: Counter = Counter()
    for key in MC_BENCHMARKS:
        b = suite.BENCHMARKS[key]
        for config in b.configs:
            rows = read_jsonl(local_split_path(shared_dir / "data", b.hub_id, config or b.config_name, b.eval_split))
            for variant in suite.VARIANTS:
                task = suite.get_task(suite.task_name(key, variant, config))
                for doc in rows:
                    it = suite.item(task, doc)
                    text = it.options[it.gold_index]
                    squashed = [" ".join(o.split()) for o in it.options]
                    duplicated = squashed.count(" ".join(text.split())) > 1
                    letter_like = text.strip().upper() in it.letters.replace(it.gold, "")
                    assert suite.score(task, doc, f"The answer is {it.gold}.").correct, (task.name, doc)
                    got = suite.score(task, doc, text)
                    assert got.correct != (duplicated or letter_like), (task.name, text, it.options, got)
                    assert duplicated <= (got.extracted is None)
                    counts[key, variant] += 1
                    counts[key, variant, "duplicated"] += duplicated
                    counts[key, variant, "letter-like"] += letter_like
    assert counts["csqa", "zs"] == 1221 and counts["mmlu", "cot"] == 14042
    print({k: v for k, v in counts.items() if len(k) == 3 and v})  # shown with -s: the exempt rows


def test_agreement_with_bbh_reference_verdicts(shared_dir):
    """Letter extraction vs the BBH authors' verdicts on every multiple-choice output."""
    rows = read_jsonl(shared_dir / "generations" / "bbh_code-davinci-002.jsonl")
    mc = [r for r in rows if BBH_SUBTASKS[r["subtask"]] == "bbh_choice"]
    agree = sum(bbh_verdict(r["generation"], r["doc"], r["variant"]) == r["reference_correct"] for r in mc)
    print(f"agreement {agree}/{len(mc)}")
    assert len(mc) == 4000 and agree / len(mc) >= 0.995
