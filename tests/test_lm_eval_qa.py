"""The multiple-choice tasks inside lm-eval itself: loading, rendered prompts, end-to-end runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from aligncot_tasks import TASKS_DIR, suite
from tests.conftest import FIXTURE_DATA, ROOT

MC = ["csqa", "obqa", "piqa", "siqa"]


def test_every_task_and_group_is_indexed(task_manager):
    indexed = set(task_manager.all_tasks)
    missing = (set(suite.all_tasks()) | set(suite.groups())) - indexed
    assert not missing, f"not indexed by lm-eval: {sorted(missing)[:10]}"


@pytest.mark.parametrize("key", MC + ["mmlu"])
def test_lm_eval_renders_exactly_the_suite_prompt(key, task_manager, offline_data, tiny_model_dir):
    """Plain text and chat-template contexts built by lm-eval equal suite.render_prompt / chat_messages."""
    from transformers import AutoTokenizer

    config = suite.BENCHMARKS[key].configs[0]
    names = [suite.task_name(key, v, config) for v in ("zs", "cot")]
    tasks = task_manager.load(names)["tasks"]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)

    def chat_template(history, add_generation_prompt=True):
        return tok.apply_chat_template(
            history,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            continue_final_message=not add_generation_prompt,
        )

    for name in names:
        task = tasks[name]
        for doc in list(task.test_docs())[:3]:
            prefix = task.doc_to_prefix(doc)
            plain = task.fewshot_context(doc, 0, gen_prefix=prefix)
            assert plain == suite.render_prompt(name, doc)
            chat = task.fewshot_context(
                doc, 0, gen_prefix=prefix, apply_chat_template=True, chat_template=chat_template
            )
            expected = tok.apply_chat_template(
                suite.chat_messages(name, doc),
                tokenize=False,
                add_generation_prompt=prefix is None,
                continue_final_message=prefix is not None,
            )
            assert chat == expected
            if prefix:
                assert chat.endswith("<|assistant|>\nLet's think step by step.")


@pytest.mark.parametrize("key", MC)
def test_zs_cot_ll_run_end_to_end(key, evaluate_tiny):
    names = [f"aligncot_{key}_{v}" for v in ("zs", "cot", "ll")]
    out = evaluate_tiny(names, limit=2, log_samples=True)
    for name in names:
        res = out["results"][name]
        assert 0.0 <= res["acc,none"] <= 1.0 and "acc_stderr,none" in res
        if not name.endswith("_ll"):
            assert 0.0 <= res["invalid,none"] <= 1.0 and "invalid_stderr,none" in res
        samples = out["samples"][name]
        assert len(samples) == 2
    # the samples file carries exactly the suite's prompt
    first = out["samples"][f"aligncot_{key}_cot"][0]
    assert first["arguments"][0][0] == suite.render_prompt(f"aligncot_{key}_cot", first["doc"])


def test_groups_produce_their_aggregates(evaluate_tiny):
    out = evaluate_tiny(["aligncot_qa_cot", "aligncot_ll"], limit=1)
    for group in ("aligncot_mmlu_cot", "aligncot_qa_cot"):
        assert "acc,none" in out["results"][group] and "invalid,none" in out["results"][group], group
    for group in ("aligncot_mmlu_ll", "aligncot_qa_ll", "aligncot_ll"):
        assert "acc,none" in out["results"][group], group
    # MMLU's group is the size-weighted mean over its 57 subjects
    subjects = [out["results"][suite.task_name("mmlu", "cot", s)] for s in suite.MMLU_SUBJECTS]
    n = [s["sample_len"] for s in subjects]
    mean = sum(s["acc,none"] * k for s, k in zip(subjects, n)) / sum(n)
    assert out["results"]["aligncot_mmlu_cot"]["acc,none"] == pytest.approx(mean)


def test_real_lm_eval_cli_with_include_path_and_offline_data(tmp_path, tiny_model_dir):
    env = {
        **os.environ,
        "ALIGNCOT_DATA_DIR": str(FIXTURE_DATA),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    cmd = [
        sys.executable, "-m", "lm_eval", "run", "--model", "hf",
        "--model_args", f"pretrained={tiny_model_dir},dtype=float32", "--device", "cpu",
        "--include_path", str(TASKS_DIR), "--tasks", "aligncot_csqa_zs,aligncot_piqa_cot",
        "--limit", "2", "--gen_kwargs", "max_gen_toks=8", "--output_path", str(tmp_path / "out"), "--log_samples",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = list((tmp_path / "out").rglob("results_*.json"))
    assert len(results) == 1
    res = json.loads(results[0].read_text())["results"]
    assert {"aligncot_csqa_zs", "aligncot_piqa_cot"} <= set(res)
    assert "invalid,none" in res["aligncot_piqa_cot"]
    # the CLI puts --model_args into the task metadata: the tasks find the tokenizer and measure truncation
    assert 0.0 <= res["aligncot_piqa_cot"]["truncated,none"] <= 1.0
    assert -1.0 <= res["aligncot_piqa_cot"]["acc_norm_chance,none"] <= 1.0


def test_lm_eval_validate_accepts_the_groups():
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [
        sys.executable,
        "-m",
        "lm_eval",
        "validate",
        "--tasks",
        "aligncot_qa_zs,aligncot_qa_cot,aligncot_ll,aligncot_zs,aligncot_cot,aligncot_cot_maj8",
        "--include_path",
        str(TASKS_DIR),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "valid" in proc.stdout + proc.stderr, proc.stderr[-2000:]
