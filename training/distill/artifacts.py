"""Run directories and the finished adapter: written atomically, with its model card.

A run trains inside ``<output_dir>.run`` (checkpoints, TensorBoard logs). Only when
training has ended is the adapter saved -- into a hidden temporary sibling of
``output_dir`` that is then renamed to ``output_dir`` in one step. A killed run therefore
leaves checkpoints to resume from, but never an ``output_dir`` that looks finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from training import atomic
from training.distill import model_card
from training.distill.checkpoints import last_checkpoint
from training.errors import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase, Trainer


def prepare_run(output_dir: Path, run_dir: Path, resume: bool) -> Path | None:
    """Check the output and run directories before any model is loaded.

    Returns:
        The checkpoint to resume from (None: start fresh).

    Raises:
        UserError: ``output_dir`` exists already; ``--resume`` without a checkpoint; a
            fresh start over an earlier run's checkpoints.
    """
    if output_dir.exists():
        raise UserError(f"output directory {output_dir} exists already (remove it or choose another output_dir)")
    checkpoint = last_checkpoint(run_dir)
    if resume and checkpoint is None:
        raise UserError(f"--resume: no checkpoint in {run_dir}")
    if not resume and checkpoint is not None:
        raise UserError(f"{run_dir} holds checkpoints of an earlier run: pass --resume, or delete it to start over")
    return checkpoint


def save_adapter(trainer: Trainer, tokenizer: PreTrainedTokenizerBase, output_dir: Path, meta: dict) -> Path | None:
    """Save the trained adapter (only the ``default`` one), tokenizer and card, atomically.

    Every process must call this: under DeepSpeed ZeRO-3 / FSDP the weights are gathered
    collectively first. Only the main process writes. trl's DPO keeps a frozen copy of
    the starting adapter named ``ref`` beside ``default``; ``selected_adapters`` leaves it out.

    Returns:
        ``output_dir`` on the main process, None elsewhere.
    """
    sharded = trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled
    state_dict = trainer.accelerator.get_state_dict(trainer.model) if sharded else None
    if not trainer.accelerator.is_main_process:
        return None
    model = trainer.accelerator.unwrap_model(trainer.model)

    def write(tmp: Path) -> None:
        model.save_pretrained(str(tmp), selected_adapters=["default"], state_dict=state_dict)
        tokenizer.save_pretrained(str(tmp))
        (tmp / "log_history.json").write_text(json.dumps(trainer.state.log_history, indent=1), encoding="utf-8")
        model_card.write(tmp, meta)

    output_dir.parent.mkdir(parents=True, exist_ok=True)
    return atomic.publish_dir(output_dir, write)
