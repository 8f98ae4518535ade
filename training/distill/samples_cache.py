"""Sampled answers kept beside the adapter that sampled them, keyed by what determines them.

A self-refine round of a sampled kind (``correct_vs_incorrect``, ``correct_samples``) begins by
sampling ``samples_per_question`` answers to every question with its starting adapter: on a CPU
the longest part of a round. Variants that differ only in how they use those answers -- the
pair kind, the loss, the learning rate -- sample the same answers from the same adapter with the
same seed, and the experiment grid runs several of them (docs/pages/tuning.md, Phase 4), so the
answers are kept in ``<start_adapter>.samples/``, one JSON file per ``generate`` call, and a
later call with the same key reads them instead of sampling again.

The key is what the answers depend on: the starting adapter's files (weights and config), the
base model's configuration fingerprint, the prompts and their token budgets in order, the
temperature, the seed and the batch size (the continuous-batching engine draws its random
numbers per step of the batch it runs). Another key samples afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing
from collections.abc import Sequence
from pathlib import Path

from training import atomic

if typing.TYPE_CHECKING:
    from training.distill.preference_pairs import Generate

log = logging.getLogger(__name__)
#: Files of a PEFT adapter directory that determine what it generates.
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")


def cache_dir(start_adapter: str) -> Path | None:
    """Where the answers sampled by a local adapter are kept (None: not a local directory).

    >>> cache_dir("no/such/adapter") is None
    True
    """
    path = Path(start_adapter)
    return path.with_name(path.name + ".samples") if path.is_dir() else None


def adapter_hash(adapter_dir: Path) -> str:
    """sha256 over the adapter's config and weights files (those present), by name."""
    h = hashlib.sha256()
    for name in ADAPTER_FILES:
        path = adapter_dir / name
        if path.is_file():
            h.update(name.encode())
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def cache_key(identity: dict, prompts: Sequence[str], budgets: Sequence[int]) -> str:
    """The key of one call: ``identity`` (adapter, base, sampling settings) plus its prompts and budgets.

    >>> k = cache_key({"seed": 1}, ["p", "q"], [8, 8])
    >>> k == cache_key({"seed": 2}, ["p", "q"], [8, 8]), k == cache_key({"seed": 1}, ["q", "p"], [8, 8]), len(k)
    (False, False, 24)
    """
    h = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    h.update(json.dumps([list(prompts), list(budgets)]).encode())
    return h.hexdigest()[:24]


def cached(generate: Generate, where: Path | None, identity: dict) -> Generate:
    """``generate`` that reads a call's answers from ``where`` when they were sampled before, and keeps new ones.

    Args:
        generate: The sampling ``generate``.
        where: The cache directory (:func:`cache_dir`); None: no cache.
        identity: What besides the prompts and budgets determines the answers (module docstring).
    """
    if where is None:
        return generate

    def call(prompts: Sequence[str], budgets: Sequence[int], desc: str) -> list[str]:
        path = where / f"{cache_key(identity, prompts, budgets)}.json"
        if path.is_file():
            try:
                answers = json.loads(path.read_text(encoding="utf-8"))["answers"]
            except (OSError, ValueError, KeyError, TypeError):
                answers = None  # unreadable: sample again and overwrite it
            if isinstance(answers, list) and len(answers) == len(prompts):
                log.info("%s: %d answers sampled before, read from %s", desc, len(answers), path)
                return answers
        answers = generate(prompts, budgets, desc)
        where.mkdir(parents=True, exist_ok=True)
        atomic.write_json(path, {"identity": identity, "n": len(answers), "answers": answers}, indent=None)
        return answers

    return call
