"""BBH scoring: real code-davinci-002 outputs against the BBH authors' verdicts, gold answer
sentences on every row, and the phrasings each answer type must read.

``tests/fixtures/generations/bbh_real.jsonl`` holds 67 rows of
``../shared/generations/bbh_code-davinci-002.jsonl``: for every subtask, variant and verdict
one row drawn with ``random.Random(0)``, plus the hard cases found there (a truncated
rationale, ``So the answer is empty.``, ``135,210``, ``So, the answer is (H)``, an answer
outside the options, hallucinated word lists, empty outputs).
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from aligncot_tasks import suite
from aligncot_tasks.data import read_jsonl

FIXTURES = Path(__file__).parent / "fixtures"
REAL = read_jsonl(FIXTURES / "generations" / "bbh_real.jsonl")
#: Agreement with the BBH authors' verdicts required overall and per subtask.
MIN_AGREEMENT = 0.995


def _score(row: dict) -> suite.scoring.Score:
    return suite.score(suite.task_name("bbh", row["variant"], row["subtask"]), row["doc"], row["generation"])


@pytest.mark.parametrize("row", REAL, ids=[f"{r['subtask']}-{r['variant']}-{i}" for i, r in enumerate(REAL)])
def test_real_output_matches_reference_verdict(row):
    assert _score(row).correct == row["reference_correct"]


def test_agreement_with_bbh_authors(shared_dir):
    rows = read_jsonl(shared_dir / "generations" / "bbh_code-davinci-002.jsonl")
    agree, total = collections.Counter(), collections.Counter()
    for row in rows:
        total[row["subtask"]] += 1
        agree[row["subtask"]] += _score(row).correct == row["reference_correct"]
    table = "\n".join(f"{s:42s} {agree[s]:4d}/{total[s]:4d} {agree[s] / total[s]:.4f}" for s in sorted(total))
    overall = sum(agree.values()) / len(rows)
    # Captured like any other output: `pytest -s` shows the table, the normal run stays quiet.
    print(f"\n{table}\n{'overall':42s} {sum(agree.values()):4d}/{len(rows):4d} {overall:.4f}")
    assert len(rows) == 7000
    assert overall >= MIN_AGREEMENT
    assert all(agree[s] / total[s] >= MIN_AGREEMENT for s in total), table


def _gold_failures(data_dir: Path) -> list[tuple[str, str, str]]:
    failures = []
    for subtask in suite.BBH_SUBTASKS:
        for doc in read_jsonl(data_dir / "SaylorTwift__bbh" / subtask / "test.jsonl"):
            for variant in suite.VARIANTS:
                task = suite.task_name("bbh", variant, subtask)
                sentence = suite.answer_sentence(task, doc)
                assert sentence == f"So the answer is {doc['target'].strip()}."
                for generation in (sentence, doc["target"]) if variant == "zs" else (sentence,):
                    if not suite.score(task, doc, generation).correct:
                        failures.append((task, doc["target"], generation))
    return failures


def test_gold_sentence_scores_correct_on_every_row(shared_dir):
    assert _gold_failures(shared_dir / "data") == []


def test_gold_sentence_scores_correct_on_fixture_rows(offline_data):
    assert _gold_failures(offline_data) == []


MC_INPUT = "Which shape?\nOptions:\n(A) circle\n(B) kite\n(C) line\n(D) sector"
#: (answer type's subtask, input, target, variant, generation, expected extraction)
CASES = [
    # option letters, by letter in many phrasings and by text
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "Four sides. The answer is (B).", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "Four sides.\n\n**Answer:** B", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "Therefore, the correct option is [B].", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "So the answer is option B) kite.", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "So the answer is a Kite.", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "Answer: the shape drawn is (B) kite", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "It might be (A). No: so the answer is (D).", "(D)"),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "(A) is a circle, (B) is a kite, and so on", None),
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "So the answer is (E).", None),
    ("geometric_shapes", MC_INPUT, "(B)", "zs", "(B) kite", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "zs", "kite", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "zs", "It is a kite, i.e. (B).", "(B)"),
    ("geometric_shapes", MC_INPUT, "(B)", "zs", "A kite.", "(B)"),
    # text that several options share names none of them
    ("ruin_names", "Edit?\nOptions:\n(A) rita\n(B) sue\n(C) rita", "(B)", "cot", "So the answer is rita.", None),
    # True/False, Yes/No, valid/invalid
    ("boolean_expressions", "not True", "False", "cot", "not True = False. So the answer is **False**.", "false"),
    ("boolean_expressions", "not True", "False", "zs", "false", "false"),
    ("boolean_expressions", "not True", "False", "cot", "= not not False = not", None),
    ("web_of_lies", "Does Ka tell the truth?", "Yes", "cot", "Ka tells the truth. So the answer is yes.", "yes"),
    ("web_of_lies", "Does Ka tell the truth?", "Yes", "zs", "No, Ka lies.", "no"),
    ("causal_judgement", "Did X cause Y?", "No", "cot", "Therefore, the answer is: No", "no"),
    ("sports_understanding", "Is it plausible?", "no", "cot", "So the answer is No.", "no"),
    ("formal_fallacies", "Is the argument valid?", "invalid", "cot", "So the answer is invalid.", "invalid"),
    ("formal_fallacies", "Is the argument valid?", "invalid", "cot", "So the answer is not valid.", "invalid"),
    ("formal_fallacies", "Is the argument valid?", "valid", "zs", "valid", "valid"),
    ("formal_fallacies", "Is the argument valid?", "valid", "zs", "The argument is deductively valid.", "valid"),
    # integers
    ("multistep_arithmetic_two", "((1 - 2) * 3) =", "-3", "cot", "So the answer is -3.", "-3"),
    ("multistep_arithmetic_two", "((1 - 2) * 3) =", "-3", "cot", "The answer is minus three.", "-3"),
    ("multistep_arithmetic_two", "((1 - 2) * 3) =", "-3", "cot", "So the answer is (-1) * 3 = -3.", "-3"),
    ("multistep_arithmetic_two", "((1 - 2) * 3) =", "-3", "zs", "-3", "-3"),
    ("multistep_arithmetic_two", "((1 - 2) * 3) =", "-3", "zs", "(1 - 2) * 3 = -3", "-3"),
    ("object_counting", "How many objects?", "7", "cot", "So the answer is seven.", "7"),
    ("object_counting", "How many objects?", "21", "cot", "Answer: twenty-one", "21"),
    ("object_counting", "How many objects?", "7", "zs", "7 objects", "7"),
    ("object_counting", "How many objects?", "7", "cot", "1 + 2 + 4 = 7. The answer is 7.0", "7"),
    ("object_counting", "How many objects?", "7", "cot", "1 + 2 + 4 =", None),
    # word lists
    (
        "word_sorting",
        "Sort: List: pear apple fig",
        "apple fig pear",
        "cot",
        "So the answer is apple fig pear.",
        "apple fig pear",
    ),
    (
        "word_sorting",
        "Sort: List: pear apple fig",
        "apple fig pear",
        "cot",
        'The answer is: "apple", "fig", "pear".',
        "apple fig pear",
    ),
    (
        "word_sorting",
        "Sort: List: pear apple fig",
        "apple fig pear",
        "cot",
        "Answer:\n1. apple\n2. fig\n3. pear",
        "apple fig pear",
    ),
    ("word_sorting", "Sort: List: pear apple fig", "apple fig pear", "zs", "apple, fig and pear", "apple fig pear"),
    ("word_sorting", "Sort: List: pear apple fig", "apple fig pear", "zs", "Sorted: apple fig pear", "apple fig pear"),
    ("word_sorting", "Sort: List: pear apple fig", "apple fig pear", "zs", "fig apple pear", "fig apple pear"),
    ("word_sorting", "Sort: List: pear apple fig", "apple fig pear", "cot", '"apple" < "fig" < ["pear"', None),
    # closing bracket sequences
    ("dyck_languages", "Complete. Input: < [ [", "] ] >", "cot", "So the answer is ] ] >.", "] ] >"),
    ("dyck_languages", "Complete. Input: < [ [", "] ] >", "cot", 'So the answer is "]", "]", ">".', "] ] >"),
    ("dyck_languages", "Complete. Input: < [ [", "] ] >", "zs", "]]>", "] ] >"),
    ("dyck_languages", "Complete. Input: < [ [", "] ] >", "cot", "So the answer is empty.", None),
    ("dyck_languages", "Complete. Input: < [ [", "] ] >", "cot", "35: ] ; stack: < [", None),
]


@pytest.mark.parametrize(("subtask", "question", "target", "variant", "generation", "expected"), CASES)
def test_answer_type_phrasings(subtask, question, target, variant, generation, expected):
    task = suite.task_name("bbh", variant, subtask)
    doc = {"input": question, "target": target}
    result = suite.score(task, doc, generation)
    assert result.extracted == expected
    assert result.correct == (
        expected is not None and suite.score(task, doc, suite.answer_sentence(task, doc)).extracted == expected
    )


def test_fixture_is_a_copy_of_shared(shared_dir):
    shared = {
        json.dumps([r["doc"], r["variant"], r["generation"]])
        for r in read_jsonl(shared_dir / "generations" / "bbh_code-davinci-002.jsonl")
    }
    assert all(json.dumps([r["doc"], r["variant"], r["generation"]]) in shared for r in REAL)


#: Commitments without an answer cue: boxed answers, concluding sentences, bullets.
UNCUED = [
    ("geometric_shapes", MC_INPUT, "(B)", "cot", "Four equal sides in pairs.\n\\boxed{B}", "(B)"),
    ("object_counting", "How many objects?", "7", "cot", "We count them: $\\boxed{7}$", "7"),
    ("object_counting", "How many objects?", "7", "cot", "First \\boxed{3}, then 4 more. So the answer is 7.", "7"),
    (
        "tracking_shuffled_objects_three_objects",
        MC_INPUT,
        "(B)",
        "cot",
        "Swaps... Therefore, Alice ends with (B) kite.",
        "(B)",
    ),
    (
        "formal_fallacies",
        "Is the argument valid?",
        "valid",
        "cot",
        "Premise 1 ... Thus, the argument is deductively valid.",
        "valid",
    ),
    (
        "formal_fallacies",
        "Is the argument valid?",
        "valid",
        "cot",
        "Premise 1 ... Thus, the argument is deductively valid, since",
        None,
    ),
    ("navigate", "Options:\n- Yes\n- No", "No", "zs", "- No", "no"),
]


@pytest.mark.parametrize(("subtask", "question", "target", "variant", "generation", "expected"), UNCUED)
def test_uncued_commitments(subtask, question, target, variant, generation, expected):
    assert (
        suite.score(
            suite.task_name("bbh", variant, subtask), {"input": question, "target": target}, generation
        ).extracted
        == expected
    )


#: Other ways to state the committed answer of a chain of thought ({} is the answer).
COT_COMMITMENTS = [
    "Therefore, the answer is {}.",
    "The final answer is {}",
    "Answer: {}",
    "**Answer:** {}",
    "So the correct answer is: {}.",
    "The answer is \\boxed{{{}}}.",
]
#: Other ways to give a zero-shot answer.
ZS_ANSWERS = ["{}\n\nExplanation: as shown above.", "The answer is {}.", "Answer: {}", "**{}**", " {}."]
CUE = "So the answer is"


def _restated(row: dict) -> list[str]:
    """The row's generation with its answer restated in every other phrasing."""
    generation = row["generation"]
    if row["variant"] == "zs":
        answer = generation.strip()
        return [z.format(answer) for z in ZS_ANSWERS] if answer else []
    at = generation.rfind(CUE)
    if at < 0:
        return []
    answer = generation[at + len(CUE) :].strip().removesuffix(".")
    # a brace inside \boxed{} would end the box: no model can box "} >"
    phrasings = [c for c in COT_COMMITMENTS if "boxed" not in c or not set("{}") & set(answer)]
    return [generation[:at] + c.format(answer) for c in phrasings]


