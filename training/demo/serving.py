"""Serve a local model directory as an OpenAI-compatible endpoint with ``transformers serve``.

The offline demo and the tests use it to put a teacher behind the same API backend a real
third-party model would use. The server binds 127.0.0.1 on a free port, every wait is
bounded, and the process is always stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from training.errors import ServeError

HOST = "127.0.0.1"
#: Seconds to wait for the server to answer /health before giving up.
START_TIMEOUT_S = 180.0
#: Seconds to wait for the server to exit after SIGTERM before killing it.
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def serve_command(model_dir: str | os.PathLike, port: int) -> list[str]:
    """``transformers serve`` pinned to one model, run by this interpreter (so the same
    environment, whatever is first on PATH)."""
    return [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        str(model_dir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def served(
    model_dir: str | os.PathLike, timeout_s: float = START_TIMEOUT_S, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run ``transformers serve`` on ``model_dir`` for the duration of the block.

    Args:
        model_dir: A directory loadable by ``from_pretrained``; requests must name it as
            their ``model`` (the server is pinned to it).
        timeout_s: Bound on the wait for the server to become healthy.
        env: The server's environment (default: this process's), e.g. with its share of the
            cores in ``OMP_NUM_THREADS`` (:mod:`training.threads`).

    Yields:
        The server root URL, e.g. ``http://127.0.0.1:41234/v1``.

    Raises:
        ServeError: The server exited or did not answer in time (its log is quoted).
    """
    port = free_port()
    root = f"http://{HOST}:{port}"
    env = {**(os.environ if env is None else env), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(serve_command(Path(model_dir), port), stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout_s
            while not _healthy(f"{root}/health"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    why = "exited" if proc.poll() is not None else f"did not answer within {timeout_s:.0f}s"
                    raise ServeError(f"transformers serve {why}; log tail:\n{log.read()[-2000:]}")
                time.sleep(0.5)
            yield f"{root}/v1"
        finally:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)
