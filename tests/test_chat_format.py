"""Chat-templated training prompts are byte for byte what lm-eval's HF model evaluates."""

from __future__ import annotations

import pytest
from train_support import csqa_rows

from training.distill.chat_format import chat_prompt


@pytest.fixture(scope="module")
def hflm(tiny_model_dir):
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=str(tiny_model_dir), device="cpu", dtype="float32")


@pytest.mark.parametrize("task_name", ["aligncot_csqa_cot", "aligncot_csqa_zs"])
def test_chat_prompt_is_lm_evals_chat_context(task_manager, hflm, offline_data, task_name):
    task = task_manager.load([task_name])["tasks"][task_name]
    for doc in csqa_rows(3):
        expected = task.fewshot_context(
            doc, 0, apply_chat_template=True, chat_template=hflm.apply_chat_template, gen_prefix=task.doc_to_prefix(doc)
        )
        assert chat_prompt(hflm.tokenizer, task_name, doc) == expected
