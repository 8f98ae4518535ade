"""Self-refine rounds: where each round's pairs, adapter and statistics live, and where a killed run resumes.

Round *i* samples with round *i-1*'s adapter (round 1: the SFT adapter) and continues training
it, so trl's frozen ``ref`` copy of the starting adapter -- the DPO reference -- is round
*i-1*'s policy. With one round (the default) the layout is the single-stage one: pairs in
``<output_dir>.pairs``, checkpoints in ``<output_dir>.run``, the adapter in ``output_dir``. With
``rounds: N > 1``::

    <output_dir>.rounds/round-<i>/pairs/       the round's preference pairs (+ pair_stats.json)
    <output_dir>.rounds/round-<i>/adapter/     the round's published adapter (with its model card)
    <output_dir>.rounds/round-<i>/run/         its checkpoints and logs, moved there when it ends
    <output_dir>.rounds/round-<i>/stats.json   counts, steps, losses and wall time of the round
    <output_dir>                               the last round's adapter, its card listing every round

The round in progress trains in ``<output_dir>.run`` (so the pipeline's ``--resume`` test, a
checkpoint there, holds for rounds too) beside a marker naming the round. A round whose adapter
is published is finished and reused; a killed run restarts at the first unfinished round,
from its last checkpoint with ``--resume``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from training import atomic
from training.distill import artifacts, checkpoints, model_card
from training.errors import UserError

#: In the run directory: the round whose checkpoints it holds.
MARKER = "aligncot_round.json"
#: In a round's directory: what the round did (also listed in the final model card).
STATS = "stats.json"


@dataclass(frozen=True)
class Round:
    """One self-refine round.

    Attributes:
        index: 1-based round number.
        total: Number of rounds of the run.
        start_adapter: The adapter this round samples with and continues training.
        pairs: Directory of its preference pairs.
        adapter: Where its adapter is published.
        home: Its directory under ``<output_dir>.rounds`` (None for a single round).
    """

    index: int
    total: int
    start_adapter: str
    pairs: Path
    adapter: Path
    home: Path | None

    @property
    def finished(self) -> bool:
        return (self.adapter / "adapter_config.json").is_file()

    def stats(self) -> dict:
        """The saved statistics of a finished round (of a multi-round run: one with a ``home``)."""
        assert self.home is not None
        return json.loads((self.home / STATS).read_text(encoding="utf-8"))


def plan(output_dir: str | Path, sft_adapter: str, pairs: Path, rounds: int) -> list[Round]:
    """The rounds of a run writing ``output_dir`` (``pairs``: the single-round pairs directory).

    >>> [(r.index, Path(r.start_adapter).as_posix()) for r in plan("o/dpo", "o/sft", Path("o/dpo.pairs"), 2)]
    [(1, 'o/sft'), (2, 'o/dpo.rounds/round-1/adapter')]
    """
    out = Path(output_dir)
    if rounds == 1:
        return [Round(1, 1, str(sft_adapter), pairs, out, None)]
    root, start, out_rounds = checkpoints.rounds_dir(out), str(sft_adapter), []
    for i in range(1, rounds + 1):
        home = root / f"round-{i}"
        out_rounds.append(Round(i, rounds, start, home / "pairs", home / "adapter", home))
        start = str(home / "adapter")
    return out_rounds


def prepare(output_dir: Path, run_dir: Path, rounds: list[Round], resume: bool) -> tuple[int, Path | None]:
    """Check the directories before any model loads: the first round to run and the checkpoint to resume.

    A run directory left by a finished round (killed between publishing its adapter and moving
    its checkpoints away) is moved into that round's directory first.

    Raises:
        UserError: ``output_dir`` exists; ``--resume`` with nothing to resume; a fresh start
            over checkpoints; checkpoints that belong to no round of this run.
    """
    if len(rounds) == 1:
        return 0, artifacts.prepare_run(output_dir, run_dir, resume)
    if output_dir.exists():
        raise UserError(f"output directory {output_dir} exists already (remove it or choose another output_dir)")
    done = 0
    while done < len(rounds) and rounds[done].finished:
        done += 1
    marked = _marked_round(run_dir)
    if marked is not None and 1 <= marked <= done:
        stash_run(run_dir, rounds[marked - 1])
    checkpoint = checkpoints.last_checkpoint(run_dir)
    if checkpoint is not None and marked != done + 1:
        raise UserError(f"{run_dir} holds checkpoints of no unfinished round of this run: delete it to start over")
    if resume and checkpoint is None and done == 0:
        raise UserError(
            f"--resume: no checkpoint in {run_dir} and no finished round in {checkpoints.rounds_dir(output_dir)}"
        )
    if not resume and checkpoint is not None:
        raise UserError(f"{run_dir} holds checkpoints of an earlier run: pass --resume, or delete it to start over")
    return done, checkpoint


def _marked_round(run_dir: Path) -> int | None:
    try:
        return int(json.loads((run_dir / MARKER).read_text(encoding="utf-8"))["round"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def mark(run_dir: Path, rnd: Round) -> None:
    """Name the round whose checkpoints ``run_dir`` is about to hold (multi-round runs)."""
    if rnd.home is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic.write_json(run_dir / MARKER, {"round": rnd.index})


def save_stats(rnd: Round, stats: dict) -> None:
    """Write the round's statistics (before its adapter is published: that marks it finished)."""
    if rnd.home is not None:
        rnd.home.mkdir(parents=True, exist_ok=True)
        atomic.write_json(rnd.home / STATS, stats)


def stash_run(run_dir: Path, rnd: Round) -> None:
    """Move a finished round's run directory into the round's own directory (multi-round runs)."""
    if rnd.home is None or not run_dir.exists():
        return
    if (rnd.home / "run").exists():  # already there: what is left is a stale copy
        shutil.rmtree(run_dir)
    else:
        os.rename(run_dir, rnd.home / "run")


def publish_final(rounds: list[Round], output_dir: Path, meta: dict) -> Path:
    """Publish the last round's adapter as ``output_dir``, its card listing every round (atomic)."""

    def write(tmp: Path) -> None:
        shutil.copytree(rounds[-1].adapter, tmp, dirs_exist_ok=True)
        model_card.write(tmp, {**meta, "rounds": [r.stats() for r in rounds]})

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return atomic.publish_dir(output_dir, write)
