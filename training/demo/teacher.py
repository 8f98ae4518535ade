"""Tiny teacher and student for the offline demo: built on the spot, never a result.

A randomly initialised tiny model never states an answer, so annotation would keep nothing.
The demo's teacher is therefore a tiny model fine-tuned for a few seconds to answer the
training questions it will be asked with the suite's canonical answer sentence -- enough
for annotation, filtering, SFT, self-refine and evaluation to see real, parseable text.
The student is an untouched tiny model with the same tokenizer.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import load_rows

#: Full fine-tuning of the whole tiny model: a high rate, as the point is to memorise.
LEARNING_RATE = 3e-3
BATCH_SIZE = 8


def teaching_pairs(tasks: Iterable[str], limit: int | None) -> list[tuple[str, str]]:
    """(prompt, completion) for the zs and cot prompt of each training question of ``tasks``.

    The completion is what lm-eval would read back as the gold answer: one space and
    the canonical answer sentence.
    """
    pairs = []
    for task in tasks:
        spec = suite.get_task(task)
        b = spec.benchmark
        assert b.train_split is not None  # the demo's tasks all have one
        for doc in load_rows(b.hub_id, spec.dataset_config, b.train_split)[:limit]:
            for variant in suite.VARIANTS:
                sibling = suite.get_task(suite.task_name(b.key, variant, spec.config))
                pairs.append((suite.render_prompt(sibling, doc), " " + suite.answer_sentence(sibling, doc)))
    return pairs


def corpus(pairs: list[tuple[str, str]], tasks: Iterable[str]) -> list[str]:
    """Texts the tiny tokenizer is trained on: the pairs plus every evaluation row's prompt."""
    texts = [p + c for p, c in pairs]
    for task in tasks:
        spec = suite.get_task(task)
        b = spec.benchmark
        texts += [suite.render_prompt(spec, doc) for doc in load_rows(b.hub_id, spec.dataset_config, b.eval_split)]
    return texts


def teach(model_dir: Path, pairs: list[tuple[str, str]], steps: int, seed: int = 0) -> None:
    """Fine-tune the model in ``model_dir`` in place on ``pairs`` (loss on completions only)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    examples = []
    for prompt, completion in pairs:
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        c = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        examples.append((p + c, [-100] * len(p) + c))
    opt = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for _ in range(steps):
        batch = rng.sample(examples, min(BATCH_SIZE, len(examples)))
        width = max(len(ids) for ids, _ in batch)
        ids = torch.tensor([i + [tok.pad_token_id] * (width - len(i)) for i, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in batch])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.save_pretrained(model_dir)


def build_demo_models(
    out_dir: str | Path, train_tasks: list[str], eval_tasks: list[str], limit: int | None, steps: int
) -> tuple[Path, Path]:
    """Build ``out_dir/teacher`` (taught the training questions) and ``out_dir/student`` (untouched).

    Returns:
        (teacher directory, student directory).
    """
    from training.demo.tiny import make_tiny_model

    out = Path(out_dir)
    pairs = teaching_pairs(train_tasks, limit)
    texts = corpus(pairs, eval_tasks)
    student = make_tiny_model(out / "student", texts, seed=1)
    teacher = make_tiny_model(out / "teacher", texts, seed=0)
    teach(teacher, pairs, steps)
    return teacher, student
