"""The one owner of the run-directory convention: ``<out>.run``, ``<out>.pairs``, ``<out>.rounds``, ``checkpoint-*``.

A trainer writing adapter ``OUT`` keeps its Trainer checkpoints and TensorBoard logs in
``OUT.run`` and (DPO) its preference pairs in ``OUT.pairs``. Whether a run can be resumed is
decided here only, by :func:`last_checkpoint`: the pipeline asks it before passing
``--resume`` and the trainers ask it before resuming, so the two cannot disagree.

This is ``transformers.trainer_utils.get_last_checkpoint`` (highest ``checkpoint-<step>``
directory) plus a completeness check; it is written out rather than imported because
importing ``transformers.trainer_utils`` pulls in torch and peft (~6 s), which the pipeline's
parent process never needs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

#: Trainer checkpoint directories: ``checkpoint-<global step>`` (transformers' PREFIX_CHECKPOINT_DIR).
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
#: Written by the Trainer after weights, optimizer, scheduler and RNG states.
TRAINER_STATE = "trainer_state.json"


def run_dir(output_dir: str | Path) -> Path:
    """Checkpoints and logs of the run that writes ``output_dir``.

    >>> run_dir("out/sft").as_posix()
    'out/sft.run'
    """
    out = Path(output_dir)
    return out.with_name(out.name + ".run")


def pairs_dir(output_dir: str | Path) -> Path:
    """Default home of the preference pairs of the DPO run that writes ``output_dir``.

    >>> pairs_dir("out/dpo").as_posix()
    'out/dpo.pairs'
    """
    out = Path(output_dir)
    return out.with_name(out.name + ".pairs")


def rounds_dir(output_dir: str | Path) -> Path:
    """Home of the finished rounds (pairs, adapter, statistics) of a multi-round DPO run.

    >>> rounds_dir("out/dpo").as_posix()
    'out/dpo.rounds'
    """
    out = Path(output_dir)
    return out.with_name(out.name + ".rounds")


def checkpoint_complete(checkpoint: Path) -> bool:
    """Whether a Trainer checkpoint was written to the end.

    The Trainer writes ``trainer_state.json`` last, and not atomically: a run killed while
    checkpointing leaves it missing, empty or cut short. Such a checkpoint cannot be resumed from.
    """
    try:
        json.loads((checkpoint / TRAINER_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def last_checkpoint(run: Path) -> Path | None:
    """The complete checkpoint with the highest step in the run directory ``run``, if any."""
    if not run.is_dir():
        return None
    steps = [(int(m.group(1)), p) for p in run.iterdir() if (m := CHECKPOINT_RE.match(p.name)) and p.is_dir()]
    complete = [(step, p) for step, p in steps if checkpoint_complete(p)]
    return max(complete)[1] if complete else None
