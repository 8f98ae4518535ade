"""Self-refine without training: correct-vs-incorrect pairs from a fake student, the recipe's bad
inputs (one line, before any model loads, nothing written), the DPO reference, sampling seeds."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from click.testing import CliRunner
from train_support import TINY_RECIPES, csqa_rows

from aligncot_tasks import suite
from training.cli import main as cli
from training.distill import pairs_sampled, preference_pairs

COT = suite.task_name("csqa", "cot")


def right(doc: dict, rationale: str = "") -> str:
    """An answer the suite's scorer marks correct (its own answer sentence)."""
    return f" {rationale}{suite.answer_sentence(COT, doc)}"


def wrong(doc: dict, rationale: str = "") -> str:
    """An answer naming another option: the answer sentence of the same row with another gold label."""
    labels = doc["choices"]["label"]
    other = labels[(labels.index(doc["answerKey"]) + 1) % len(labels)]
    return f" {rationale}{suite.answer_sentence(COT, {**doc, 'answerKey': other})}"


def fake_student(pattern: dict[int, str]):
    """``generate`` answering question i's k-th sample right or wrong as ``pattern[i][k]`` ('r'/'w')."""
    calls = []

    def generate(prompts, budgets, desc):
        calls.append(list(prompts))
        out, seen = [], {}
        for prompt in prompts:
            i = order.index(prompt)
            k = seen[i] = seen.get(i, -1) + 1
            answer = right if pattern[i][k] == "r" else wrong
            out.append(answer(qs[i].doc, f"Step {k}. "))
        return out

    docs = csqa_rows(len(pattern))
    qs = [preference_pairs.question(COT, d) for d in docs]
    order = [q.cot_prompt for q in qs]
    return qs, generate, calls


def test_correct_vs_incorrect_pairs_counts_caps_and_verdicts():
    # q0: 2 right 2 wrong (4 candidate pairs, capped at 3); q1 all right; q2 all wrong; q3: 1 right 3 wrong.
    qs, generate, calls = fake_student({0: "rwrw", 1: "rrrr", 2: "wwww", 3: "wwrw"})
    pairs, stats = pairs_sampled.build_sampled_pairs(qs, generate, 4, 3, seed=0, max_new_tokens=16)
    assert stats == {
        "questions": 4,
        "samples": 16,
        "correct_samples": 7,
        "all_right": 1,
        "all_wrong": 1,
        "paired": 2,
        "kept": 6,
    }
    assert len(calls) == 1 and len(calls[0]) == 16  # one call, each prompt 4 times in a row
    by_q = {}
    for p in pairs:
        by_q.setdefault(p["doc"], []).append(p)
        doc = preference_pairs.json.loads(p["doc"])
        assert p["prompt"] == suite.render_prompt(COT, doc) and p["task"] == COT
        assert suite.score(COT, doc, p["chosen"]).correct and not suite.score(COT, doc, p["rejected"]).correct
        assert p["chosen_correct"] and not p["rejected_correct"]
    counts = sorted(len(v) for v in by_q.values())
    assert counts == [3, 3]
    # each pair carries its question's count of correct samples (q0: 2 of 4, q3: 1 of 4)
    assert sorted((len(v), v[0]["question_correct"]) for v in by_q.values()) == [(3, 1), (3, 2)]
    assert all(len({p["question_correct"] for p in v}) == 1 for v in by_q.values())
    # q0's three pairs use both right answers and both wrong ones (spread before reuse)
    q0 = by_q[preference_pairs.json.dumps(qs[0].doc, ensure_ascii=False)]
    assert len({p["chosen"] for p in q0}) == 2 and len({p["rejected"] for p in q0}) == 2
    again, _ = pairs_sampled.build_sampled_pairs(
        qs, fake_student({0: "rwrw", 1: "rrrr", 2: "wwww", 3: "wwrw"})[1], 4, 3, 0, 16
    )
    assert again == pairs  # seeded: the same pairs on a rerun


def test_identical_answers_count_once():
    qs, generate, _ = fake_student({0: "rw"})
    same = lambda prompts, budgets, desc: [right(qs[0].doc), right(qs[0].doc) + " ", wrong(qs[0].doc)]  # noqa: E731
    pairs, stats = pairs_sampled.build_sampled_pairs(qs, same, 3, 5, seed=1)
    assert stats["kept"] == 1 and stats["correct_samples"] == 2 and len(pairs) == 1


