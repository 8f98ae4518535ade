"""Each torch process the pipeline starts gets its share of the cores (training/threads.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from training import threads
from training.errors import UserError
from training.pipeline.recipe import load_recipe
from training.pipeline.run import Pipeline

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "environ, concurrent, cpus, expected",
    [
        ({}, 1, 2, 2),  # one process: every core
        ({}, 2, 2, 1),  # served teacher beside a student on 2 cores: one each
        ({}, 2, 16, 8),
        ({}, 4, 2, 1),  # more processes than cores: still one thread, never zero
        ({"OMP_NUM_THREADS": "3"}, 2, 16, 3),  # the user's value wins
        ({"OMP_NUM_THREADS": " 6,2 "}, 1, 2, 6),  # nested OpenMP form: torch's pool is the outer level
    ],
)
def test_thread_count(environ, concurrent, cpus, expected):
    assert threads.thread_count(concurrent, environ, cpus) == expected


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_bad_omp_num_threads_is_one_line_error(value):
    with pytest.raises(UserError, match=f"OMP_NUM_THREADS='{value}'"):
        threads.torch_env({"OMP_NUM_THREADS": value})


def test_pipeline_children_share_the_cores_while_a_teacher_is_served(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    pipeline = Pipeline(load_recipe("demo")[0], ROOT / "runs" / "unused")
    cpus = threads.usable_cpus()
    assert pipeline.env()["OMP_NUM_THREADS"] == str(cpus)
    pipeline.torch_processes = 2  # what teacher_endpoint sets while the server is up
    assert pipeline.env()["OMP_NUM_THREADS"] == str(max(1, cpus // 2))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert pipeline.env()["OMP_NUM_THREADS"] == "1"


def test_a_child_torch_process_uses_the_threads_it_was_given():
    """torch reads the variable at start-up: the environment alone sizes the child's pool."""
    # MKL_NUM_THREADS, when the caller set it, also sizes torch's pool: leave both to the helper.
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env = threads.torch_env(base, concurrent=threads.usable_cpus())  # as many processes as cores: 1 thread
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"
