"""GSM8K, MultiArith and MATH inside lm-eval: end-to-end runs, group aggregates, the scoring filter."""

from __future__ import annotations

import pytest

from aligncot_tasks import scoring, suite
from aligncot_tasks.data import load_rows
from aligncot_tasks.lm_task import ScoreFilter

GROUPS = ["aligncot_math_word_zs", "aligncot_math_word_cot", "aligncot_math_zs", "aligncot_math_cot"]


def test_math_tasks_and_groups_are_indexed(task_manager):
    names = {n for n in suite.all_tasks() if suite.all_tasks()[n].benchmark.key in ("gsm8k", "multiarith", "math")}
    assert len(names) == 2 + 2 + 14 + 2  # zs, cot (MATH: per type), and the maj@k tasks of GSM8K and MultiArith
    missing = (names | set(GROUPS)) - set(task_manager.all_tasks)
    assert not missing, sorted(missing)


def test_all_three_benchmarks_run_end_to_end_with_group_aggregates(evaluate_tiny):
    out = evaluate_tiny(GROUPS, limit=1, log_samples=True)
    results = out["results"]
    tasks = [suite.task_name(k, v) for k in ("gsm8k", "multiarith") for v in ("zs", "cot")]
    tasks += [suite.task_name("math", v, c) for v in ("zs", "cot") for c in suite.MATH_TYPES]
    for name in tasks + GROUPS:
        assert 0.0 <= results[name]["acc,none"] <= 1.0, name
        assert 0.0 <= results[name]["invalid,none"] <= 1.0, name
    for name in tasks:
        (sample,) = out["samples"][name]
        assert sample["arguments"][0][0] == suite.render_prompt(name, sample["doc"])
        s = suite.score(name, sample["doc"], sample["resps"][0][0])
        assert (sample["acc"], sample["invalid"]) == (float(s.correct), float(s.extracted is None))
        assert sample["filtered_resps"][0][0]["extracted"] == s.extracted
    # MATH's groups average their seven types (size-weighted; with limit=1 all sizes are 1)
    for v in ("zs", "cot"):
        invalid = [results[suite.task_name("math", v, c)]["invalid,none"] for c in suite.MATH_TYPES]
        assert results[f"aligncot_math_{v}"]["invalid,none"] == pytest.approx(sum(invalid) / len(invalid))


@pytest.mark.parametrize("key", ["gsm8k", "multiarith", "math"])
def test_lm_eval_filter_scores_the_gold_sentence_correct(key, offline_data):
    b = suite.BENCHMARKS[key]
    for config in b.configs:
        docs = load_rows(b.hub_id, config or b.config_name, b.eval_split)
        for variant in ("zs", "cot"):
            spec = suite.get_task(suite.task_name(key, variant, config))
            filt = ScoreFilter(spec)
            gold = filt.apply([[suite.answer_sentence(spec, doc), "I do not know."] for doc in docs], docs)
            for (right, unknown), doc in zip(gold, docs):
                # the canonical sentence commits with a cue wherever the scorer says (numbers)
                cued = {"cued": True} if scoring.reads_cues(spec.answer_type) else {}
                assert right == {"extracted": right["extracted"], "correct": True, "truncated": False, **cued}, doc
                assert unknown["correct"] is False
                assert unknown["truncated"] is (
                    None if unknown["extracted"] is None else False
                )  # no tokenizer: unmeasured


def test_math_cot_generation_budget_is_at_least_1024():
    assert suite.BENCHMARKS["math"].max_gen_toks["cot"] >= 1024
