"""Symbolic equivalence of two LaTeX answers, hard-bounded in time, in a worker process.

Deciding that ``\\frac{\\sqrt2}{2}`` equals ``\\sqrt{2}/2`` needs a LaTeX parser and sympy,
and sympy can run for minutes (or exhaust memory) on a hostile answer. Signal-based
timeouts only work in the main thread, and lm-eval may score from any thread, so the
check runs in a persistent worker subprocess: each call waits at most :data:`TIME_BOUND_S`,
and a worker that overruns is killed and replaced (the item scores incorrect). The worker
parses LaTeX with ``latex2sympy2_extended``'s ANTLR grammar through ``math_verify`` --
never ``eval``/``sympify``/``parse_expr`` on model text.

Run as ``python -m aligncot_tasks.scoring.symbolic`` it *is* the worker: JSON requests
``{"id", "gold", "pred"}`` on stdin, ``{"id", "ok"}`` replies on stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import queue
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Any

if importlib.util.find_spec("math_verify") is None:  # fail when the task loads, not silently per item
    raise ImportError("MATH answer checking needs math-verify: pip install 'math-verify[antlr4_13_2]'")

#: Most seconds to wait for one equivalence check before killing the worker (killing and
#: respawning fit in the remaining quarter second of the 2 s per-item budget).
TIME_BOUND_S = 1.75
#: Most seconds a fresh worker may take to import its parser (not counted per item).
STARTUP_TIMEOUT_S = 120.0
#: Address-space cap of the worker (POSIX): a hostile answer fails with MemoryError instead
#: of exhausting the machine.
WORKER_MEMORY_BYTES = 4 << 30
#: Longer answers are not parsed (no real answer is this long; parsing cost grows with it).
MAX_ANSWER_CHARS = 500

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
#: A line from the worker (``{"ready": true}`` or a verdict), or None: the worker ended.
Reply = dict[str, Any] | None


class SymbolicChecker:
    """Client of one worker process; thread-safe, restarts the worker when needed.

    Args:
        time_bound: Seconds one check may take.
    """

    def __init__(self, time_bound: float = TIME_BOUND_S) -> None:
        self.time_bound = time_bound
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[Reply] = queue.Queue()
        self._ready = False
        self._pid = os.getpid()
        self._seq = 0
        self.kills = 0  # workers killed for overrunning or dying (observability for tests/benchmarks)

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "aligncot_tasks.scoring.symbolic"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self._replies = queue.Queue()
        self._ready = False
        self._pid = os.getpid()
        threading.Thread(target=_pump, args=(self._proc.stdout, self._replies), daemon=True).start()

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                # The reader thread may be closing it too.
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
            self._proc = None

    def _restart(self) -> None:
        # Spawn the replacement at once: it imports while the caller moves on.
        self.kills += 1
        self._kill()
        self._spawn()

    def _ensure_ready(self) -> bool:
        if self._pid != os.getpid():
            self._proc = None  # forked: that worker belongs to the parent process
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._spawn()
        if not self._ready:
            with contextlib.suppress(queue.Empty):
                self._ready = self._replies.get(timeout=STARTUP_TIMEOUT_S) == {"ready": True}
            if not self._ready:
                warnings.warn(
                    "the symbolic answer checker did not start; retrying (this item scores incorrect)",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self._restart()
        return self._ready

    def warm_up(self) -> bool:
        """Start the worker and wait until it can check; True when it is ready."""
        with self._lock:
            return self._ensure_ready()

    def equivalent(self, gold: str, pred: str) -> bool:
        """Whether ``pred`` is mathematically equivalent to ``gold``; False on any failure,
        on answers longer than :data:`MAX_ANSWER_CHARS` and after :attr:`time_bound`."""
        if not gold.strip() or not pred.strip() or max(len(gold), len(pred)) > MAX_ANSWER_CHARS:
            return False
        with self._lock:
            if not self._ensure_ready():
                return False
            self._seq += 1
            deadline = time.monotonic() + self.time_bound
            assert self._proc is not None and self._proc.stdin is not None  # spawned, with stdin=PIPE
            try:
                self._proc.stdin.write(json.dumps({"id": self._seq, "gold": gold, "pred": pred}) + "\n")
                self._proc.stdin.flush()
                while True:
                    reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
                    if reply is None:
                        raise EOFError("worker died")
                    if reply.get("id") == self._seq:
                        return bool(reply.get("ok"))
            except (queue.Empty, OSError, EOFError, ValueError):
                self._restart()
                return False

    def close(self) -> None:
        """Stop the worker (a later call starts a new one)."""
        with self._lock:
            if self._pid == os.getpid():
                self._kill()


def _pump(stream: IO[str], replies: queue.Queue[Reply]) -> None:
    # Reader thread: worker stdout lines -> queue; None marks the worker's end.
    try:
        for line in stream:
            try:
                replies.put(json.loads(line))
            except ValueError:
                continue
    except (OSError, ValueError):
        pass  # the stream was closed under us: the worker was killed
    replies.put(None)


_CHECKER = SymbolicChecker()
atexit.register(_CHECKER.close)


def equivalent(gold: str, pred: str) -> bool:
    r"""Bounded symbolic equivalence through the shared worker.

    >>> equivalent(r"\frac{\sqrt{2}}{2}", r"\sqrt2/2"), equivalent("x+1", "x+2")
    (True, False)
    """
    return _CHECKER.equivalent(gold, pred)


def warm_up() -> bool:
    """Start the shared worker now (e.g. before timing checks); True when it is ready."""
    return _CHECKER.warm_up()


# ---------------------------------------------------------------- worker side


def _serve() -> None:
    import logging

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass  # no such limit on this platform: the time bound still holds
    from functools import lru_cache

    from math_verify import LatexExtractionConfig, parse, verify

    logging.disable(logging.WARNING)  # math_verify warns that we disabled its signal timeouts
    config = [LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=False)]

    @lru_cache(maxsize=4096)
    def parsed(answer: str) -> list[Any]:
        # Wrapped in \boxed{} so math_verify takes exactly this answer, not a guess.
        found: list[Any] = parse(
            "\\boxed{" + answer + "}", extraction_config=config, fallback_mode="no_fallback", parsing_timeout=None
        )
        return found

    verify(parsed("x+1"), parsed("1+x"), timeout_seconds=None)  # load the grammar before saying ready
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but replies may reach the protocol stream
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = None
        try:
            request = json.loads(line)
            gold, pred = parsed(request["gold"]), parsed(request["pred"])
            ok = bool(gold and pred and verify(gold, pred, timeout_seconds=None))
        except Exception:  # noqa: BLE001 -- any parser/sympy failure means "not shown equal"
            ok = False
        out.write(json.dumps({"id": request.get("id") if isinstance(request, dict) else None, "ok": ok}) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
