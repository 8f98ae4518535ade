"""What lm-eval reports for the suite's tasks: verdicts in samples, truncated, maj@k/pass@k, chance.

Everything runs through ``lm_eval.simple_evaluate`` on the tiny random model and the shipped
fixture rows; expected values are recomputed from the samples with the suite's own scorer.
"""

from __future__ import annotations

import pytest

from aligncot_tasks import TASKS_DIR, lm_metrics, suite
from aligncot_tasks.groups import maj_metrics, task_metrics
from aligncot_tasks.lm_task import SuiteTask


@pytest.fixture()
def evaluate_with_tokenizer(tiny_model_dir, offline_data):
    """Like ``evaluate_tiny``, with the model args in the task metadata as the ``lm_eval`` CLI
    passes them (so the tasks can count tokens)."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    args = {"pretrained": str(tiny_model_dir), "dtype": "float32", "device": "cpu"}
    tm = TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata=args)

    def run(tasks: list, limit: int, gen_kwargs: dict | str = "max_gen_toks=8") -> dict:
        return lm_eval.simple_evaluate(
            model="hf",
            model_args=args,
            tasks=tasks,
            task_manager=tm,
            limit=limit,
            gen_kwargs=gen_kwargs,
            bootstrap_iters=0,
            log_samples=True,
        )

    return run


def test_every_generative_task_is_a_suite_task_with_its_metrics(task_manager, offline_data):
    names = [
        "aligncot_csqa_cot",
        "aligncot_gsm8k_zs",
        "aligncot_bbh_cot_navigate",
        "aligncot_mmlu_ll_anatomy",
        "aligncot_piqa_cot_maj8",
    ]
    tasks = task_manager.load(names)["tasks"]
    for name in names:
        task = tasks[name]
        assert isinstance(task, SuiteTask) and task.spec is suite.get_task(name)
        assert list(task.aggregation()) == task_metrics(task.spec)
    assert tasks["aligncot_piqa_cot_maj8"].config.repeats == 8
    assert tasks["aligncot_piqa_cot_maj8"].config.generation_kwargs["temperature"] == suite.MAJ_TEMPERATURE


def test_samples_carry_the_scorers_verdict_on_the_full_generation(evaluate_tiny):
    names = ["aligncot_csqa_cot", "aligncot_gsm8k_zs", "aligncot_piqa_zs"]
    out = evaluate_tiny(names, limit=3, log_samples=True, bootstrap_iters=0)
    for name in names:
        for s in out["samples"][name]:
            ((text,),) = s["resps"]
            ((v,),) = s["filtered_resps"]
            score = suite.score(name, s["doc"], text)
            assert v == lm_metrics.verdict(score.extracted, score.correct, v["truncated"], score.cued)
            assert s["acc"] == float(score.correct) and s["invalid"] == float(score.extracted is None)
            # only numeric answers say whether a cue stated them
            no_cue = score.extracted is not None and score.cued is False
            assert s.get("no_cue") == (float(no_cue) if name == "aligncot_gsm8k_zs" else None)
            # the task manager carries no model args: truncation is unknown, so not reported
            assert v["truncated"] is None and "truncated" not in s
        assert "truncated,none" not in out["results"][name]


def test_truncated_flags_exactly_the_generations_the_budget_cut(evaluate_with_tokenizer):
    """Ground truth without a tokenizer: a generation used all of an 8-token budget iff it
    differs from the same greedy model's generation under a 7-token budget (the 8th token was
    written, not a stop). Stops on two words the random model often writes as whole tokens
    make some rows end by themselves."""
    names = ["aligncot_gsm8k_zs", "aligncot_csqa_cot", "aligncot_siqa_zs"]

    def run(budget: int) -> dict:
        return evaluate_with_tokenizer(
            names, 6, gen_kwargs={"max_gen_toks": budget, "until": ["\nQuestion:", "vear", "following"]}
        )

    full, shorter = run(8), run(7)
    seen = {True: 0, False: 0}
    for name in names:
        for a, b in zip(full["samples"][name], shorter["samples"][name], strict=True):
            assert a["doc_id"] == b["doc_id"]
            capped = a["resps"][0][0] != b["resps"][0][0]
            ((v,),) = a["filtered_resps"]
            assert v["truncated"] == (capped and v["extracted"] is None), (name, a["resps"], b["resps"])
            assert a["truncated"] == float(v["truncated"])
            seen[capped] += 1
        rows = full["samples"][name]
        assert full["results"][name]["truncated,none"] == pytest.approx(sum(s["truncated"] for s in rows) / len(rows))
    assert seen[True] and seen[False], f"need both capped and self-stopped rows, saw {seen}"


def test_majority_vote_over_extracted_answers_end_to_end(evaluate_with_tokenizer):
    """maj@k / pass@k with a small k: the test overrides ``repeats`` through a group entry."""
    k = 3
    names = ["aligncot_gsm8k_cot_maj8", "aligncot_csqa_cot_maj8"]
    out = evaluate_with_tokenizer([{"group": "maj_test", "task": [{"task": n, "repeats": k} for n in names]}], 4)
    maj, any_ = maj_metrics(k)
    for name in names:
        res, rows = out["results"][name], out["samples"][name]
        for metric in (maj, any_, "acc", "invalid", "truncated"):
            assert f"{metric}_stderr,none" in res
        for s in rows:
            (texts,) = s["resps"]
            assert len(texts) == k
            scores = [suite.score(name, s["doc"], t) for t in texts]
            assert [v["extracted"] for v in s["filtered_resps"][0]] == [sc.extracted for sc in scores]
            votes = [sc.extracted for sc in scores if sc.extracted is not None]
            top = max(votes, key=votes.count) if votes else None
            winner = next(
                (sc for sc in scores if sc.extracted is not None and votes.count(sc.extracted) == votes.count(top)),
                None,
            )
            assert s[maj] == float(bool(winner and winner.correct))
            assert s[any_] == float(any(sc.correct for sc in scores))
            assert s["acc"] == pytest.approx(sum(sc.correct for sc in scores) / k)
            assert s["invalid"] == pytest.approx(sum(sc.extracted is None for sc in scores) / k)
        assert res[f"{maj},none"] == pytest.approx(sum(s[maj] for s in rows) / len(rows))
    # sampling at temperature 0.7: the k generations of a row are not all the same
    assert any(len(set(s["resps"][0])) > 1 for s in out["samples"]["aligncot_gsm8k_cot_maj8"])


def test_acc_norm_chance_is_the_mean_of_per_row_rescaled_accuracy(evaluate_tiny):
    names = ["aligncot_piqa_ll", "aligncot_csqa_ll", "aligncot_siqa_zs"]
    out = evaluate_tiny(names, limit=4, log_samples=True, bootstrap_iters=0)
    for name in names:
        rows = out["samples"][name]
        expected = []
        for s in rows:
            c = 1 / len(suite.item(name, s["doc"]).options)
            expected.append((s["acc"] - c) / (1 - c))
            assert s["acc_norm_chance"] == pytest.approx(expected[-1])
        assert out["results"][name]["acc_norm_chance,none"] == pytest.approx(sum(expected) / len(expected))


def test_maj_groups_come_from_the_table():
    groups = suite.groups()
    k = suite.MAJ_K
    assert groups[f"aligncot_qa_cot_maj{k}"]["task"] == [
        suite.maj_task_name(b, k) for b in ("csqa", "obqa", "piqa", "siqa")
    ]
    assert groups[f"aligncot_math_word_cot_maj{k}"]["task"] == [
        suite.maj_task_name(b, k) for b in ("gsm8k", "multiarith")
    ]
    assert groups[f"aligncot_cot_maj{k}"]["metrics"][:2] == list(maj_metrics(k))
    assert "acc_norm_chance" in groups[f"aligncot_qa_cot_maj{k}"]["metrics"]
    assert all(
        suite.get_task(suite.maj_task_name(b, k)).samples == k
        for b in ("csqa", "obqa", "piqa", "siqa", "gsm8k", "multiarith")
    )


@pytest.mark.parametrize(
    ("verdicts", "maj", "pass_"),
    [
        ([("7", True), ("7", True), ("5", False)], 1.0, 1.0),
        ([("5", False), ("7", True), ("5", False)], 0.0, 1.0),
        ([(None, False), (None, False), ("7", True)], 1.0, 1.0),  # no-answers do not vote
        ([("5", False), ("7", True)], 0.0, 1.0),  # a tie goes to the answer sampled first
        ([(None, False), (None, False)], 0.0, 0.0),
    ],
)
def test_row_metrics_vote(verdicts, maj, pass_):
    k = len(verdicts)
    m = lm_metrics.row_metrics([lm_metrics.verdict(e, c, None) for e, c in verdicts])
    assert (m[f"maj@{k}"], m[f"pass@{k}"]) == (maj, pass_)
    assert "truncated" not in m  # unmeasured is never reported as 0
