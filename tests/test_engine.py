"""The continuous-batching engine on tiny random models: greedy parity, budgets, stops, adapters.

Runs on every available device (CPU always, CUDA when a GPU is present). Parity with
``model.generate`` is checked in fp32 everywhere: a random tiny model's logits are nearly
tied, so in bf16 a rounding difference between two attention kernels can flip a greedy step;
bf16 on CUDA is checked for what must hold whatever the numerics (budgets, stops, order).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.generation import engine  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
PROMPTS = [
    "Question: Where would you keep milk?",
    "The answer is",
    "Q: 2+2?",
    "Answer Choices: (A) fridge (B) oven (C) car (D) desk (E) shoe",
    "A long prompt about cats and dogs and the places where people keep their food",
    "Question: a prompt much longer than the others, so the rows of a batch are padded. " * 40,
]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoTokenizer

    return tiny_model_dir, AutoTokenizer.from_pretrained(tiny_model_dir)


def _model(path, device: str, dtype=None):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype or torch.float32).to(device).eval()


def _reference(model, tokenizer, ids: list[int], max_new_tokens: int) -> list[int]:
    """``model.generate`` on one prompt alone (no padding): the tokens greedy decoding must give."""
    x = torch.tensor([ids], device=model.device)
    with torch.no_grad():
        out = model.generate(x, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    return out[0, len(ids) :].tolist()


def _encode(tokenizer, prompts=PROMPTS) -> list[list[int]]:
    return [tokenizer(p)["input_ids"] for p in prompts]


@pytest.mark.parametrize("device", DEVICES)
def test_greedy_matches_generate_one_prompt_at_a_time(tiny, device):
    path, tokenizer = tiny
    model = _model(path, device)
    ids = _encode(tokenizer)
    budgets = [12, 5, 20, 1, 16, 8]
    outs = engine.generate(model, tokenizer, [engine.Request(x, b) for x, b in zip(ids, budgets)], max_in_flight=2)
    for x, b, out in zip(ids, budgets, outs):
        want = _reference(model, tokenizer, x, b)
        assert out.text == tokenizer.decode(want, skip_special_tokens=True)
        assert out.completion_tokens == len(want) <= b  # the budget is per request
        assert out.prompt_tokens == len(x)
        assert out.finish_reason == ("eos" if want[-1] == tokenizer.eos_token_id else "length")


@pytest.mark.parametrize("device", DEVICES)
def test_stop_strings_cut_and_end_the_request(tiny, device):
    path, tokenizer = tiny
    model = _model(path, device)
    ids = _encode(tokenizer)
    free = [_reference(model, tokenizer, x, 24) for x in ids]
    texts = [tokenizer.decode(t, skip_special_tokens=True) for t in free]
    # A stop string taken from the middle of each free continuation: the text must end just before it.
    stops = [t[len(t) // 2 : len(t) // 2 + 2] for t in texts]
    reqs = [engine.Request(x, 24, (s,) if s.strip() else ()) for x, s in zip(ids, stops)]
    stats = engine.DecodeStats()
    outs = engine.generate(model, tokenizer, reqs, max_in_flight=3, stats=stats)
    assert stats.decoded >= sum(o.completion_tokens for o in outs)
    n_stopped = 0
    for text, req, out in zip(texts, reqs, outs):
        want, stopped = engine.cut_text(text, req.stop)
        assert out.text == want
        if stopped:
            n_stopped += 1
            assert out.finish_reason == "stop"
    assert n_stopped >= 3


def test_adapter_is_applied(tiny):
    from peft import LoraConfig, get_peft_model

    path, tokenizer = tiny
    base = _model(path, "cpu")
    ids = _encode(tokenizer)
    plain = engine.generate(base, tokenizer, [engine.Request(x, 10) for x in ids])
    torch.manual_seed(1)
    peft_model = get_peft_model(
        _model(path, "cpu"),
        LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False),
    ).eval()
    adapted = engine.generate(peft_model, tokenizer, [engine.Request(x, 10) for x in ids])
    for x, out in zip(ids, adapted):
        assert out.text == tokenizer.decode(_reference(peft_model, tokenizer, x, 10), skip_special_tokens=True)
    assert [o.text for o in adapted] != [o.text for o in plain]


def test_seeded_sampling_repeats_and_differs_from_greedy(tiny):
    path, tokenizer = tiny
    model = _model(path, "cpu")
    reqs = [engine.Request(x, 12, ("\n",)) for x in _encode(tokenizer)]
    first = engine.generate(model, tokenizer, reqs, temperature=1.5, seed=3, max_in_flight=2)
    again = engine.generate(model, tokenizer, reqs, temperature=1.5, seed=3, max_in_flight=2)
    greedy = engine.generate(model, tokenizer, reqs, max_in_flight=2)
    assert [o.text for o in first] == [o.text for o in again]
    assert [o.text for o in first] != [o.text for o in greedy]
    assert all("\n" not in o.text for o in first)


def test_seeded_samples_do_not_depend_on_the_batch(tiny):
    # Each request draws from its own generator: batched with others or alone, it samples the same.
    path, tokenizer = tiny
    model = _model(path, "cpu")
    reqs = [engine.Request(x, 12) for x in _encode(tokenizer)]
    together = engine.generate(model, tokenizer, reqs, temperature=1.5, seed=7, max_in_flight=6)
    alone = engine.generate(model, tokenizer, reqs, temperature=1.5, seed=7, max_in_flight=1)
    assert [o.text for o in together] == [o.text for o in alone]
    other_seed = engine.generate(model, tokenizer, reqs, temperature=1.5, seed=8, max_in_flight=6)
    assert [o.text for o in other_seed] != [o.text for o in together]


def test_batch_rows_leave_and_join_with_their_padding(tiny):
    from training.generation.padded_batch import PaddedBatch

    path, tokenizer = tiny
    model = _model(path, "cpu")
    short, long, middle = [5, 6, 7], list(range(5, 15)), [8, 9, 10, 11, 12]
    with torch.no_grad():
        batch, logits = PaddedBatch.prefill(model, [short, long], pad_id=0)
        assert (batch.rows, batch.columns) == (2, 10) and logits.shape[0] == 2
        assert batch.mask.sum(-1).tolist() == [3, 10]
        batch.keep([0])  # the long row leaves: the columns only it used go too
        assert (batch.rows, batch.columns) == (1, 3)
        assert all(layer.keys.shape[2] == 3 for layer in batch.cache.layers)
        joined, _ = PaddedBatch.prefill(model, [middle], pad_id=0)
        batch.join(joined)
        assert (batch.rows, batch.columns) == (2, 5)
        assert batch.mask.tolist() == [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]
        assert batch.next_position.tolist() == [3, 5]
        nxt = batch.step(model, torch.tensor([1, 2]))
    # The joined row continues exactly as the prompt would alone.
    with torch.no_grad():
        alone = model(torch.tensor([middle + [2]])).logits[0, -1]
    assert torch.allclose(nxt[1], alone, atol=1e-4)


def test_results_are_reported_as_they_finish(tiny):
    path, tokenizer = tiny
    model = _model(path, "cpu")
    seen = []
    outs = engine.generate(
        model,
        tokenizer,
        [engine.Request(x, 6) for x in _encode(tokenizer)],
        on_result=lambda i, o: seen.append((i, o)),
    )
    assert sorted(i for i, _ in seen) == list(range(len(PROMPTS)))
    assert all(outs[i] is o for i, o in seen)
    assert model.training is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_bf16_on_cuda_honours_budgets_and_stops(tiny):
    path, tokenizer = tiny
    model = _model(path, "cuda", torch.bfloat16)
    ids = _encode(tokenizer)
    budgets = [12, 5, 20, 1, 16, 8]
    free = engine.generate(model, tokenizer, [engine.Request(x, b) for x, b in zip(ids, budgets)])
    assert [o.completion_tokens <= b for o, b in zip(free, budgets)] == [True] * len(ids)
    assert all(o.finish_reason in ("eos", "length") and o.prompt_tokens == len(x) for o, x in zip(free, ids))
    stops = [o.text[len(o.text) // 2 : len(o.text) // 2 + 2] for o in free]
    reqs = [engine.Request(x, 24, (s,)) for x, s in zip(ids, stops) if s.strip()]
    for req, out in zip(reqs, engine.generate(model, tokenizer, reqs, max_in_flight=3)):
        assert req.stop[0] not in out.text and out.completion_tokens <= 24


def test_bad_in_flight_is_refused(tiny):
    path, tokenizer = tiny
    with pytest.raises(ValueError, match="max_in_flight"):
        engine.generate(None, tokenizer, [engine.Request([1], 1)], max_in_flight=0)
