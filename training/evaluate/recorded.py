"""Recorded rows: generations made elsewhere, scored by the suite, written as an lm-eval run.

A model with no weights here (a closed API run last year, a paper's released outputs) still
belongs on the leaderboard. ``aligncot score --results-dir DIR`` writes what
``lm_eval --output_path DIR --log_samples`` would have written for the task --
``results_<stamp>.json`` and ``samples_<task>_<stamp>.jsonl`` -- so the leaderboard,
``aligncot compare`` and the drill-down pages read it like any other run. The results file
carries an ``aligncot_recorded`` block (input file, prompt note) that marks the row.

Each question gets lm-eval's own ``doc_id`` (its index in the task's evaluation split) and
``doc_hash``, so paired comparisons with live runs pair the same questions. Its metrics are
the live task's (:func:`aligncot_tasks.lm_metrics.row_metrics` of the scorer's verdict):
``acc``, ``invalid``, ``no_cue`` where the scorer tells whether an answer was cued, and the
chance-normalised accuracy of rows with options; not ``truncated``, since a recorded
generation's token budget is unknown.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from aligncot_tasks import suite
from aligncot_tasks.data import DataError, load_rows
from aligncot_tasks.lm_metrics import row_metrics, verdict
from aligncot_tasks.scoring import Score
from training import atomic
from training.errors import UserError
from training.evaluate.samples import doc_hash

#: Key of the results file's block that marks a recorded row.
RECORDED_KEY = "aligncot_recorded"
#: Prompt note when the caller does not name another prompt.
SUITE_PROMPT = "not stated (assumed the suite's)"


def split_index(spec: suite.TaskSpec) -> dict[str, int]:
    """doc_hash -> lm-eval doc_id (row index) for the task's evaluation split.

    Raises:
        UserError: The split cannot be loaded (offline without ``ALIGNCOT_DATA_DIR``).
    """
    b = spec.benchmark
    try:
        rows = load_rows(b.hub_id, spec.dataset_config, b.eval_split)
    except DataError as e:
        raise UserError(f"cannot number the questions as lm-eval does: {e}") from None
    return {doc_hash(row): i for i, row in enumerate(rows)}


def stderr(values: list[float]) -> float:
    """lm-eval's standard error of a mean (0 for a single value, as lm-eval cannot divide).

    >>> round(stderr([1.0, 0.0, 1.0, 0.0]), 4)
    0.2887
    """
    # imported here: lm-eval is slow to import, and the leaderboard reads this module's constants
    from lm_eval.api.metrics import mean_stderr

    return mean_stderr(values) if len(values) > 1 else 0.0


def sample_line(spec: suite.TaskSpec, doc_id: int, row: dict, generation: str, result: Score) -> dict:
    """One samples line in lm-eval's layout, with the metrics the live task gives the same verdict."""
    prompt = row.get("prompt") or suite.prompt_text(spec, row["doc"])
    target = suite.item(spec, row["doc"]).gold
    # truncated=None: the budget is unknown, so the metric is left out as a live run without a tokenizer does.
    metrics = row_metrics(
        [verdict(result.extracted, result.correct, None, result.cued)], suite.chance(spec, row["doc"])
    )
    return {
        "doc_id": doc_id,
        "doc": row["doc"],
        "target": target,
        "arguments": {"gen_args_0": {"arg_0": prompt, "arg_1": {}}},
        "resps": [[generation]],
        "filtered_resps": [generation],
        "filter": "none",
        "metrics": list(metrics),
        "doc_hash": doc_hash(row["doc"]),
        **metrics,
    }


def write_run(
    results_dir: Path, spec: suite.TaskSpec, label: str, lines: list[dict], source: Path, prompt_note: str | None
) -> list[Path]:
    """Write ``results_<stamp>.json`` and the task's samples file under ``results_dir/<label>``
    (samples first: a results file is only ever seen beside its samples)."""
    lines = sorted(lines, key=lambda s: s["doc_id"])  # lm-eval's order
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%f")
    n = len(lines)
    entry: dict = {"alias": spec.name}
    for metric in (m for m in lines[0]["metrics"] if all(m in s for s in lines)):
        values = [s[metric] for s in lines]
        entry |= {f"{metric},none": sum(values) / n, f"{metric}_stderr,none": stderr(values)}
    data = {
        "results": {spec.name: entry},
        "group_subtasks": {spec.name: []},
        "n-samples": {spec.name: {"original": n, "effective": n}},
        "config": {"model": "recorded", "model_args": "", "limit": None},
        "model_name": label,
        "date": now,
        RECORDED_KEY: {"input": str(source), "prompt": prompt_note or SUITE_PROMPT},
    }
    out = results_dir / "".join(c if c.isalnum() or c in "-._" else "_" for c in label)
    out.mkdir(parents=True, exist_ok=True)
    return [
        atomic.write_jsonl(out / f"samples_{spec.name}_{stamp}.jsonl", lines),
        atomic.write_json(out / f"results_{stamp}.json", data, indent=2),
    ]


def doc_ids(spec: suite.TaskSpec, rows: list[dict], source: Path) -> list[int]:
    """lm-eval's doc_id of every row: its own ``doc_id`` when given, else found by hash.

    Raises:
        UserError: A row whose document is not in the evaluation split.
    """
    if all("doc_id" in r for r in rows):
        return [int(r["doc_id"]) for r in rows]
    index = split_index(spec)
    out = []
    for n, row in enumerate(rows, 1):
        if (i := index.get(doc_hash(row["doc"]))) is None:
            raise UserError(
                f"{source}: row {n}: doc is not in {spec.name}'s evaluation split "
                f"({spec.benchmark.eval_split}); give each row a `doc_id`"
            )
        out.append(i)
    return out
