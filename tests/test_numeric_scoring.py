"""Numeric answers (GSM8K, MultiArith): extraction on real phrasings, exact comparison,
agreement with OpenAI's verdicts on real GPT-3 solutions, robustness."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aligncot_tasks import scoring, suite
from aligncot_tasks.items import Item
from aligncot_tasks.scoring import numeric
from tests.conftest import FIXTURES

#: 59 real GPT-3 GSM8K solutions (of the 5276 in ../shared) with OpenAI's ``is_correct``:
#: every one without a final "A:" line, every "A:" answer with a fraction or words, and
#: samples of decimal, negative, thousands-separated and plain integer answers, both verdicts.
GPT3_SAMPLE = FIXTURES / "generations" / "gsm8k_gpt3_sample.jsonl"

EXTRACTION = [
    # (generation, variant, expected)
    ("The answer is 1,234.", "cot", "1234"),
    ("So she has 6 left.\n#### 42", "cot", "42"),
    (r"The total is $\boxed{42}$.", "cot", "42"),
    ("She makes 9 * 2 = $<<9*2=18>>18 every day.\nA: 18", "cot", "18"),
    ("She makes $18.00 every day.", "cot", "18"),
    ("The answer is 18 dollars.", "cot", "18"),
    ("So 70% of the students passed. The answer is 70%.", "cot", "70%"),
    ("Therefore, the answer (arabic numerals) is 70.", "cot", "70"),
    ("The answer is 12.\n\nQuestion: Tom has 3 apples. How many? The answer is 3.", "cot", "12"),
    ("The answer is 8. I hope this helps! Let me know if 5 more questions", "cot", "8"),
    ("16 - 3 - 4 = 9 eggs are left, and 9 * 2 =", "cot", "2"),  # truncated: its last number
    ("The answer is 9 * 2 = 18 dollars a day.", "cot", "18"),
    ("Answer: -5", "cot", "-5"),
    ("The answer is .5 liters.", "cot", "0.5"),
    ("The answer is 3/4.", "cot", "0.75"),
    (r"The answer is $\frac{3}{4}$.", "cot", "0.75"),
    ("The answer is five.", "cot", "5"),
    ("The answer is twenty-five.", "cot", "25"),
    ("The answer is one of the two options.", "cot", None),
    ("The final answer is: **$1,080**", "cot", "1080"),
    ("Therefore, the answer is\n\n**18**", "cot", "18"),
    ("The answer is 15 minutes.", "cot", "15"),
    ("Each costs $0.50, so 4 cost 4 * 0.5 = 2 --> 2", "cot", "2"),
    ("He pays 2,125 - 125 = $2,000.\nA: 2,000", "cot", "2000"),
    ("The answer is 1,450,000 dollars.", "cot", "1450000"),
    ("It loses 3 degrees, so the temperature is -3. The answer is -3.", "cot", "-3"),
    ("The answer is 18.0", "cot", "18"),
    ("I don't know how to solve this.", "cot", None),
    ("", "cot", None),
    (" 18 dollars. She sells 16 - 3 - 4 = 9 eggs", "zs", "18"),
    ("5 + 3 = 8. The answer is 8.", "zs", "8"),
    (" 18\n\nExplanation: 16 - 3 - 4 = 9 and 9 * 2 = 18", "zs", "18"),
    (" The answer is 11. Then the answer is 12.", "zs", "11"),
    (" $1,234.50", "zs", "1234.5"),
    (" I cannot tell.", "zs", None),
]


@pytest.mark.parametrize(("generation", "variant", "expected"), EXTRACTION)
def test_extracts_the_committed_number(generation, variant, expected):
    assert numeric.extract(generation, Item("q", "0"), variant) == expected


@pytest.mark.parametrize(
    ("extracted", "gold", "correct"),
    [
        ("18", "18", True),
        ("18.00", "18", True),
        ("1234", "1,234", True),
        ("0.75", "3/4", True),
        ("3/4", "0.75", True),
        ("-3", "-3", True),
        ("18", "1800", False),
        ("-3", "3", False),
        ("0.33", "1/3", False),
        ("18", "18.01", False),
    ],
)
def test_compares_numbers_exactly(extracted, gold, correct):
    assert numeric.is_correct(extracted, Item("q", gold)) is correct


def _gpt3_rows(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("row", _gpt3_rows(GPT3_SAMPLE), ids=lambda r: r["generation"].strip().splitlines()[-1][:30])
def test_real_gpt3_solutions_match_openai_verdicts(row):
    assert suite.score("aligncot_gsm8k_cot", row["doc"], row["generation"]).correct is row["reference_correct"]


def test_cued_tells_salvaged_numbers_from_committed_ones():
    """GPT-3 solutions commit in a last line "A: <n>"; the ones cut off or looping before it
    (11 of the 59) get a number all the same -- the last one -- but not a cued one."""
    rows = _gpt3_rows(GPT3_SAMPLE)
    scores = [suite.score("aligncot_gsm8k_cot", r["doc"], r["generation"]) for r in rows]
    committed = [bool(re.search(r"(?m)^A: ", r["generation"])) for r in rows]
    assert all(s.extracted is not None for s in scores)
    assert [s.cued for s in scores] == committed and committed.count(False) == 11


@pytest.mark.parametrize(
    ("generation", "variant", "cued"),
    [
        ("16 - 3 = 13. So the answer is 13.", "cot", True),
        (r"So she has $\boxed{13}$.", "cot", True),
        ('{"answer": 13}', "cot", True),
        ("16 - 3 = 13 eggs, and 13 - 4 = 9 eggs, and 9 -", "cot", False),  # cut off
        (" 13 eggs.", "zs", True),  # right after the prompt's "Answer:"
        (" Let me think. She has 13 eggs.", "zs", False),
        ("I do not know.", "cot", False),
    ],
)
def test_cued_on_phrasings(generation, variant, cued):
    assert scoring.score("number", generation, Item("q", "13"), variant).cued is cued


def test_aligncot_score_agrees_with_openai_is_correct_on_all_gpt3_solutions(shared_dir, tmp_path):
    from click.testing import CliRunner

    from training.suite_cli import score

    src = shared_dir / "generations" / "gsm8k_gpt3_solutions.jsonl"
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(score, ["--task", "aligncot_gsm8k_cot", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = _gpt3_rows(out)
    disagree = [
        (r["generation"][-80:], r["extracted"], r["reference_correct"])
        for r in rows
        if r["correct"] != r["reference_correct"]
    ]
    agreement = 1 - len(disagree) / len(rows)
    print(f"agreement with is_correct: {len(rows) - len(disagree)}/{len(rows)} = {agreement:.4%}")
    assert len(rows) == 5276
    assert agreement >= 0.995, disagree[:20]


@pytest.mark.parametrize("key", ["gsm8k", "multiarith"])
def test_gold_answer_sentence_scores_correct_on_every_row(key, offline_data, shared_dir):
    from aligncot_tasks.data import load_rows

    b = suite.BENCHMARKS[key]
    for split in (b.eval_split, b.train_split):
        for doc in load_rows(b.hub_id, b.config_name, split):
            for variant in ("zs", "cot"):
                task = suite.task_name(key, variant)
                assert suite.score(task, doc, suite.answer_sentence(task, doc)).correct, doc


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(), st.sampled_from(["zs", "cot"]))
def test_any_text_scores_without_raising(text, variant):
    extracted = numeric.extract(text, Item("q", "18"), variant)
    assert extracted is None or numeric.parse_number(extracted) is not None
    if extracted is not None:
        numeric.is_correct(extracted, Item("q", "18"))


@pytest.mark.parametrize(
    "text",
    [
        "9" * 1_000_000,
        "The answer is " * 50_000,
        "1," * 300_000,
        r"\boxed{" * 100_000,
        "-" * 500_000 + "5",
    ],
    ids=["digits", "cues", "commas", "boxes", "dashes"],
)
def test_huge_generations_score_fast(text):
    # CPU time of this process, not the wall clock: a regex that backtracks burns CPU, while a
    # wall-clock bound also failed when the suite shared 2 cores with a training job.
    start = time.process_time()
    for variant in ("zs", "cot"):
        scoring.score("number", text, Item("q", "18"), variant)
    assert time.process_time() - start < 5.0
