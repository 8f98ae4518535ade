"""Answer shapes small models write (issue 11): structured answers, arithmetic expressions,
equation chains and lists, subject numbers, restatements of one value, multiple-choice
shapes and run-ons -- written cases per class, property tests, pathological input.

The cases in ``fixtures/generations/small_model_shapes.jsonl`` were written to show each
shape (none is a real row); the real rows of ``../shared`` are checked by the agreement
tests of each answer type's own test module.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligncot_tasks import suite
from aligncot_tasks.data import read_jsonl
from aligncot_tasks.items import Item
from aligncot_tasks.prompts import OPTION_LETTERS
from aligncot_tasks.scoring import _match, arithmetic, choice, numeric, score
from tests.conftest import FIXTURES

SHAPES = read_jsonl(FIXTURES / "generations" / "small_model_shapes.jsonl")


def _task(row: dict) -> str:
    return suite.task_name(row["benchmark"], row["variant"], row.get("subtask"))


def test_fixture_covers_every_class_on_every_answer_family():
    classes = Counter(row["class"] for row in SHAPES)
    for name in (
        "structured",
        "expression",
        "equation chain",
        "numbered list",
        "subject number",
        "restatement",
        "glued letter",
        "hedged",
        "letters in option",
        "several options",
        "run-on",
    ):
        assert classes[name] >= 2, name
    assert {row["benchmark"] for row in SHAPES if row["class"] == "structured"} == {"gsm8k", "csqa", "bbh", "math"}
    assert {row["variant"] for row in SHAPES} == {"zs", "cot"}
    assert {row["correct"] for row in SHAPES} == {True, False}


@pytest.mark.parametrize(
    "row", SHAPES, ids=[f"{r['class']}-{r['benchmark']}-{r['variant']}-{i}" for i, r in enumerate(SHAPES)]
)
def test_written_shapes_score_as_their_authors_mean(row):
    result = suite.score(_task(row), row["doc"], row["generation"])
    assert (result.extracted, result.correct) == (row["extracted"], row["correct"])


# ------------------------------------------------------------------ arithmetic expressions

_SPELLINGS = {"+": ["+"], "-": ["-", "−"], "*": ["*", "x", "×"], "/": ["/", "÷"]}


@st.composite
def expressions(draw, depth: int = 3) -> tuple[str, Fraction]:
    """An arithmetic expression as a model may write it, and its exact value."""
    if depth == 0 or draw(st.booleans()):
        n = draw(st.integers(0, 9999))
        cents = draw(st.sampled_from(["", ".5", ".25"]))
        return f"{n}{cents}", Fraction(f"{n}{cents}")
    left, lv = draw(expressions(depth=depth - 1))
    right, rv = draw(expressions(depth=depth - 1))
    op = draw(st.sampled_from("+-*/"))
    if op == "/" and rv == 0:
        op = "+"
    value = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else 0}[op]
    space = draw(st.sampled_from(["", " "]))
    return f"({left}{space}{draw(st.sampled_from(_SPELLINGS[op]))}{space}{right})", value


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_an_expression_answer_is_its_exact_value(case):
    text, value = case
    assert arithmetic.evaluate(text) == value
    for generation in (f"The answer is {text}.", f'{{"answer": {text}}}'):
        assert numeric.extract(generation, Item("q", "0"), "cot") == numeric.canonical(value), generation


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_the_evaluator_never_raises_and_reads_only_arithmetic(text):
    value = arithmetic.evaluate(text)
    assert value is None or isinstance(value, Fraction)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "2 * x",
        "abs(-3)",
        "(1).real",
        "[1, 2]",
        "2 ** 100000",
        "9^9^9",
        "1/0",
        "lambda: 1",
        "1 if 1 else 2",
        "'1' + '2'",
        "1 < 2",
        "2 ** 0.5",
        "1e999",
        "0b101",
        "1_000",
    ],
)
def test_the_evaluator_refuses_everything_but_small_arithmetic(text):
    assert arithmetic.evaluate(text) is None


# ------------------------------------------------------------------ chains, lists, restatements


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 999), st.sampled_from("+-x"), st.integers(1, 999)), min_size=1, max_size=6),
    st.sampled_from(["", "Answer:\n", "Answer:\n1. "]),
)
def test_an_equation_chain_states_its_last_result(steps, lead):
    lines, result = [], None
    for i, (a, op, b) in enumerate(steps):
        result = a + b if op == "+" else a - b if op == "-" else a * b
        marker = f"{i + 1}. " if lead.endswith("1. ") else ""
        lines.append(f"{marker}{a} {op} {b} = {result}")
    generation = (lead.removesuffix("1. ")) + "\n".join(lines)
    for variant in ("zs", "cot"):
        assert numeric.extract(generation, Item("q", "0"), variant) == str(result), generation


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 99), st.sampled_from([1, 2, 4, 5, 10, 20, 25]), st.booleans())
def test_equal_restatements_never_turn_a_right_answer_wrong(num, den, percent_first):
    value = Fraction(num, den)
    percent = numeric.canonical(value * 100) + "%"
    fraction = f"{num}/{den}"
    first, second = (percent, fraction) if percent_first else (fraction, percent)
    for generation in (
        f"The answer is {first}. As a fraction, {second}.",
        f"The answer is {first}, or {second}.",
        f"The answer is {first} ({second}).",
    ):
        for gold in (numeric.canonical(value), numeric.canonical(value * 100)):
            assert score("number", generation, Item("what percent?", gold)).correct, (generation, gold)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_different_restatements_commit_to_none(a, b):
    if a == b:
        return
    assert numeric.extract(f"The answer is {a}, or {b}.", Item("q", str(a))) is None


# ------------------------------------------------------------------ structured answers


@settings(max_examples=200, deadline=None)
@given(
    gold=st.integers(-(10**6), 10**6),
    noise=st.lists(st.integers(0, 10**4), max_size=5),
    key=st.sampled_from(["answer", "Answer", "ANSWER", "final_answer", "Final Answer"]),
    quoted=st.booleans(),
    fence=st.booleans(),
    variant=st.sampled_from(["zs", "cot"]),
)
def test_the_last_structured_answer_counts(gold, noise, key, quoted, fence, variant):
    reasoning = " ".join(f"{n} + 1 = {n + 1}, so the answer is {n}." for n in noise)
    obj = json.dumps({"reasoning": reasoning, key: str(gold) if quoted else gold})
    generation = f"```json\n{obj}\n```" if fence else obj
    assert numeric.extract(generation, Item("q", "0"), variant) == str(gold)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, 4),
    form=st.sampled_from(["{L}", "({L})", "{L}) {T}", "{T}", "{L}--{T}", "{L} — {T}"]),
    variant=st.sampled_from(["zs", "cot"]),
)
def test_structured_and_glued_letters_name_one_option(index, form, variant):
    item = Item("Where is a city?", OPTION_LETTERS[index], ("farm", "forest", "desert", "a major city", "ocean"))
    answer = form.format(L=item.gold, T=item.options[index])
    assert choice.extract(json.dumps({"Answer": answer}), item, variant) == item.gold
    if "{L}" in form and form != "{L}":
        assert choice.extract(f"So the answer is {answer}.", item, variant) == item.gold


def test_structured_answer_reads_the_last_answer_key():
    assert _match.structured_answer('{"answer": 1} and then {"Answer": "2"}') == "2"
    assert _match.structured_answer('{"answers": 3}') is None  # another key


# ------------------------------------------------------------------ run-ons


@pytest.mark.parametrize(
    "marker",
    [
        "\n\nQ: ",
        "\nQ: ",
        "\n### Related Questions\n",
        "\n\n**Question:** ",
        "\n\nQuestion\n",
        "\n## Similar Problems\n",
    ],
)
@pytest.mark.parametrize("answer_type", ["number", "choice", "bbh_yesno"])
def test_a_run_on_next_question_ends_the_answer(marker, answer_type):
    item = {"number": Item("q", "18"), "choice": Item("q", "B", ("x", "y", "z")), "bbh_yesno": Item("q", "Yes")}[
        answer_type
    ]
    right = {"number": "18", "choice": "(B)", "bbh_yesno": "Yes"}[answer_type]
    wrong = {"number": "5", "choice": "(C)", "bbh_yesno": "No"}[answer_type]
    generation = f"So the answer is {right}.{marker}What is next? So the answer is {wrong}."
    for variant in ("zs", "cot"):
        assert score(answer_type, generation, item, variant).correct, (marker, variant)


def test_gsm8k_answer_lines_are_no_run_on():
    assert _match.before_ramble("So 4.\n#### 4") == "So 4.\n#### 4"


# ------------------------------------------------------------------ pathological input

PATHOLOGICAL = {
    "answer keys": '{"answer": ' * 100_000,
    "open quote": '{"answer": "' + "9" * 300_000,
    "long sum": "The answer is " + "1 + " * 100_000 + "1",
    "brackets": "The answer is " + "(" * 100_000 + "1",
    "list items": "Answer:\n" + "1. 2 = 3\n" * 100_000,
    "restatements": "The answer is 25%" + ", or 25%" * 100_000,
    "copulas": "Answer: x 1 " + "is " * 100_000 + "2",
    "headings": "\n### " * 100_000,
    "dashes": "D--" * 100_000,
}


# A hang guard, not a speed test: catastrophic backtracking would take minutes.
@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", PATHOLOGICAL)
@pytest.mark.parametrize("answer_type", ["number", "choice", "math", "bbh_bool"])
def test_pathological_input_stays_bounded(name, answer_type):
    item = (
        Item("q", "B", ("x", "y"))
        if answer_type == "choice"
        else Item("q", "True" if answer_type == "bbh_bool" else "18")
    )
    start = time.perf_counter()
    for variant in ("zs", "cot"):
        score(answer_type, PATHOLOGICAL[name], item, variant)
    assert time.perf_counter() - start < 60
