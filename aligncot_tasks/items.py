"""Dataset rows (in each hub dataset's own schema) -> one canonical :class:`Item`.

Each benchmark publishes its rows in a different shape; everything downstream (prompts,
scoring, demonstrations) only sees an :class:`Item`. One adapter per schema, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aligncot_tasks.prompts import OPTION_LETTERS

# Item is defined in aligncot_tasks.types (which imports nothing) and re-exported here.
from aligncot_tasks.types import Doc
from aligncot_tasks.types import Item as Item


def _labelled_choices(doc: Doc, question_key: str) -> Item:
    # CSQA and OBQA store options as {"label": [...], "text": [...]}; relabel by position
    # so the prompt's letters are always A, B, C... even if a row's labels were odd.
    labels = list(doc["choices"]["label"])
    texts = tuple(doc["choices"]["text"])
    gold = OPTION_LETTERS[labels.index(doc["answerKey"].strip())]
    return Item(question=doc[question_key].strip(), gold=gold, options=texts)


def csqa_item(doc: Doc) -> Item:
    """tau/commonsense_qa row -> Item."""
    return _labelled_choices(doc, "question")


def obqa_item(doc: Doc) -> Item:
    """allenai/openbookqa (main) row -> Item."""
    return _labelled_choices(doc, "question_stem")


def piqa_item(doc: Doc) -> Item:
    """baber/piqa row -> Item (``label`` is 0 or 1)."""
    return Item(
        question=doc["goal"].strip(), gold=OPTION_LETTERS[int(doc["label"])], options=(doc["sol1"], doc["sol2"])
    )


def siqa_item(doc: Doc) -> Item:
    """lighteval/siqa row -> Item (``label`` is "1", "2" or "3")."""
    question = f"{doc['context'].strip()} {doc['question'].strip()}"
    options = (doc["answerA"], doc["answerB"], doc["answerC"])
    return Item(question=question, gold=OPTION_LETTERS[int(doc["label"]) - 1], options=options)


def mmlu_item(doc: Doc) -> Item:
    """cais/mmlu row -> Item (``answer`` is an index)."""
    return Item(
        question=doc["question"].strip(), gold=OPTION_LETTERS[int(doc["answer"])], options=tuple(doc["choices"])
    )


#: GSM8K's reference solutions end in ``#### <number>``.
GSM8K_GOLD_RE = re.compile(r"####\s*(.+?)\s*$")


def gsm8k_item(doc: Doc) -> Item:
    """openai/gsm8k row -> Item (gold is the number after ``####``)."""
    match = GSM8K_GOLD_RE.search(doc["answer"])
    gold = match.group(1).replace(",", "") if match else doc["answer"].strip()
    return Item(question=doc["question"].strip(), gold=gold)


def multiarith_item(doc: Doc) -> Item:
    """ChilleD/MultiArith row -> Item."""
    return Item(question=doc["question"].strip(), gold=str(doc["final_ans"]).strip())


def math_item(doc: Doc) -> Item:
    """EleutherAI/hendrycks_math row -> Item (gold is the solution's last boxed answer)."""
    # Imported here: the LaTeX helpers live with the scorer, the one place that parses answers.
    from aligncot_tasks.scoring.latex import reference_answer

    return Item(question=doc["problem"].strip(), gold=reference_answer(doc["solution"]))


def bbh_item(doc: Doc) -> Item:
    """SaylorTwift/bbh row -> Item (options, when present, stay inside ``input``)."""
    return Item(question=doc["input"].strip(), gold=doc["target"].strip())


ADAPTERS: dict[str, Callable[[Doc], Item]] = {
    "csqa": csqa_item,
    "obqa": obqa_item,
    "piqa": piqa_item,
    "siqa": siqa_item,
    "mmlu": mmlu_item,
    "gsm8k": gsm8k_item,
    "multiarith": multiarith_item,
    "math": math_item,
    "bbh": bbh_item,
}
