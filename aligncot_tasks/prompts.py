"""The one place where prompt text is written.

Every prompt the project sends anywhere -- to a teacher during annotation, to a student
during training, to any model inside lm-eval -- is rendered by these functions. The CoT
variant of a prompt is the zero-shot prompt followed by :data:`COT_TRIGGER`, which lm-eval
receives as ``gen_prefix`` so that under ``--apply_chat_template`` it opens the assistant's
turn, and without a chat template the plain text reads ``Answer: Let's think step by step.``
"""

from __future__ import annotations

from collections.abc import Sequence

#: Zero-shot CoT trigger (Kojima et al. 2022), the same wording everywhere in the project.
COT_TRIGGER = "Let's think step by step."

#: Letters used to label options, in order.
OPTION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

#: How the multiple-choice instruction opens (a model that writes it has started a new question).
MC_INSTRUCTION_HEAD = "Choose the answer to the question"
#: First line of the multiple-choice QA prompt (Ranaldi & Freitas 2024).
MC_INSTRUCTION = MC_INSTRUCTION_HEAD + " only from options {letters}."

#: Label of the question line in every prompt.
QUESTION_LABEL = "Question:"
#: Template of the open-ended prompt (math word problems, MATH, BBH).
OPEN_TEMPLATE = QUESTION_LABEL + " {question}\nAnswer:"

#: Stop sequences (lm-eval's ``until``, the teacher's and the student's stops): they fire only
#: when a model starts a new question in the prompt's own format, never inside a rationale,
#: so CoT is never cut short (lm-eval adds the tokenizer's EOS itself).
STOP_SEQUENCES = ("\n" + QUESTION_LABEL, "\n" + MC_INSTRUCTION_HEAD)

#: Separator lm-eval puts between the prompt and ``gen_prefix`` (its ``target_delimiter``).
PREFIX_DELIMITER = " "


def format_letters(letters: Sequence[str]) -> str:
    """Render option letters the way the instruction names them.

    >>> format_letters("AB")
    'A, B'
    >>> format_letters("ABCDE")
    'A, B, C, D, E'
    """
    return ", ".join(letters)


def multiple_choice_prompt(question: str, options: Sequence[str]) -> str:
    """Render the papers' zero-shot multiple-choice QA prompt.

    Args:
        question: The question text.
        options: Option texts in order; they are labelled A, B, C, ...

    Returns:
        The prompt, ending in ``Answer:`` with no trailing space.

    >>> print(multiple_choice_prompt("2+2?", ["3", "4"]))
    Choose the answer to the question only from options A, B.
    Question: 2+2?
    Choices:
    A) 3
    B) 4
    Answer:
    """
    letters = OPTION_LETTERS[: len(options)]
    lines = [MC_INSTRUCTION.format(letters=format_letters(letters)), f"{QUESTION_LABEL} {question}", "Choices:"]
    lines += [f"{letter}) {text}" for letter, text in zip(letters, options)]
    lines.append("Answer:")
    return "\n".join(lines)


def open_prompt(question: str) -> str:
    """Render the open-ended prompt.

    >>> open_prompt("What is 2+2?")
    'Question: What is 2+2?\\nAnswer:'
    """
    return OPEN_TEMPLATE.format(question=question)


def question_prompt(question: str, options: Sequence[str] = ()) -> str:
    """The zero-shot prompt of any item: multiple choice when it has options, else open.

    >>> question_prompt("q") == open_prompt("q")
    True
    """
    return multiple_choice_prompt(question, options) if options else open_prompt(question)


def with_trigger(prompt: str) -> str:
    """Plain-text CoT prompt: the zero-shot prompt followed by the trigger.

    This is byte for byte what lm-eval renders for a task with ``gen_prefix`` set to the
    trigger and no chat template.

    >>> with_trigger("Question: q\\nAnswer:")
    "Question: q\\nAnswer: Let's think step by step."
    """
    return prompt + PREFIX_DELIMITER + COT_TRIGGER
