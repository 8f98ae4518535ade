"""End to end: BBH tasks and groups through ``lm_eval.simple_evaluate`` on a tiny local model.

The tiny model is random, so only the plumbing is checked: every answer type's hook runs in
both variants, each task reports ``acc`` and ``invalid`` as means of 0/1 values over its rows,
and the groups report the unweighted mean over their subtasks.
"""

from __future__ import annotations

import pytest

from aligncot_tasks import suite

#: One subtask per answer type.
SUBTASKS = {
    "bbh_choice": "date_understanding",
    "bbh_bool": "boolean_expressions",
    "bbh_yesno": "web_of_lies",
    "bbh_valid": "formal_fallacies",
    "bbh_integer": "multistep_arithmetic_two",
    "bbh_words": "word_sorting",
    "bbh_dyck": "dyck_languages",
}
#: The random model would ramble to max_gen_toks; a few tokens exercise the same path.
GEN_KWARGS = "max_gen_toks=4"


def test_table_covers_every_answer_type():
    assert set(SUBTASKS) == set(suite.BBH_SUBTASKS.values())
    assert all(suite.BBH_SUBTASKS[s] == t for t, s in SUBTASKS.items())


@pytest.mark.slow
def test_one_subtask_per_answer_type_both_variants(evaluate_tiny):
    names = [suite.task_name("bbh", v, s) for s in SUBTASKS.values() for v in suite.VARIANTS]
    out = evaluate_tiny(names, limit=2, gen_kwargs=GEN_KWARGS, bootstrap_iters=0, log_samples=True)
    for name in names:
        res = out["results"][name]
        assert 0.0 <= res["acc,none"] <= 1.0 and 0.0 <= res["invalid,none"] <= 1.0
        samples = out["samples"][name]
        assert len(samples) == 2
        for s in samples:  # the hook's per-row numbers are the suite's own verdict
            score = suite.score(name, s["doc"], s["resps"][0][0])
            assert s["acc"] == float(score.correct) and s["invalid"] == float(score.extracted is None)


@pytest.mark.slow
def test_bbh_groups_are_unweighted_means(evaluate_tiny):
    groups = ["aligncot_bbh_zs", "aligncot_bbh_cot"]
    out = evaluate_tiny(groups, limit=1, gen_kwargs=GEN_KWARGS, bootstrap_iters=0)
    for group in groups:
        members = suite.groups()[group]["task"]
        assert len(members) == len(suite.BBH_SUBTASKS)
        agg = out["results"][group]
        for metric in ("acc,none", "invalid,none"):
            expected = sum(out["results"][m][metric] for m in members) / len(members)
            assert agg[metric] == pytest.approx(expected)
