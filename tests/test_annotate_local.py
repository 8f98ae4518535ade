"""Teachers that run here: a real OpenAI-compatible server (``transformers serve``) and the hf backend."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest
from click.testing import CliRunner

from aligncot_tasks import suite
from aligncot_tasks.data import load_rows
from training.annotate.backends.hf import HFBackend
from training.annotate.cli import annotate as annotate_cmd
from training.annotate.jobs import GenParams, build_jobs
from training.annotate.store import Store

TASK = "aligncot_csqa_cot"
#: Bounded waits: a CPU-only server with a tiny model is up in well under this.
STARTUP_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_model(tiny_model_dir, tmp_path_factory):
    """``transformers serve`` on a free loopback port serving the tiny model; stopped afterwards."""
    exe = shutil.which("transformers")
    if exe is None:
        pytest.skip("the `transformers` CLI (serving extra) is not installed")
    port = free_port()
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            str(tiny_model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "cpu",
            "--dtype",
            "float32",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + STARTUP_S
        while True:
            assert proc.poll() is None, f"transformers serve exited early, see {log.name}"
            assert time.time() < deadline, f"transformers serve not up within {STARTUP_S}s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", str(tiny_model_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["--completions", "--chat"])
def test_annotate_against_transformers_serve(served_model, offline_data, tmp_path, mode):
    url, model = served_model
    out = tmp_path / "ann"
    args = [
        "--task",
        TASK,
        "--backend",
        "openai",
        "--base-url",
        url,
        "--model",
        model,
        "--limit",
        "3",
        "--max-tokens",
        "8",
        "--out",
        str(out),
        "--quiet",
        mode,
    ]
    result = CliRunner().invoke(annotate_cmd, args, env={"OPENAI_API_KEY": ""})  # a local server needs no key
    assert result.exit_code == 0, result.output
    assert "done 3, failed 0" in result.output
    with Store(out) as store:
        rows = list(store.records())
    docs = load_rows("tau/commonsense_qa", None, "train")[:3]
    assert [r.doc_id.split("-")[1] for r in rows] == ["000000", "000001", "000002"]
    for r, doc in zip(rows, docs):
        assert r.finish_reason in ("stop", "length") and 0 < r.completion_tokens <= 8 and r.prompt_tokens > 0
        text = suite.render_prompt(TASK, doc)
        assert r.export()["prompt"] == (text if mode == "--completions" else [{"role": "user", "content": text}])
        assert r.correct == suite.score(TASK, doc, r.completion).correct
    again = CliRunner().invoke(annotate_cmd, args, env={"OPENAI_API_KEY": ""})
    assert again.exit_code == 0 and "done 3," in again.output


def test_hf_backend_batches_like_single_prompts(tiny_model_dir, offline_data):
    """Left padding: a prompt's greedy answer does not depend on the batch it is in."""
    rows = load_rows("tau/commonsense_qa", None, "train")[:4]
    jobs = build_jobs(
        suite.get_task(TASK), rows, "train", GenParams(0.0, 6, 0, chat=False), 1, "hf", str(tiny_model_dir)
    )
    chat_jobs = build_jobs(
        suite.get_task(TASK),
        rows[:2],
        "train",
        GenParams(0.0, 6, 0, chat=True, prefill="continue"),
        1,
        "hf",
        str(tiny_model_dir),
    )

    backend = HFBackend(str(tiny_model_dir), dtype="float32")

    def answers(batch_size: int, todo) -> dict:
        out = {}
        backend.batch_size = batch_size
        backend.run(todo, lambda j, r: out.__setitem__(j.key, r))
        return out

    batched, single = answers(4, jobs), answers(1, jobs)
    assert {k: r.text for k, r in batched.items()} == {k: r.text for k, r in single.items()}
    assert all(r.finish_reason in ("stop", "length") and r.completion_tokens <= 6 for r in batched.values())
    assert len({r.prompt_tokens for r in batched.values()}) > 1  # prompts of different lengths were padded
    assert len(answers(2, chat_jobs)) == 2


def test_hf_backend_draws_sample_i_under_seed_plus_i(offline_data, monkeypatch):
    """Each sample index gets its own engine call seeded with ``seed + i`` (the engine seeds a
    call, not a request), and every answer is reported to its own job."""
    from training.generation import hf

    rows = load_rows("tau/commonsense_qa", None, "train")[:3]
    jobs = build_jobs(suite.get_task(TASK), rows, "train", GenParams(0.7, 6, 5, chat=False), 2, "hf", "m")
    calls = []

    def fake_generate(model, tokenizer, prompts, budgets, batch_size, *, seed, on_batch, **kw):
        calls.append((seed, list(prompts)))
        done = [hf.Completion(f"{seed}:{p[-20:]}", True, 1, 1) for p in prompts]
        on_batch(list(range(len(prompts)))[::-1], done[::-1])  # finishing order differs from input order
        return done

    monkeypatch.setattr(hf, "generate", fake_generate)
    backend = HFBackend("m")
    backend._loaded = (object(), object())
    got = {}
    backend.run(jobs, lambda j, r: got.__setitem__(j.key, r.text))
    assert [seed for seed, _ in calls] == [5, 6]
    assert all(prompts == [j.prompt for j in jobs if j.seed == seed] for seed, prompts in calls)
    assert got == {j.key: f"{j.seed}:{j.prompt[-20:]}" for j in jobs}
