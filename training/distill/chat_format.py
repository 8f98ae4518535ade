"""Training prompts as lm-eval renders them under ``--apply_chat_template``.

``aligncot demos`` writes plain-text prompts (what lm-eval evaluates without a chat
template). A student evaluated with its chat template should be trained on the same text:
the suite's chat messages (:func:`aligncot_tasks.suite.chat_messages`: the user turn, then
for CoT the assistant turn opened with the trigger) rendered by the student's own
tokenizer exactly as lm-eval's HF model does (``continue_final_message`` when the last turn
is the open assistant turn, else ``add_generation_prompt``). The completion is unchanged;
trl appends the tokenizer's EOS, which for chat models is the end-of-turn token.
"""

from __future__ import annotations

from aligncot_tasks import suite
from training.distill.train_data import decode_doc


def chat_prompt(tokenizer, task: str, doc: dict) -> str:
    """The chat-templated prompt lm-eval sends for ``doc`` of ``task``."""
    messages = suite.chat_messages(task, doc)
    open_turn = messages[-1]["role"] == "assistant"
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=not open_turn, continue_final_message=open_turn
    )


def with_chat_prompts(ds, tokenizer):
    """``ds`` (a ``DatasetDict`` of demonstrations with ``task`` and ``doc``) with chat-templated prompts."""

    def render(row: dict) -> dict:
        return {"prompt": chat_prompt(tokenizer, row["task"], decode_doc(row["doc"]))}

    return ds.map(render, desc="chat template")
