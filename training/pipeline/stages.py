"""Resumable stages: each records the hash of its inputs and is skipped when nothing changed.

A stage is done when its state file says ``done`` for the current inputs hash and all its
outputs exist. The state file is written atomically before (``running``) and after
(``done``) the work, so a killed run restarts at the stage it was in:

- same inputs as the interrupted attempt: its partial outputs are kept, for the stage's
  own resume (annotation's store, evaluation's finished cells);
- different inputs, or ``--from`` naming it or an earlier stage: its outputs are removed
  first, so nothing computed from old inputs survives.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from training import atomic
from training.errors import UserError

#: Read size when hashing files.
CHUNK = 1 << 20


@dataclass
class Stage:
    """One step of a pipeline.

    Attributes:
        name: Stage name (``--from`` takes it).
        params: JSON-able settings that determine the outputs.
        input_paths: Files/directories whose content determines the outputs (hashed when the
            stage is reached, i.e. after the stages before it ran).
        outputs: Paths that must exist for the stage to count as done.
        clear: Paths removed before re-running with different inputs (default: ``outputs``).
        action: Does the work.
    """

    name: str
    params: dict
    input_paths: list[Path]
    outputs: list[Path]
    action: Callable[[], None]
    clear: list[Path] = field(default_factory=list)


def hash_paths(paths: list[Path]) -> str:
    """SHA-256 over the relative names and bytes of every file under ``paths`` (sorted).

    A missing path hashes as missing, so creating it changes the hash.
    """
    h = hashlib.sha256()
    for root in paths:
        h.update(f"<{root}>".encode())
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root] if root.is_file() else []
        if not root.exists():
            h.update(b"<missing>")
        for f in files:
            h.update(f.relative_to(root).as_posix().encode() if root.is_dir() else b".")
            with open(f, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
    return h.hexdigest()


def inputs_hash(stage: Stage) -> str:
    """Hash of a stage's parameters and input contents."""
    params = json.dumps(stage.params, sort_keys=True, default=str)
    return hashlib.sha256((params + hash_paths(stage.input_paths)).encode()).hexdigest()


def _write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_json(path, state)


def read_state(path: Path) -> dict:
    """A stage's state file, or {} when absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _remove(paths: list[Path]) -> None:
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


@dataclass(frozen=True)
class Outcome:
    """What happened to one stage: ``ran`` or ``skipped``, and the seconds it took."""

    name: str
    status: str
    seconds: float


def run_stages(
    stages: list[Stage], state_dir: Path, start_from: str | None = None, echo: Callable[[str], None] = print
) -> list[Outcome]:
    """Run ``stages`` in order, skipping those already done with the same inputs.

    Args:
        stages: The pipeline.
        state_dir: Where ``<stage>.json`` state files live.
        start_from: Re-run this stage and all after it, whatever their state.
        echo: Progress output.

    Raises:
        UserError: ``start_from`` names no stage.
        Exception: Whatever a stage's action raises (its state stays ``running``).
    """
    names = [s.name for s in stages]
    if start_from is not None and start_from not in names:
        raise UserError(f"--from {start_from!r}: stages are {', '.join(names)}")
    forced = set(names[names.index(start_from) :]) if start_from else set()
    outcomes = []
    for i, stage in enumerate(stages, 1):
        state_path = state_dir / f"{stage.name}.json"
        state = read_state(state_path)
        digest = inputs_hash(stage)
        label = f"[{i}/{len(stages)}] {stage.name}"
        if (
            stage.name not in forced
            and state.get("status") == "done"
            and state.get("hash") == digest
            and all(p.exists() for p in stage.outputs)
        ):
            echo(f"{label}: inputs unchanged, outputs present -> skipped")
            outcomes.append(Outcome(stage.name, "skipped", 0.0))
            continue
        if stage.name in forced or state.get("hash") != digest:
            _remove(stage.clear or stage.outputs)  # computed from other inputs (or asked to redo)
        elif state:
            echo(f"{label}: resuming an interrupted attempt with the same inputs")
        echo(f"{label}: running")
        _write_state(state_path, {"status": "running", "hash": digest, "started": time.time()})
        start = time.perf_counter()
        stage.action()
        missing = [str(p) for p in stage.outputs if not p.exists()]
        if missing:
            raise RuntimeError(f"stage {stage.name} finished without writing {', '.join(missing)}")
        seconds = time.perf_counter() - start
        _write_state(state_path, {"status": "done", "hash": digest, "seconds": seconds, "finished": time.time()})
        echo(f"{label}: done in {seconds:.1f}s")
        outcomes.append(Outcome(stage.name, "ran", seconds))
    return outcomes


def timing_table(outcomes: list[Outcome]) -> str:
    """The end-of-run summary.

    >>> print(timing_table([Outcome("eval", "ran", 12.34), Outcome("demos", "skipped", 0.0)]))
    stage         status      seconds
    eval          ran            12.3
    demos         skipped         0.0
    total                        12.3
    """
    w = max([13, *(len(o.name) + 1 for o in outcomes)])  # a grid's names are <variant>/<stage>
    lines = [f"{'stage':<{w}} {'status':<9} {'seconds':>9}"]
    lines += [f"{o.name:<{w}} {o.status:<9} {o.seconds:>9.1f}" for o in outcomes]
    lines.append(f"{'total':<{w}} {'':<9} {sum(o.seconds for o in outcomes):>9.1f}")
    return "\n".join(lines)