def test_correct_samples_keep_every_distinct_correct_answer_of_every_question():
    # q0: 2 right of 4; q1: all right (no pair would use them); q2: all wrong; q3: 1 right.
    from training.distill import correct_samples

    qs, generate, calls = fake_student({0: "rwrw", 1: "rrrr", 2: "wwww", 3: "wwrw"})
    rows, stats = correct_samples.build_correct_samples(qs, generate, 4, max_new_tokens=16)
    assert stats == {
        "questions": 4,
        "samples": 16,
        "correct_samples": 7,
        "all_right": 1,
        "all_wrong": 1,
        "answered": 3,
        "repeats": 0,
        "kept": 7,
    }
    assert len(calls) == 1 and len(calls[0]) == 16
    for row in rows:
        doc = preference_pairs.json.loads(row["doc"])
        assert row["prompt"] == suite.render_prompt(COT, doc) and row["task"] == COT
        assert suite.score(COT, doc, row["completion"]).correct
    assert Counter(r["question_correct"] for r in rows) == {2: 2, 4: 4, 1: 1}
    same = lambda prompts, budgets, desc: [right(qs[0].doc), right(qs[0].doc) + " ", wrong(qs[0].doc)]  # noqa: E731
    rows, stats = correct_samples.build_correct_samples(qs[:1], same, 3)
    assert len(rows) == stats["kept"] == 1 and stats["correct_samples"] == 2 and stats["repeats"] == 1


def test_balanced_pairs_keep_the_rarest_gold_letters_count_of_each_letter():
    """A student right mostly on gold-A questions: its pairs mostly prefer (A) until balanced."""
    from datasets import Dataset

    from training.distill import pair_balance

    docs = csqa_rows(12)
    first = {d["answerKey"]: i for i, d in reversed(list(enumerate(docs)))}  # each letter's first question
    pattern = {
        i: "rwrw" if d["answerKey"] == "A" else ("rwww" if first[d["answerKey"]] == i else "wwww")
        for i, d in enumerate(docs)
    }
    qs, generate, _ = fake_student(pattern)
    pairs, _ = pairs_sampled.build_sampled_pairs(qs, generate, 4, 2, seed=0)
    gold = lambda p: preference_pairs.json.loads(p["doc"])["answerKey"]  # noqa: E731
    before = Counter(gold(p) for p in pairs)
    assert before.most_common(1)[0][0] == "A" and before["A"] > min(before.values())
    kept, stats = pair_balance.balance(Dataset.from_list(pairs), "chosen", seed=0)
    after = Counter(gold(p) for p in kept)
    assert set(after) == set(before) and set(after.values()) == {min(before.values())}
    assert stats["before"] == len(pairs) and stats["after"] == len(kept) == sum(after.values())
    assert stats["gold_after"] == {f"{COT}:{k}": v for k, v in sorted(after.items())}
    assert all(suite.score(COT, preference_pairs.json.loads(p["doc"]), p["chosen"]).correct for p in kept)
    again, _ = pair_balance.balance(Dataset.from_list(pairs), "chosen", seed=0)
    assert again["chosen"] == kept["chosen"]  # seeded


def test_pairs_balanced_on_both_sides_push_no_letter_up_or_down():
    """Golds A..E in turn, every wrong answer names the next letter: 12 pairs are edges A->B x3,
    B->C x3, C->D x2, D->E x2, E->A x2; two whole cycles (10 pairs) are the largest set in which
    each letter is as often chosen as rejected. A rejected answer naming no letter is dropped."""
    from datasets import Dataset
    from synthetic_csqa import csqa_rows as cyclic_rows

    from training.distill import pair_balance

    pairs = [
        {"prompt": "p", "chosen": right(d), "rejected": wrong(d), "task": COT, "doc": preference_pairs.json.dumps(d)}
        for d in cyclic_rows(12)
    ]
    pairs.append({**pairs[0], "rejected": " I cannot tell."})
    kept, stats = pair_balance.balance(Dataset.from_list(pairs), "both", seed=0)
    assert stats["before"] == 13 and stats["after"] == len(kept) == 10
    assert stats["rejected_before"][f"{COT}:-"] == 1 and f"{COT}:-" not in stats["rejected_after"]
    letters = lambda side: Counter(pair_balance.pair_key(COT, p["doc"], p["rejected"])[side] for p in kept)  # noqa: E731
    assert letters(1) == letters(2) == Counter(dict.fromkeys("ABCDE", 2))
    again, _ = pair_balance.balance(Dataset.from_list(pairs), "both", seed=0)
    assert again["chosen"] == kept["chosen"]  # seeded


