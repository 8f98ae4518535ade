"""``aligncot annotate`` with a wrong input: a failed run never exits 0, a refused connection
is named, nothing empty is written, a damaged database is one line (issue 22, defects 4, 6)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from fault_server import ECHO_AUTH, FaultServer
from synthetic_csqa import csqa_rows, write_split

from training.annotate.cli import annotate
from training.annotate.store import DB_NAME, EXPORT_NAME, Store

TASK = "aligncot_csqa_cot"


@pytest.fixture()
def data(tmp_path, monkeypatch) -> Path:
    """Four synthetic csqa training rows; the third makes the fault server answer a non-retryable 400."""
    rows = csqa_rows(4)
    rows[2]["question"] = f"{ECHO_AUTH} please"
    root = tmp_path / "data"
    write_split(root, "train", rows)
    monkeypatch.setenv("ALIGNCOT_DATA_DIR", str(root))
    return root


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(url: str, out: Path, *extra: str):
    args = ["--task", TASK, "--model", "m", "--base-url", url, "--out", str(out), "--quiet", "--timeout", "2"]
    return CliRunner().invoke(annotate, [*args, "--max-attempts", "1", *extra], env={"OPENAI_API_KEY": "k"})


def test_closed_port_exits_1_says_refused_and_leaves_nothing(data, tmp_path):
    out = tmp_path / "ann"
    result = run(f"http://127.0.0.1:{closed_port()}/v1", out, "--limit", "2")
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: all 2 requests failed") and "connection refused" in last, result.output
    assert "Timeout" not in result.output
    assert not out.exists()  # neither an empty annotations.jsonl nor a store of failures


def test_all_failed_into_an_existing_dir_writes_no_export(data, tmp_path):
    out = tmp_path / "ann"
    out.mkdir()
    result = run(f"http://127.0.0.1:{closed_port()}/v1", out, "--limit", "1", "--allow-failures")
    assert result.exit_code == 1 and "all 1 requests failed" in result.output
    assert not (out / EXPORT_NAME).exists()


def test_partial_failure_exits_1_unless_allowed(data, tmp_path):
    with FaultServer() as server:
        refused = run(server.url, tmp_path / "a")
        allowed = run(server.url, tmp_path / "b", "--allow-failures")
    assert refused.exit_code == 1 and "1 of 4 requests failed" in refused.output, refused.output
    assert "--allow-failures" in refused.output
    assert (tmp_path / "a" / EXPORT_NAME).read_text().count("\n") == 3  # the answers are kept
    assert allowed.exit_code == 0, allowed.output
    assert "1 requests failed after retries (--allow-failures)" in allowed.output


def test_allow_failures_is_documented():
    help_text = CliRunner().invoke(annotate, ["--help"]).output
    assert "--allow-failures" in help_text and "Exit status" in help_text


def test_export_of_a_corrupt_database_is_one_line(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"not a database, just bytes " * 10)
    result = CliRunner().invoke(annotate, ["--out", str(tmp_path), "--export"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "not a database" in result.output, result.output
    assert not (tmp_path / EXPORT_NAME).exists()


def test_export_of_an_empty_store_writes_nothing(tmp_path):
    with Store(tmp_path) as store:
        store.fail("k", TASK, "d", 0, "boom", 1)
    result = CliRunner().invoke(annotate, ["--out", str(tmp_path), "--export"])
    assert result.exit_code == 1 and "holds no completion" in result.output
    assert not (tmp_path / EXPORT_NAME).exists()
