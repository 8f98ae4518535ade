"""Reference log-probabilities kept beside the reference adapter, keyed by what determines them.

With ``precompute_ref_log_probs`` trl 1.16 computes the reference model's log-probability of
every chosen and rejected answer once before training, and caches them in the ``datasets``
cache under a fingerprint of the *processed* dataset. That fingerprint hashes trl's own
filter closure, which captures the whole ``DPOConfig`` (beta, loss weights, output_dir ...),
so two variants trained on the same pairs from the same adapter -- the tuning grid's usual
case -- each recompute them (a forward pass over every pair, a large share of a CPU round:
docs/pages/tuning.md), although neither beta nor the loss changes them.

This cache is keyed by exactly what does change them: the reference weights (trl's own
``hash_module`` of the model whose starting adapter is the reference), the tokenised prompt,
chosen and rejected ids, and the few arguments the collator and the forward pass read
(:data:`KEY_ARGS`). It lives beside the round's starting adapter (the reference),
``<start_adapter>.ref_logps/``, one small JSON file per dataset.

Each file also keeps one key per pair (:func:`row_keys`: the same things, for that pair's tokens
alone), so a dataset that shares pairs with one scored before -- a selection of them, as
``min_correct_samples`` or ``balance_pairs`` make -- reuses those pairs' values and computes only
the others. A pair's reference log-probability is its own forward pass under an attention mask,
so it does not depend on which pairs shared its batch beyond float rounding in the padding.
"""

from __future__ import annotations

import hashlib
import json
import logging
import typing
from collections.abc import Iterator
from pathlib import Path

from training import atomic

if typing.TYPE_CHECKING:
    from datasets import Dataset

log = logging.getLogger(__name__)

#: DPOConfig fields that change a reference log-probability: truncation, padding and precision.
KEY_ARGS = ("max_length", "truncation_mode", "ld_alpha", "padding_free", "pad_to_multiple_of", "bf16", "fp16")
#: The processed dataset's columns that hold the tokens the reference scores.
ID_COLUMNS = ("prompt_ids", "chosen_ids", "rejected_ids")
COLUMNS = ("ref_chosen_logps", "ref_rejected_logps")


def cache_dir(start_adapter: str) -> Path | None:
    """Where the reference log-probabilities of a local starting adapter are kept (None: not local).

    >>> cache_dir("out/sft") is None  # no such local directory: a hub id, say
    True
    """
    path = Path(start_adapter)
    return path.with_name(path.name + ".ref_logps") if path.is_dir() else None


def _reference_hash(model_hash: str, args: dict) -> typing.Any:
    """A sha256 fed with what determines every value besides the tokens: the weights and :data:`KEY_ARGS`."""
    return hashlib.sha256(json.dumps({"model": model_hash, "args": args}, sort_keys=True, default=str).encode())


def cache_key(ids: dict[str, list], model_hash: str, args: dict) -> str:
    """The key of one dataset's reference log-probabilities.

    Args:
        ids: The processed dataset's :data:`ID_COLUMNS`, column by column.
        model_hash: trl's ``hash_module`` of the model that holds the reference adapter.
        args: The :data:`KEY_ARGS` values.

    >>> k = cache_key({"prompt_ids": [[1, 2]], "chosen_ids": [[3]], "rejected_ids": [[4]]}, "m", {"max_length": 512})
    >>> k == cache_key({"prompt_ids": [[1, 2]], "chosen_ids": [[3]], "rejected_ids": [[5]]}, "m", {"max_length": 512})
    False
    >>> len(k)
    24
    """
    h = _reference_hash(model_hash, args)
    for column in ID_COLUMNS:
        h.update(column.encode())
        h.update(json.dumps(ids[column]).encode())
    return h.hexdigest()[:24]


def row_keys(ids: dict[str, list], model_hash: str, args: dict) -> list[str]:
    """One key per pair: the reference and :data:`KEY_ARGS`, as in :func:`cache_key`, and that pair's ids.

    >>> ids = {"prompt_ids": [[1], [1]], "chosen_ids": [[2], [2]], "rejected_ids": [[3], [4]]}
    >>> a, b = row_keys(ids, "m", {})
    >>> a == row_keys({c: v[:1] for c, v in ids.items()}, "m", {})[0], a == b
    (True, False)
    """
    reference = _reference_hash(model_hash, args)
    keys = []
    for i in range(len(ids[ID_COLUMNS[0]])):
        h = reference.copy()
        for column in ID_COLUMNS:
            h.update(column.encode())
            h.update(json.dumps(ids[column][i]).encode())
        keys.append(h.hexdigest()[:24])
    return keys


