"""lm-eval runs with samples files, in the layout lm-eval 0.4 writes them: synthetic ones, and
the re-scoring check of the shipped real ones."""

from __future__ import annotations

import json
from pathlib import Path

from training.evaluate.samples import doc_hash

STAMP = "2026-01-01T00-00-00.000001"


def csqa_doc(i: int) -> dict:
    """A CommonsenseQA row in the hub schema (five options, answer C)."""
    return {
        "id": f"q{i}",
        "question": f"Where is thing number {i}?",
        "question_concept": "thing",
        "choices": {"label": list("ABCDE"), "text": ["bank", "library", "store", "mall", "park"]},
        "answerKey": "C",
    }


def sample(task: str, doc_id: int, doc: dict, verdict: str, truncated: bool | None = None) -> dict:
    """One samples line; ``verdict`` is ``c`` (correct), ``w`` (wrong) or ``i`` (invalid).

    ``filtered_resps`` carries the verdict dict the suite's tasks log
    (``{"extracted", "correct", "truncated"}``).
    """
    extracted = {"c": "C", "w": "A", "i": None}[verdict]
    generation = {"c": "So the answer is (C).", "w": "So the answer is (A).", "i": "I am not sure."}[verdict]
    line = {
        "doc_id": doc_id,
        "doc": doc,
        "target": "C",
        "arguments": {"gen_args_0": {"arg_0": f"Question {doc_id} <b>prompt</b>", "arg_1": {}}},
        "resps": [[generation]],
        "filtered_resps": [{"extracted": extracted, "correct": verdict == "c", "truncated": truncated}],
        "filter": "none",
        "metrics": ["acc", "invalid"],
        "doc_hash": doc_hash(doc),
        "acc": float(verdict == "c"),
        "invalid": float(verdict == "i"),
    }
    if truncated is not None:
        line["truncated"] = float(truncated)
    return line


def write_run(
    root: Path,
    model: str,
    tasks: dict[str, list[dict]],
    groups: dict[str, list[str]] | None = None,
    date: float = 1.0,
    stamp: str = STAMP,
) -> Path:
    """Write ``root/<model>/results_<stamp>.json`` and one samples file per task; return the results file.

    Each task's (and group's) accuracy, invalid and truncated shares are computed from its lines.
    """
    from lm_eval.api.metrics import mean_stderr

    out = root / model
    out.mkdir(parents=True, exist_ok=True)
    results, n_samples = {}, {}

    def entry(lines: list[dict]) -> dict:
        acc = [x["acc"] for x in lines]
        metrics = {
            "acc,none": sum(acc) / len(acc),
            "acc_stderr,none": mean_stderr(acc),
            "invalid,none": sum(x["invalid"] for x in lines) / len(lines),
        }
        if all("truncated" in x for x in lines):
            metrics["truncated,none"] = sum(x["truncated"] for x in lines) / len(lines)
        return metrics

    for task, lines in tasks.items():
        (out / f"samples_{task}_{stamp}.jsonl").write_text(
            "".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8"
        )
        results[task] = {"alias": task, **entry(lines)}
        n_samples[task] = {"original": len(lines), "effective": len(lines)}
    for group, members in (groups or {}).items():
        results[group] = {"alias": group, **entry([x for m in members for x in tasks[m]])}
    data = {
        "results": results,
        "group_subtasks": {**{t: [] for t in tasks}, **(groups or {})},
        "n-samples": n_samples,
        "config": {"model": "hf", "model_args": f"pretrained={model}", "limit": None},
        "model_name": model,
        "date": date,
    }
    path = out / f"results_{stamp}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def csqa_lines(verdicts: str, task: str = "aligncot_csqa_cot", truncated: str | None = None) -> list[dict]:
    """Samples lines of a task, one per verdict character; ``truncated`` likewise ('1'/'0')."""
    return [
        sample(task, i, csqa_doc(i), v, None if truncated is None else truncated[i] == "1")
        for i, v in enumerate(verdicts)
    ]


def read_samples(folder: Path, task: str) -> list[dict]:
    """The lines of the one ``samples_<task>_*.jsonl`` in an lm-eval output folder."""
    (path,) = folder.glob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_rescored(folder: Path, task: str) -> list[dict]:
    """Today's scorer gives every logged verdict of ``task`` in ``folder``, and the logged accuracy.

    Returns the samples lines.
    """
    import pytest

    from aligncot_tasks import suite

    spec = suite.all_tasks()[task]
    rows = read_samples(folder, task)
    for row in rows:
        score = suite.score(spec, row["doc"], row["resps"][0][0])
        assert float(score.correct) == row["acc"], (folder.name, row["doc_id"], score.extracted)
        assert float(score.extracted is None) == row["invalid"], (folder.name, row["doc_id"])
    # aligncot eval writes one results file per task (cot and zs runs share a folder)
    (logged,) = [
        data["results"][task]
        for f in folder.glob("results_*.json")
        if task in (data := json.loads(f.read_text(encoding="utf-8")))["results"]
    ]
    assert logged["acc,none"] == pytest.approx(sum(r["acc"] for r in rows) / len(rows))
    return rows