@pytest.mark.parametrize("seed", range(20))
def test_max_circulation_matches_brute_force(seed):
    """The largest balanced flow, checked against every flow of small random letter graphs."""
    from training.distill import pair_balance

    rng = random.Random(seed)
    capacity = {(u, v): rng.randint(0, 2) for u in "ABC" for v in "ABC" if u != v}
    flow = pair_balance.max_circulation(capacity)
    edges = sorted(capacity)

    def balanced(f):
        return all(sum(f[e] for e in edges if e[0] == n) == sum(f[e] for e in edges if e[1] == n) for n in "ABC")

    best = max(
        sum(values)
        for values in itertools.product(*(range(capacity[e] + 1) for e in edges))
        if balanced(dict(zip(edges, values)))
    )
    assert balanced(flow) and all(0 <= flow[e] <= capacity[e] for e in edges) and sum(flow.values()) == best


def test_select_pairs_is_seeded_and_capped():
    a = pairs_sampled.select_pairs(list("abc"), list("xyz"), 4, random.Random(3))
    assert a == pairs_sampled.select_pairs(list("abc"), list("xyz"), 4, random.Random(3))
    assert len(a) == 4 and len(set(a)) == 4


@pytest.fixture
def refine_inputs(tmp_path_factory) -> list[str]:
    """Paths that pass the early path checks (a model dir, an adapter dir, demos), so that only the
    recipe check under test can fail; they live outside the test's tmp_path, which must stay empty."""
    root = tmp_path_factory.mktemp("inputs")
    for sub, name in (("model", "config.json"), ("sft", "adapter_config.json"), ("demos", "train.jsonl")):
        (root / sub).mkdir()
        (root / sub / name).write_text("{}", encoding="utf-8")
    return [f"base_model={root / 'model'}", f"sft_adapter={root / 'sft'}", f"data={root / 'demos'}"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["pairs=best_vs_worst"],
            "recipe key 'pairs' must be one of cot_vs_direct, correct_vs_incorrect, correct_samples",
        ),
        (["pairs=correct_vs_incorrect", "samples_per_question=1"], "'samples_per_question' must be >= 2"),
        (["rounds=0"], "'rounds' must be >= 1"),
        (["loss_type=[sigmoid, sft]", "loss_weights=[1.0, -0.5]"], "'loss_weights' must be >= 0, got -0.5"),
        (["loss_type=[sigmoid, sft]", "loss_weights=[1.0]"], "one weight per loss_type (2), got 1"),
        (["pairs=correct_vs_incorrect", "temperature=0"], "'temperature' must be > 0"),
        (["pairs=correct_vs_incorrect", "temperature=-1"], "'temperature' must be > 0"),
        (["pairs=correct_vs_incorrect", "generation_backend=vllm"], "vllm samples greedily only"),
        (["max_eval_pairs=0"], "'max_eval_pairs' must be >= 1"),
        (["rounds=2", "pairs_dir=p"], "'pairs_dir' applies to one round"),
        (["pairs=cot_vs_direct", "balance_pairs=chosen"], "'balance_pairs' applies to correct_vs_incorrect pairs only"),
        (["pairs=correct_vs_incorrect", "balance_pairs=true"], "'balance_pairs' must be one of none, chosen, both"),
        (["pairs=cot_vs_direct", "min_correct_samples=2"], "'min_correct_samples' applies to correct_vs_incorrect"),
        (
            ["pairs=correct_vs_incorrect", "samples_per_question=4", "min_correct_samples=4"],
            "'min_correct_samples' must be between 1 and 3 for correct_vs_incorrect, got 4",
        ),
        (["pairs=correct_vs_incorrect", "min_correct_samples=0"], "'min_correct_samples' must be between 1 and"),
        (["pairs=correct_samples"], "correct_samples rows train with the NLL loss alone: set loss_type=[sft]"),
        (
            ["pairs=correct_samples", "loss_type=[sigmoid, sft]", "loss_weights=[1.0, 1.0]"],
            "correct_samples rows train with the NLL loss alone",
        ),
        (["pairs=correct_samples", "loss_type=[sft]", "loss_weights=[0.5]"], "NLL loss alone"),
        (
            ["pairs=correct_samples", "loss_type=[sft]", "samples_per_question=0"],
            "'samples_per_question' must be >= 1 for correct_samples, got 0",
        ),
        (["pairs=correct_samples", "loss_type=[sft]", "temperature=0"], "'temperature' must be > 0"),
        (
            ["pairs=correct_samples", "loss_type=[sft]", "balance_pairs=chosen"],
            "'balance_pairs' applies to correct_vs_incorrect pairs only",
        ),
        (
            ["pairs=correct_samples", "loss_type=[sft]", "samples_per_question=4", "min_correct_samples=5"],
            "'min_correct_samples' must be between 1 and 4 for correct_samples, got 5",
        ),
    ],
)
def test_bad_input_is_one_line_before_any_model_loads(tmp_path, monkeypatch, refine_inputs, overrides, message):
    from training.distill import model_loading

    def no_load(*a, **k):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(model_loading, "load_base", no_load)
    monkeypatch.setattr(model_loading, "base_config", no_load)
    out = tmp_path / "out"
    args = [*refine_inputs, f"output_dir={out / 'dpo'}", *overrides]
    result = CliRunner().invoke(cli, ["self-refine", "--recipe", str(TINY_RECIPES / "dpo.yaml"), *args])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_dpo_reference_is_the_starting_adapter_not_the_base(tmp_path, tiny_model_dir):
    """trl 1.16 with ref_model=None and a PeftModel carrying an adapter: a frozen 'ref' copy of it."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    from training.distill import model_loading

    torch.manual_seed(0)
    sft = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(r=4, init_lora_weights=False))
    sft.save_pretrained(tmp_path / "sft")
    model = model_loading.load_trainable_adapter(AutoModelForCausalLM.from_pretrained(tiny_model_dir), tmp_path / "sft")
    pairs = Dataset.from_list([{"prompt": "a b", "chosen": " c", "rejected": " d"}])
    args = DPOConfig(output_dir=str(tmp_path / "run"), use_cpu=True, report_to=[], max_length=32)
    DPOTrainer(
        model=model,
        ref_model=None,
        args=args,
        train_dataset=pairs,
        processing_class=AutoTokenizer.from_pretrained(tiny_model_dir),
    )
    assert "ref" in model.peft_config
    params = dict(model.named_parameters())
    lora = [n for n in params if ".default." in n and "lora_B" in n]
    assert lora and all(torch.equal(params[n], params[n.replace(".default.", ".ref.")]) for n in lora)
    assert any(params[n].abs().sum() > 0 for n in lora)  # a real adapter: the base would differ from it
    assert not any(p.requires_grad for n, p in params.items() if ".ref." in n)


def test_sampled_answers_vary_and_repeat(tiny_model_dir):
    """The hf path the pairs use: samples of one prompt differ, and a rerun with the same seed repeats them."""
    from types import SimpleNamespace

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.distill import pairs_dataset
    from training.distill.refine_rounds import Round

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    recipe = SimpleNamespace(pairs="correct_vs_incorrect", temperature=1.0, seed=0, generation_batch_size=8)
    rnd = Round(1, 1, "unused", None, None, None)
    prompt = preference_pairs.question(COT, csqa_rows(1)[0]).cot_prompt

    def sample():
        generate = pairs_dataset.generator(recipe, None, model, tok, "hf", rnd)
        return generate([prompt] * 4, [12] * 4, None)

    first = sample()
    assert len(set(first)) > 1 and sample() == first


@pytest.mark.parametrize("kind", ["correct_vs_incorrect", "cot_vs_direct"])
def test_chat_template_pairs_are_what_lm_eval_evaluates_for_the_cot_task(tiny_model_dir, kind):
    """With ``chat_template`` prompt + chosen starts with the chat CoT prompt (test_chat_format: lm-eval's context)."""
    import functools
    from types import SimpleNamespace

    from train_support import demo_row
    from transformers import AutoTokenizer

    from training.distill import pairs_dataset
    from training.distill.chat_format import chat_prompt

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    docs = csqa_rows(3)
    rows = [demo_row("cot", d, i) for i, d in enumerate(docs)]
    recipe = SimpleNamespace(
        pairs=kind,
        samples_per_question=2,
        max_pairs_per_question=1,
        seed=0,
        max_new_tokens=8,
        keep_correct_only=False,
        max_eval_pairs=2,
    )
    by_prompt = {}
    for d in docs:
        by_prompt[chat_prompt(tok, COT, d)] = d
        by_prompt[chat_prompt(tok, suite.task_name("csqa", "zs"), d)] = d
    generate = lambda prompts, budgets, desc: [  # noqa: E731
        (right if i % 2 == 0 else wrong)(by_prompt[p]) for i, p in enumerate(prompts)
    ]
    render = functools.partial(chat_prompt, tok)
    rnd = SimpleNamespace(index=1)
    pairs, stats = pairs_dataset.build(recipe, rows, generate, render, "validation", rnd)
    assert stats["questions"] == 2  # validation questions capped at max_eval_pairs
    for p in pairs:
        doc = preference_pairs.json.loads(p["doc"])
        assert (p["prompt"] + p["chosen"]).startswith(chat_prompt(tok, COT, doc))
        assert p["prompt"] == chat_prompt(tok, p["task"], doc)  # cot_vs_direct: the chat zero-shot prompt


def _rounds_layout(tmp_path, finished: int, marker: int | None, checkpoint: bool):
    from training.distill import checkpoints, refine_rounds

    out = tmp_path / "dpo"
    rounds = refine_rounds.plan(out, str(tmp_path / "sft"), tmp_path / "unused", 3)
    for rnd in rounds[:finished]:
        rnd.adapter.mkdir(parents=True)
        (rnd.adapter / "adapter_config.json").write_text("{}")
    run = checkpoints.run_dir(out)
    if checkpoint:
        (run / "checkpoint-2").mkdir(parents=True)
        (run / "checkpoint-2" / checkpoints.TRAINER_STATE).write_text("{}")
    if marker is not None:
        run.mkdir(exist_ok=True)
        (run / refine_rounds.MARKER).write_text(preference_pairs.json.dumps({"round": marker}))
    return out, run, rounds


def test_rounds_resume_at_the_first_unfinished_round(tmp_path):
    from training.distill import refine_rounds

    out, run, rounds = _rounds_layout(tmp_path, finished=1, marker=2, checkpoint=True)
    assert refine_rounds.prepare(out, run, rounds, resume=True) == (1, run / "checkpoint-2")
    with pytest.raises(refine_rounds.UserError, match="pass --resume"):
        refine_rounds.prepare(out, run, rounds, resume=False)


def test_rounds_a_finished_rounds_run_dir_is_moved_home(tmp_path):
    """Killed between publishing round 2's adapter and moving its checkpoints: round 3 starts fresh."""
    from training.distill import refine_rounds

    out, run, rounds = _rounds_layout(tmp_path, finished=2, marker=2, checkpoint=True)
    assert refine_rounds.prepare(out, run, rounds, resume=True) == (2, None)
    assert not run.exists() and (rounds[1].home / "run" / "checkpoint-2").is_dir()


def test_rounds_refuse_checkpoints_of_no_round(tmp_path):
    from training.distill import refine_rounds

    out, run, rounds = _rounds_layout(tmp_path, finished=0, marker=None, checkpoint=True)
    with pytest.raises(refine_rounds.UserError, match="no unfinished round"):
        refine_rounds.prepare(out, run, rounds, resume=True)
    out, run, rounds = _rounds_layout(tmp_path / "b", finished=0, marker=None, checkpoint=False)
    with pytest.raises(refine_rounds.UserError, match="no checkpoint"):
        refine_rounds.prepare(out, run, rounds, resume=True)


def test_samples_cache_reads_a_call_it_kept_and_resamples_a_broken_or_short_file(tmp_path):
    from training.distill import samples_cache

    calls = []

    def generate(prompts, budgets, desc):
        calls.append(list(prompts))
        return [f"{p}!" for p in prompts]

    gen = samples_cache.cached(generate, tmp_path / "c", {"seed": 1})
    assert gen(["a", "b"], [4, 4], "x") == ["a!", "b!"] and gen(["a", "b"], [4, 4], "x") == ["a!", "b!"]
    assert len(calls) == 1
    gen(["a", "b"], [4, 8], "x")  # another budget: another key
    assert len(calls) == 2
    (path,) = [
        p for p in (tmp_path / "c").iterdir() if samples_cache.cache_key({"seed": 1}, ["a", "b"], [4, 4]) in p.name
    ]
    path.write_text("{not json")
    assert gen(["a", "b"], [4, 4], "x") == ["a!", "b!"] and len(calls) == 3
    path.write_text('{"answers": ["only one"]}')
    assert gen(["a", "b"], [4, 4], "x") == ["a!", "b!"] and len(calls) == 4
    assert samples_cache.cached(generate, None, {}) is generate
