"""``aligncot annotate``: jobs, store, retries under injected faults, crash and restart, key hygiene."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fault_server import ECHO_AUTH, FaultServer
from synthetic_csqa import csqa_rows, write_split

from aligncot_tasks import suite
from training.annotate.backends.openai import OpenAIBackend
from training.annotate.cli import annotate as annotate_cmd
from training.annotate.jobs import GenParams, build_jobs
from training.annotate.run import annotate
from training.annotate.store import DB_NAME, EXPORT_NAME, Record, Store

ROOT = Path(__file__).resolve().parents[1]
TASK = "aligncot_csqa_cot"
SECRET = "sk-test-SECRET-0123456789abcdef"


@pytest.fixture()
def csqa300(tmp_path, monkeypatch) -> Path:
    """A data dir with 300 synthetic csqa training rows (and a disjoint validation split)."""
    root = tmp_path / "data"
    write_split(root, "train", csqa_rows(300))
    write_split(root, "validation", csqa_rows(10, prefix="Held-out question"))
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    return root


def jobs_for(rows, chat=False, samples=1, prefill="user"):
    params = GenParams(0.0, 64, 0, chat, prefill)
    return build_jobs(suite.get_task(TASK), rows, "train", params, samples, "openai", "m")


def test_jobs_use_the_suites_prompts():
    rows = csqa_rows(3)
    spec = suite.get_task(TASK)
    assert [j.prompt for j in jobs_for(rows)] == [suite.render_prompt(spec, r) for r in rows]
    cont = jobs_for(rows, chat=True, prefill="continue")
    assert cont[0].prompt == suite.chat_messages(spec, rows[0]) and cont[0].continue_final
    user = jobs_for(rows, chat=True)
    assert user[0].prompt == [{"role": "user", "content": suite.render_prompt(spec, rows[0])}]
    k = jobs_for(rows, samples=3)
    assert len({j.key for j in k}) == 9 and [j.seed for j in k[:3]] == [0, 1, 2]
    assert [j.doc_id for j in jobs_for(rows)] == [j.doc_id for j in jobs_for(rows)]  # stable


def record(key: str, **kw) -> Record:
    base = {
        "key": key,
        "task": TASK,
        "doc_id": "d",
        "sample": 0,
        "doc": "{}",
        "prompt": "p",
        "completion": "c",
        "finish_reason": "stop",
        "prompt_tokens": 1,
        "completion_tokens": 2,
        "extracted": "A",
        "gold": "A",
        "correct": True,
        "backend": "openai",
        "model": "m",
        "attempts": 1,
        "started_at": 0.0,
        "finished_at": 1.0,
    }
    return Record(**{**base, **kw})


def test_store_never_duplicates_and_clears_failures(tmp_path):
    with Store(tmp_path) as a, Store(tmp_path) as b:  # two runs on one directory
        a.fail("k1", TASK, "d", 0, "boom", 3)
        assert [f["key"] for f in a.failures()] == ["k1"]
        assert a.put(record("k1")) is True
        assert b.put(record("k1", completion="other")) is False
        assert [r.completion for r in b.records()] == ["c"] and a.failures() == []
        assert a.totals().done == 1 and a.totals().correct == 1


#: Per-attempt timeout of the fault test (seconds), far above a good reply's latency under load.
TIMEOUT = 3.0


def test_every_prompt_done_once_under_20_percent_faults(csqa300, tmp_path):
    from aligncot_tasks.data import load_rows

    jobs = jobs_for(load_rows("tau/commonsense_qa", None, "train"))
    # The per-attempt timeout separates the two kinds of reply the assertions tell apart: a
    # "slow" fault (6 s) always exceeds it, a good reply never may, as a good reply the client
    # gave up on is served twice. On a loaded machine a good reply took over 0.4 s (the old
    # timeout: max(served) was 2 in 2 of 6 runs beside 6 busy processes); 3 s leaves room.
    with FaultServer(fault_rate=0.2, slow_seconds=2 * TIMEOUT, seed=1) as server:
        backend = OpenAIBackend(
            "m", server.url, SECRET, concurrency=32, timeout=TIMEOUT, max_attempts=30, backoff_base=0.01
        )
        with Store(tmp_path / "ann") as store:
            totals = annotate(jobs, backend, store, progress=False)
            rows = list(store.records())
    assert totals.done == 300 and totals.failed == 0
    assert len({(r.doc_id, r.sample) for r in rows}) == 300
    assert set(server.outcomes) >= {"429", "500", "503", "slow", "malformed", "drop"}
    assert sum(server.outcomes.values()) - server.outcomes["ok"] >= 30
    # every prompt was answered exactly once; retries only followed faults
    assert len(server.served) == 300 and max(server.served.values()) == 1
    assert sum(r.attempts for r in rows) == sum(server.counts.values())


def cli_args(url: str, out: Path, *extra: str) -> list[str]:
    return [
        "--task",
        TASK,
        "--backend",
        "openai",
        "--base-url",
        url,
        "--model",
        "m",
        "--out",
        str(out),
        "--timeout",
        "2",
        "--quiet",
        *extra,
    ]


def stored_count(db_path: Path) -> int:
    """Completions committed so far (0 while the run is still creating the database)."""
    if not db_path.exists():
        return 0
    db = sqlite3.connect(db_path)
    try:
        return db.execute("SELECT count(*) FROM completions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def test_kill_and_restart_repeats_no_stored_request(csqa300, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": SECRET}
    with FaultServer(latency=0.05) as server:
        out = tmp_path / "killed"
        cmd = [sys.executable, "-m", "training", "annotate", *cli_args(server.url, out, "--concurrency", "4")]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        stored = 0
        while stored < 60 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
            stored = stored_count(out / DB_NAME)
        assert proc.poll() is None, "run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        with Store(out) as store:
            before = {r.prompt for r in store.records()}
        assert 60 <= len(before) < 300
        server.counts.clear()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert not before & {k.split("|seed=")[0] for k in server.counts}  # nothing stored was asked again
        reference = tmp_path / "reference"
        assert (
            CliRunner()
            .invoke(
                annotate_cmd, cli_args(server.url, reference, "--concurrency", "16"), env={"OPENAI_API_KEY": SECRET}
            )
            .exit_code
            == 0
        )

    def rows(d):
        return [
            {k: v for k, v in json.loads(line).items() if k not in ("attempts", "started_at", "finished_at")}
            for line in (d / EXPORT_NAME).read_text().splitlines()
        ]

    assert rows(out) == rows(reference) and len(rows(out)) == 300


def test_failures_are_recorded_and_the_key_never_written(tmp_path, monkeypatch):
    root = tmp_path / "data"
    rows = csqa_rows(6)
    rows[2]["question"] = f"{ECHO_AUTH} please"  # the server answers 400 quoting the Authorization header
    write_split(root, "train", rows)
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    out = tmp_path / "ann"
    with FaultServer(fault_rate=0.3, faults=("500",), seed=3) as server:
        result = CliRunner().invoke(
            annotate_cmd,
            cli_args(server.url, out, "--max-attempts", "4", "--allow-failures"),
            env={"OPENAI_API_KEY": SECRET},
            catch_exceptions=False,
        )
    assert result.exit_code == 0  # a partial failure exits 0 only when allowed (tests/test_bad_input_annotate.py)
    assert server.outcomes["echo"] == 1  # a non-retryable 4xx is not retried
    with Store(out) as store:
        assert store.totals().done == 5 and [f["attempts"] for f in store.failures()] == [1]
        assert "400" in store.failures()[0]["error"]
    assert "failed 1" in result.output
    written = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert written and not any(SECRET.encode() in b for b in written)
    assert SECRET not in result.output and "***" in store_error(out)
    (out / EXPORT_NAME).unlink()
    exported = CliRunner().invoke(annotate_cmd, ["--out", str(out), "--export"])
    assert exported.exit_code == 0 and "done 5, failed 1" in exported.output
    lines = [json.loads(x) for x in (out / EXPORT_NAME).read_text().splitlines()]
    assert len(lines) == 5 and all(
        {"doc_id", "sample", "prompt", "completion", "extracted", "correct", "finish_reason"} <= set(x) for x in lines
    )


def store_error(out: Path) -> str:
    with Store(out) as store:
        return store.failures()[0]["error"]


def test_cli_defaults_and_errors(csqa300, tmp_path):
    with FaultServer() as server:
        runner = CliRunner()
        ok = runner.invoke(annotate_cmd, cli_args(server.url, tmp_path / "k", "--samples", "3", "--limit", "2"), env={})
        assert ok.exit_code == 0, ok.output
        assert {b["temperature"] for b in server.bodies} == {0.7} and {b["max_tokens"] for b in server.bodies} == {512}
        assert sorted(b["seed"] for b in server.bodies) == [0, 0, 1, 1, 2, 2]
        server.bodies.clear()
        cont = runner.invoke(
            annotate_cmd,
            cli_args(server.url, tmp_path / "c", "--chat", "--prefill", "continue", "--limit", "1"),
            env={},
        )
        assert cont.exit_code == 0, cont.output
        (body,) = server.bodies
        assert body["messages"][-1] == {"role": "assistant", "content": suite.get_task(TASK).gen_prefix}
        assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    bbh = runner.invoke(
        annotate_cmd, ["--task", "aligncot_bbh_cot_navigate", "--model", "m", "--out", str(tmp_path / "b")]
    )
    assert bbh.exit_code != 0 and "no training split" in bbh.output
    no_key = runner.invoke(
        annotate_cmd, ["--task", TASK, "--model", "m", "--out", str(tmp_path / "n")], env={"OPENAI_API_KEY": ""}
    )
    assert no_key.exit_code != 0 and "OPENAI_API_KEY" in no_key.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "n").exists()


def test_vllm_backend_missing_is_a_clear_error(csqa300, tmp_path):
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vLLM is installed here")
    result = CliRunner().invoke(
        annotate_cmd,
        ["--task", TASK, "--backend", "vllm", "--model", "x", "--limit", "1", "--out", str(tmp_path / "v"), "--quiet"],
    )
    assert result.exit_code == 1 and "pip install 'aligncot[vllm]'" in result.output
    assert not (tmp_path / "v").exists()  # refused before anything was written


def test_two_runs_on_one_directory_never_duplicate(csqa300, tmp_path):
    import threading

    from aligncot_tasks.data import load_rows

    jobs = jobs_for(load_rows("tau/commonsense_qa", None, "train")[:120])
    outcomes = []
    with FaultServer(latency=0.01) as server:

        def run() -> None:
            with Store(tmp_path / "shared") as store:
                backend = OpenAIBackend("m", server.url, SECRET, concurrency=8, backoff_base=0.01)
                outcomes.append(annotate(jobs, backend, store, progress=False).done)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    with Store(tmp_path / "shared") as store:
        rows = list(store.records())
    assert outcomes == [120, 120]  # both runs finished, each sees every answer once
    assert len(rows) == 120 and len({(r.doc_id, r.sample) for r in rows}) == 120


@pytest.mark.parametrize("retry_after", ["0.4", None])
def test_429_waits_at_least_retry_after(retry_after, monkeypatch):
    """The wait before the retry is the server's hint, else our 10 ms backoff. The planned wait is
    recorded (a wall-clock upper bound would fail on a loaded machine); the hint's lower bound is
    also checked on the clock."""
    jobs = jobs_for(csqa_rows(1))
    kwargs = {"retry_after": retry_after} if retry_after else {"faults": ("503",)}
    planned: list[float] = []
    wait = OpenAIBackend.wait
    monkeypatch.setattr(OpenAIBackend, "wait", lambda self, state: planned.append(wait(self, state)) or planned[-1])
    with FaultServer(fault_rate=1.0, **{"faults": ("429",), **kwargs}) as server:
        out = []
        start = time.perf_counter()
        OpenAIBackend("m", server.url, SECRET, max_attempts=2, backoff_base=0.01).run(jobs, lambda j, r: out.append(r))
        waited = time.perf_counter() - start
    assert out[0].text is None and out[0].attempts == 2 and sum(server.counts.values()) == 2
    assert ("RateLimitError" if retry_after else "InternalServerError") in out[0].error
    assert planned  # tenacity also asks for a wait after the last attempt, which it does not sleep
    if retry_after:
        assert all(0.4 <= w <= 0.41 for w in planned) and waited >= 0.4
    else:
        assert all(w <= 0.04 for w in planned)  # wait_random_exponential(0.01): at most 0.01 x 2^attempt


def test_runs_opening_one_new_directory_at_once_all_succeed(tmp_path):
    """Setting up WAL takes a lock SQLite does not wait for; concurrent opens must not fail."""
    import threading

    errors = []

    def open_store(path) -> None:
        try:
            with Store(path):
                pass
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            errors.append(e)

    for i in range(40):  # the race hit about 1 in 240 opens before the fix
        threads = [threading.Thread(target=open_store, args=(tmp_path / str(i),)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert errors == []
