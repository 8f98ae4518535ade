"""MATH answers: extraction, equivalence table, gold self-consistency, time bound, robustness."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligncot_tasks import suite
from aligncot_tasks.items import Item
from aligncot_tasks.scoring import latex, symbolic
from tests.conftest import FIXTURE_DATA

#: Wall-clock budget of one item: the per-item bound of the issue.
ITEM_BUDGET_S = 2.0

EQUIVALENCE = [
    # (gold, prediction, equivalent)
    (r"\frac{1}{2}", "0.5", True),
    (r"\frac12", "1/2", True),
    (r"\dfrac{1}{2}", r"\tfrac{1}{2}", True),
    (r"\frac{\sqrt{2}}{2}", r"\sqrt{2}/2", True),
    (r"\frac{\sqrt2}{2}", r"\frac{1}{\sqrt{2}}", True),
    (r"2\sqrt{3}", r"\sqrt{12}", True),
    (r"\sqrt 5", r"\sqrt{5}", True),
    (r"\frac 54", "1.25", True),
    (r"\frac9{5}", "9/5", True),
    (r"-\frac{3}{4}", "-0.75", True),
    (r"-\frac{1}{2}", r"\frac{-1}{2}", True),
    ("3", r"\frac{-6}{-2}", True),
    ("12", "12.0", True),
    ("1000", "1,000", True),
    (r"1,\!000", "1000", True),
    (r"\$18.90", "18.90", True),
    ("18.90", r"\$18.9", True),
    (r"10\%", "10", True),
    (r"108^\circ", "108", True),
    (r"30^\circ", r"30^{\circ}", True),
    (r"5\text{ cm}", "5", True),
    (r"135\text{ square feet}", "135", True),
    (r"\text{(C)}", "C", True),
    (r"\text{(C)}", "(C)", True),
    (r"\text{Sunday}", "Sunday", True),
    (r"\text{4:30 p.m.}", "4:30 p.m.", True),
    ("5", "x=5", True),
    ("y = -2x", "y=-2x", True),
    (r"(3, -5)", r"\left( 3, -5 \right)", True),
    (r"(-\infty,4)", r"(-\infty, 4)", True),
    (r"[2,5)", r"x \in [2, 5)", True),
    (r"(-\infty,-7) \cup (1,2)", r"(-\infty, -7)\cup(1, 2)", True),
    ("3i,-3i", "-3i, 3i", True),
    ("1,2", r"\{1, 2\}", True),
    ("x=1, x=2", "1, 2", True),
    ("x^2+6x-4", "x^2 + 6x - 4", True),
    (r"x^{2}+1", "x^2+1", True),
    (r"\frac{x+2}{7}", r"\frac{1}{7}x+\frac{2}{7}", True),
    ("-8 + 2i", "2i-8", True),
    (r"\frac{9\pi}{2}", r"4.5\pi", True),
    (r"\frac{\pi}{2}", r"\pi/2", True),
    (r"\sqrt{2}", "2^{1/2}", True),
    ("2^{10}", "1024", True),
    ("6", "3!", True),
    ("1011_2", "1011_{2}", True),
    (r"\begin{pmatrix} -6 \\ 9 \end{pmatrix}", r"\begin{pmatrix}-6\\9\end{pmatrix}", True),
    (r"\frac{3}{4}", "-0.75", False),
    (r"\frac{1}{3}", "0.33", False),
    ("12", "120", False),
    (r"(-\infty,4)", r"(-\infty,4]", False),
    (r"[3,\infty)", r"(3,\infty)", False),
    ("(1,2)", "(2,1)", False),
    ("1, 2", "1, 3", False),
    (r"(-\infty,-7) \cup (1,2)", r"(-\infty, -7)\cup(1, 3)", False),
    ("x^2+6x-4", "x^2 + 6x + 4", False),
    ("-8+2i", "8-2i", False),
    (r"\begin{pmatrix} -6 \\ 9 \end{pmatrix}", r"\begin{pmatrix} 6 \\ 9 \end{pmatrix}", False),
    (r"\pi", "3.14", False),
    ("e", "2.718", False),
    (r"10^{100}", r"10^{99}", False),
    (r"\text{(C)}", "D", False),
    (r"\text{Sunday}", "Monday", False),
    (r"\text{even}", r"\text{odd}", False),
    ("0.5", r"50\%", False),
    ("0", "", False),
]


@pytest.mark.parametrize(("gold", "pred", "equivalent"), EQUIVALENCE)
def test_equivalence_table(gold, pred, equivalent):
    assert latex.is_correct(pred, Item("q", gold)) is equivalent


EXTRACTION = [
    # (generation, variant, expected)
    (r"So $x = \boxed{\frac{1}{2}}$.", "cot", r"\frac{1}{2}"),
    (
        r"First $\boxed{3}$, corrected: $\boxed{\left(1, \frac{\sqrt{3}}{2}\right)}$",
        "cot",
        r"\left(1, \frac{\sqrt{3}}{2}\right)",
    ),
    (r"The area is \fbox{$12\pi$}.", "cot", r"$12\pi$"),
    (r"So \boxed{5}. Thus the answer is 5 apples.", "cot", "5"),
    (r"Unclosed \boxed{7 but the answer is $8$.", "cot", "8"),
    ("Final Answer: The final answer is $(1, 2)$. I hope it is correct.", "cot", "(1, 2)"),
    ("The answer is 3.5.", "cot", "3.5"),
    ("**Answer:** 5", "cot", "5"),
    ("The answer is **12**.", "cot", "12"),
    (r"The answer is \(\frac{3}{4}\)", "cot", r"\frac{3}{4}"),
    ("The answer is therefore $10$ ways.", "cot", "10"),
    (r"The answer is $\$18.90$.", "cot", r"\$18.90"),
    ("The answer is 4.\n\nQuestion: What is 2+3? The answer is 5.", "cot", "4"),
    ("We get x = 5 after simplifying.", "cot", None),
    (" $\\frac{1}{3}$\n\nExplanation: ...", "zs", r"\frac{1}{3}"),
    (" 12. Because 3 * 4 = 12.", "zs", "12"),
    (" The answer is 7. Or maybe the answer is 8.", "zs", "7"),
    ("", "zs", None),
]


@pytest.mark.parametrize(("generation", "variant", "expected"), EXTRACTION)
def test_extracts_the_final_answer(generation, variant, expected):
    assert latex.extract(generation, Item("q", "0"), variant) == expected


def _math_rows(root):
    return [
        (p.parent.name, json.loads(line))
        for p in sorted((root / "EleutherAI__hendrycks_math").glob("*/test.jsonl"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]


def _self_consistency_failures(rows) -> list[tuple]:
    failures = []
    for config, doc in rows:
        for variant in ("zs", "cot"):
            task = suite.task_name("math", variant, config)
            for generation in (doc["solution"], suite.answer_sentence(task, doc)):
                s = suite.score(task, doc, generation)
                if not s.correct:
                    failures.append((task, suite.item(task, doc).gold, s.extracted))
    return failures


def test_gold_self_consistency_on_fixture_rows():
    rows = _math_rows(FIXTURE_DATA)
    assert {c for c, _ in rows} == set(suite.MATH_TYPES)
    assert _self_consistency_failures(rows) == []


def test_gold_self_consistency_on_every_math_test_row(shared_dir):
    """Scoring each reference solution (and the gold answer sentence) as the generation."""
    rows = _math_rows(shared_dir / "data")
    failures = _self_consistency_failures(rows)
    n = 4 * len(rows)
    print(f"MATH gold self-consistency: {n - len(failures)}/{n}; failures: {failures}")
    assert len(rows) == 5000
    assert (n - len(failures)) / n >= 0.999, failures


@pytest.mark.parametrize(
    ("gold", "pred"),
    [("1", "9^{9^{9^{9}}}"), ("1", "(x+1)^{10000}-x")],
)
def test_a_checker_that_hangs_is_killed_within_the_item_budget(gold, pred):
    symbolic.warm_up()
    kills = symbolic._CHECKER.kills
    start = time.perf_counter()
    assert latex.is_correct(pred, Item("q", gold)) is False
    assert time.perf_counter() - start < ITEM_BUDGET_S
    assert symbolic._CHECKER.kills == kills + 1
    # the replacement worker checks the next item as usual
    assert latex.is_correct(r"\frac{\sqrt{2}}{2}", Item("q", r"\sqrt2/2"))


def test_checker_works_off_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor

    pairs = [(g, p, e) for g, p, e in EQUIVALENCE[:12]] + [("1", "9^{9^{9^{9}}}", False)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: latex.is_correct(t[1], Item("q", t[0])), pairs))
    assert got == [e for _, _, e in pairs]


#: Pieces of LaTeX that parsers and simplifiers find hard: deep nesting, towers of powers,
#: factorials, unbalanced groups, environments, stray dollars and boxes.
LATEX_PIECES = [
    r"\frac{",
    "}{",
    "}",
    "{",
    r"\sqrt[",
    "]",
    r"\sqrt{",
    "^{",
    "_{",
    "^",
    "!",
    "9",
    "10",
    "x",
    "y",
    r"\pi",
    r"\infty",
    r"\left(",
    r"\right)",
    "(",
    ")",
    "[",
    ",",
    "=",
    r"\cup",
    r"\in",
    r"\boxed{",
    r"\fbox{",
    "$",
    r"\$",
    r"\text{",
    r"\begin{pmatrix}",
    r"\end{pmatrix}",
    r"\\",
    "&",
    r"\dfrac",
    r"\cdot",
    r"\times",
    r"\sin",
    r"\log",
    "The answer is ",
    ". ",
    "\n",
    r"\%",
    r"^\circ",
    "-",
    "+",
    "/",
    ".",
    "0.5",
    "i",
]
latex_text = st.lists(st.sampled_from(LATEX_PIECES), max_size=60).map("".join)


def _timed_score(generation: str, gold: str, variant: str) -> float:
    symbolic.warm_up()  # a worker replaced after a kill finishes importing first (not the item's time)
    start = time.perf_counter()
    extracted = latex.extract(generation, Item("q", gold), variant)
    if extracted is not None:
        assert isinstance(latex.is_correct(extracted, Item("q", gold)), bool)
    return time.perf_counter() - start


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(latex_text, latex_text, st.sampled_from(["zs", "cot"]))
def test_adversarial_latex_never_raises_nor_overruns(generation, gold, variant):
    assert _timed_score(generation, gold or "1", variant) < ITEM_BUDGET_S


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.sampled_from(["zs", "cot"]))
def test_arbitrary_text_never_raises_nor_overruns(generation, variant):
    assert _timed_score(generation, r"\frac{1}{2}", variant) < ITEM_BUDGET_S


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(latex_text.filter(bool), st.integers(1_000, 20_000), st.sampled_from(["zs", "cot"]))
def test_huge_generations_never_raise_nor_overrun(piece, repeat, variant):
    assert _timed_score(piece * repeat, "5", variant) < ITEM_BUDGET_S