@pytest.mark.parametrize("row", REAL, ids=[f"{r['subtask']}-{r['variant']}-{i}" for i, r in enumerate(REAL)])
def test_verdict_survives_restating_the_answer(row):
    task = suite.task_name("bbh", row["variant"], row["subtask"])
    for generation in _restated(row):
        assert suite.score(task, row["doc"], generation).correct == row["reference_correct"], generation[-120:]


@pytest.mark.parametrize("row", [r for r in REAL if suite.BBH_SUBTASKS[r["subtask"]] == "bbh_choice"])
def test_verdict_survives_naming_the_option_by_its_text(row):
    from aligncot_tasks.scoring.bbh.choice import options

    task = suite.task_name("bbh", row["variant"], row["subtask"])
    texts = options(suite.item(task, row["doc"]))
    start = row["generation"].rfind(CUE) if row["variant"] == "cot" else 0
    head, tail = row["generation"][:start], row["generation"][start:]
    for letter, text in texts.items():
        if f"({letter})" in tail and list(texts.values()).count(text) == 1:
            for named in (text, f"the {text}", f"({letter}) {text}"):
                restated = head + tail.replace(f"({letter})", named, 1)
                assert suite.score(task, row["doc"], restated).correct == row["reference_correct"], restated[-120:]
            return


def test_aligncot_score_reproduces_reference_verdicts(tmp_path):
    from click.testing import CliRunner

    from training.cli import main

    by_task: dict[str, list[dict]] = collections.defaultdict(list)
    for row in REAL:
        by_task[suite.task_name("bbh", row["variant"], row["subtask"])].append(row)
    for task, rows in by_task.items():
        src, dst = tmp_path / f"{task}.jsonl", tmp_path / f"{task}.scored.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        result = CliRunner().invoke(main, ["score", "--task", task, "--input", str(src), "--output", str(dst)])
        assert result.exit_code == 0, result.output
        assert [r["correct"] for r in read_jsonl(dst)] == [r["reference_correct"] for r in rows]
