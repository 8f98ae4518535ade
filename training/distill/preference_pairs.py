"""Self-refine preference pairs: the student's CoT answer preferred to its plain answer.

For every demonstration question the SFT student answers twice, with the suite's zero-shot
prompt and with its CoT prompt (``suite.render_prompt`` of the zs and cot task of the same
row). A pair (Ranaldi & Freitas 2024, Self-refine Instruction-tuning) is

- ``prompt``: the zero-shot prompt (ends in ``Answer:``);
- ``chosen``: the CoT answer *including the trigger*, i.e. the text that follows the
  zero-shot prompt inside the CoT prompt (`` Let's think step by step.``) and then the
  student's CoT generation;
- ``rejected``: the student's zero-shot generation.

Why the trigger is in ``chosen``: ``prompt + chosen`` is then byte for byte what lm-eval
evaluates for the CoT task (its prompt followed by the model's generation), and under the
zero-shot task the model learns to open its answer with the reasoning trigger itself --
the point of self-refinement. The trigger text is never written here: it is the
difference between the two rendered prompts.

With ``keep_correct_only`` (the default) a pair is kept only when the suite's scorer marks
the chosen CoT answer correct. Pairs whose two answers are identical carry no preference
and are always dropped.

With the recipe's ``chat_template`` the prompts are rendered by the student's chat template
(training/distill/chat_format.py): the chat CoT prompt (the assistant turn opened with the
trigger) extends the chat zero-shot prompt (the assistant turn opened) in the same way, so
``prompt + chosen`` is what lm-eval's ``--apply_chat_template`` evaluates for the CoT task.
The other pair kind, correct vs incorrect sampled CoT answers, is in
training/distill/pairs_sampled.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aligncot_tasks import suite
from training.distill.train_data import decode_doc
from training.errors import UserError

PAIR_COLUMNS = ("prompt", "chosen", "rejected")
#: ``render(task, doc) -> prompt``: ``suite.render_prompt``, or the chat-templated prompt.
Render = Callable[[str, dict], str]


@dataclass(frozen=True)
class Question:
    """One demonstration question, as the zs and cot tasks of the same row, rendered by ``render``."""

    zs_task: str
    cot_task: str
    doc: dict
    render: Render = field(default=suite.render_prompt, compare=False, repr=False)

    @property
    def zs_prompt(self) -> str:
        return self.render(self.zs_task, self.doc)

    @property
    def cot_prompt(self) -> str:
        return self.render(self.cot_task, self.doc)

    def budget(self, variant: str) -> int:
        """lm-eval's ``max_gen_toks`` for this question's benchmark and variant."""
        return suite.get_task(self.zs_task).benchmark.max_gen_toks[variant]


def question(task: str, doc: dict, render: Render = suite.render_prompt) -> Question:
    """The question of a demonstration of ``task`` (any variant of a generative task).

    >>> question("aligncot_gsm8k_cot", {"question": "q", "answer": "#### 1"}).zs_task
    'aligncot_gsm8k_zs'
    """
    try:
        spec = suite.generative_task(task)
    except (suite.UnknownTask, suite.NotGenerative) as e:
        raise UserError(f"demonstration task: {e}") from None
    key, config = spec.benchmark.key, spec.config
    return Question(suite.task_name(key, "zs", config), suite.task_name(key, "cot", config), doc, render)


def questions(rows, render: Render = suite.render_prompt) -> list[Question]:
    """Distinct questions of demonstration rows (a row may appear once per variant or teacher sample)."""
    seen, out = set(), []
    for row in rows:
        q = question(row["task"], decode_doc(row["doc"]), render)
        key = (q.zs_task, json.dumps(q.doc, sort_keys=True))
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


def cot_continuation(q: Question, generation: str) -> str:
    """What follows the zero-shot prompt in a CoT answer: the trigger, then the generation.

    >>> q = question("aligncot_gsm8k_zs", {"question": "q", "answer": "#### 1"})
    >>> q.zs_prompt + cot_continuation(q, " 1+0=1. The answer is 1.") == q.cot_prompt + " 1+0=1. The answer is 1."
    True
    """
    zs, cot = q.zs_prompt, q.cot_prompt
    if not cot.startswith(zs):  # a suite invariant: the CoT prompt extends the zero-shot one
        raise AssertionError(f"{q.cot_task} prompt does not extend the {q.zs_task} prompt")
    return cot[len(zs) :] + generation


def make_pair(q: Question, zs_generation: str, cot_generation: str) -> dict:
    """A preference pair plus what was judged (kept in the saved dataset for inspection)."""
    chosen_score = suite.score(q.cot_task, q.doc, cot_generation)
    rejected_score = suite.score(q.zs_task, q.doc, zs_generation)
    return {
        "prompt": q.zs_prompt,
        "chosen": cot_continuation(q, cot_generation),
        "rejected": zs_generation,
        "task": q.zs_task,
        "doc": json.dumps(q.doc, ensure_ascii=False),
        "chosen_correct": chosen_score.correct,
        "rejected_correct": rejected_score.correct,
    }


def keep(pair: dict, keep_correct_only: bool) -> bool:
    """Whether a pair is trained on.

    >>> keep({"chosen": " a", "rejected": " a", "chosen_correct": True}, False)
    False
    >>> keep({"chosen": " a", "rejected": " b", "chosen_correct": False}, True)
    False
    """
    if pair["chosen"].strip() == pair["rejected"].strip():
        return False
    return pair["chosen_correct"] or not keep_correct_only


Generate = Callable[[Sequence[str], Sequence[int], str], list[str]]


def build_pairs(
    qs: Sequence[Question], generate: Generate, keep_correct_only: bool, max_new_tokens: int | None = None
) -> tuple[list[dict], dict]:
    """Ask the student every question twice and build the kept pairs.

    Args:
        qs: Questions.
        generate: ``generate(prompts, budgets, desc) -> generations`` (one per prompt).
        keep_correct_only: Keep only pairs whose chosen answer is correct.
        max_new_tokens: Overrides the per-benchmark generation budgets.

    Returns:
        The kept pairs and counts: ``questions``, ``kept``, ``chosen_correct``,
        ``rejected_correct``, ``identical``.
    """

    def budgets(variant: str) -> list[int]:
        return [max_new_tokens or q.budget(variant) for q in qs]

    zs = generate([q.zs_prompt for q in qs], budgets("zs"), "student zero-shot answers")
    cot = generate([q.cot_prompt for q in qs], budgets("cot"), "student CoT answers")
    pairs = [make_pair(q, z, c) for q, z, c in zip(qs, zs, cot)]
    kept = [p for p in pairs if keep(p, keep_correct_only)]
    stats = {
        "questions": len(pairs),
        "kept": len(kept),
        "chosen_correct": sum(p["chosen_correct"] for p in pairs),
        "rejected_correct": sum(p["rejected_correct"] for p in pairs),
        "identical": sum(p["chosen"].strip() == p["rejected"].strip() for p in pairs),
    }
    return kept, stats