def key_args(args: object) -> dict:
    """The :data:`KEY_ARGS` of a DPOConfig (or recipe) as a JSON-able dict."""
    return {name: getattr(args, name, None) for name in KEY_ARGS}


def _read(path: Path) -> object:
    """A cache file's JSON value, or None when absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load(path: Path, n_rows: int) -> dict[str, list] | None:
    """The cached columns at ``path`` (and its ``rows`` keys when it has them), or None when
    absent, unreadable or of another length."""
    cached = _read(path)
    if cached is None:
        return None
    if not isinstance(cached, dict) or any(len(cached.get(c) or []) != n_rows for c in COLUMNS):
        log.warning("ignoring reference log-probabilities at %s (not %d rows of %s)", path, n_rows, COLUMNS)
        return None
    out = {c: cached[c] for c in COLUMNS}
    rows = cached.get("rows")
    if isinstance(rows, list) and len(rows) == n_rows:
        out["rows"] = rows
    return out


def known_rows(folder: Path, name: str) -> dict[str, tuple[float, float]]:
    """Every pair's (chosen, rejected) reference log-probability cached in ``folder`` for the
    datasets called ``name``, by its :func:`row_keys` key (files written without keys add none).
    """
    index: dict[str, tuple[float, float]] = {}
    for path in sorted(folder.glob(f"{name}-*.json")):
        if not isinstance(cached := _read(path), dict):
            continue
        rows, chosen, rejected = cached.get("rows"), cached.get(COLUMNS[0]), cached.get(COLUMNS[1])
        if not (isinstance(rows, list) and isinstance(chosen, list) and isinstance(rejected, list)):
            continue
        if len(rows) == len(chosen) == len(rejected):
            index.update(zip(rows, zip(chosen, rejected)))
    return index


def save(path: Path, columns: dict[str, list]) -> None:
    """Write the columns atomically; a read-only adapter folder only loses the cache (logged)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(path, columns, indent=None)
    except OSError as e:
        log.warning("reference log-probabilities not cached at %s (%s)", path, e)


def trainer_class(folder: Path | None) -> type:
    """trl's ``DPOTrainer`` whose reference log-probabilities are read from and saved to ``folder``.

    With ``folder`` None (a starting adapter that is not a local directory) it is trl's class.
    """
    from datasets import Dataset, concatenate_datasets
    from trl import DPOTrainer

    if folder is None:
        return DPOTrainer
    root: Path = folder

    class CachedRefDPOTrainer(DPOTrainer):
        """``DPOTrainer`` reusing reference log-probabilities computed for the same tokens and weights."""

        def _precompute_ref_logps(self, dataset: Dataset, name: str, batch_size: int) -> Dataset:
            if not all(c in dataset.column_names for c in ID_COLUMNS):  # not the text layout this cache knows
                return super()._precompute_ref_logps(dataset, name, batch_size)
            ids = {c: list(dataset[c]) for c in ID_COLUMNS}
            args = key_args(self.args)
            key = cache_key(ids, self._precompute_model_hash, args)
            keys = row_keys(ids, self._precompute_model_hash, args)
            path = root / f"{name}-{key}.json"
            cached = load(path, len(dataset))
            if cached is not None:
                log.info("reference log-probabilities of %d %s pairs reused from %s", len(dataset), name, path)
                columns = {c: cached[c] for c in COLUMNS}
                if cached.get("rows") != keys and self.accelerator.is_main_process:
                    save(path, {**columns, "rows": keys})  # written before pairs had keys: add them
                return concatenate_datasets([dataset, Dataset.from_dict(columns)], axis=1)
            known = known_rows(root, name)
            missing = [i for i, k in enumerate(keys) if k not in known]
            if len(missing) == len(dataset):
                out = super()._precompute_ref_logps(dataset, name, batch_size)
                columns = {c: [float(v) for v in out[c]] for c in COLUMNS}
            else:
                log.info(
                    "reference log-probabilities of %d of %d %s pairs reused from %s; computing %d",
                    len(dataset) - len(missing),
                    len(dataset),
                    name,
                    root,
                    len(missing),
                )
                fresh: Iterator[tuple[float, ...]] = iter(())
                if missing:
                    part = super()._precompute_ref_logps(dataset.select(missing), name, batch_size)
                    fresh = iter(zip(*(part[c] for c in COLUMNS)))
                values = [known[k] if k in known else next(fresh) for k in keys]
                columns = {c: [float(v[j]) for v in values] for j, c in enumerate(COLUMNS)}
                out = concatenate_datasets([dataset, Dataset.from_dict(columns)], axis=1)
            if self.accelerator.is_main_process:
                save(path, {**columns, "rows": keys})
            return out

    return CachedRefDPOTrainer
