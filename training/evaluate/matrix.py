"""``aligncot eval``: lm-eval over a matrix of models x tasks, one results file per cell.

Each cell (model, task or group) is one ``lm_eval.simple_evaluate`` call whose results and
samples are written by lm-eval's own :class:`EvaluationTracker`, so the output directory
has exactly the layout of ``lm_eval --output_path OUT --log_samples``:
``OUT/<model name>/results_<date>.json`` and ``samples_<task>_<date>.jsonl``. The results
file carries one extra top-level key, :data:`CELL_KEY`, describing the cell; a re-run skips
every cell whose key matches a finished file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from training.device import default_device, free_memory
from training.distill.model_loading import silence_library_deprecations
from training.evaluate.config import CONTINUOUS_BATCH, EvalConfig, ModelSpec
from training.evaluate.lm_eval_log import lm_eval_log_to

#: lm-eval's log, in the output directory.
LOG_NAME = "lm_eval.log"
#: Top-level key added to each results file: what cell (model spec, task, limit) it holds.
CELL_KEY = "aligncot_cell"


def resolve_device(device: str | None) -> str:
    """``device`` or, when None, ``cuda`` if torch sees a GPU else ``cpu``."""
    return device or default_device()


def cell_key(spec: ModelSpec, task: str, cfg: EvalConfig, device: str) -> dict:
    """What identifies a finished cell (compared as a whole on re-run)."""
    return {
        "model": asdict(spec),
        "backend": spec.lm_eval_backend(device),
        "task": task,
        "limit": cfg.limit,
        "gen_kwargs": cfg.gen_kwargs,
        "model_args": spec.lm_eval_args(device),
    }


def model_dir(output_dir: str | os.PathLike, name: str) -> Path:
    """``OUT/<model name>``, sanitised as lm-eval does."""
    from lm_eval.utils import sanitize_model_name

    return Path(output_dir) / sanitize_model_name(name)


def finished_cells(directory: Path) -> list[dict]:
    """Cell keys of the complete results files in ``directory`` (results and all samples files).

    A file cut short by a kill is not valid JSON and does not count; neither does a results
    file whose samples were not all written.
    """
    done = []
    for path in sorted(directory.glob("results_*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        date_id = path.stem.removeprefix("results_")
        leaves = data.get("configs", {})
        if CELL_KEY in data and all((directory / f"samples_{t}_{date_id}.jsonl").is_file() for t in leaves):
            done.append(data[CELL_KEY])
    return done


def build_lm(spec: ModelSpec, device: str):
    """Instantiate the lm-eval model once; every pending cell of this row reuses it."""
    from lm_eval.api.registry import get_model

    backend = spec.lm_eval_backend(device)
    if backend == "hf-continuous":
        import training.generation.lm_eval_backend  # noqa: F401  (registers the name with lm-eval)

        default: int | str = CONTINUOUS_BATCH
    else:
        default = 1 if device == "cpu" else "auto"
    batch = spec.batch_size if spec.batch_size is not None else default
    # device is already part of an hf model's args; API models have none.
    return get_model(backend).create_from_arg_string(spec.lm_eval_args(device), {"batch_size": batch})


def evaluate_cell(lm, spec: ModelSpec, task: str, cfg: EvalConfig, device: str, task_manager) -> Path:
    """Run one cell and write its lm-eval results + samples files; return the results path."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import sanitize_model_name

    tracker = EvaluationTracker(output_path=str(cfg.output_dir))
    results = lm_eval.simple_evaluate(
        model=lm,
        model_args=spec.lm_eval_args(device),
        tasks=[task],
        task_manager=task_manager,
        limit=cfg.limit,
        gen_kwargs=cfg.gen_kwargs,
        log_samples=True,
        evaluation_tracker=tracker,
        apply_chat_template=spec.chat_template,
        device=device,
    )
    samples = results.pop("samples")
    # A pre-built LM is logged by class; record the backend name (the leaderboard shows it).
    results["config"]["model"] = spec.lm_eval_backend(device)
    results[CELL_KEY] = cell_key(spec, task, cfg, device)
    # The row label is ours, not the path lm-eval would derive from pretrained/peft.
    tracker.general_config_tracker.model_name = spec.name
    tracker.general_config_tracker.model_name_sanitized = sanitize_model_name(spec.name)
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return model_dir(cfg.output_dir, spec.name) / f"results_{tracker.date_id}.json"


def lm_eval_command(spec: ModelSpec, task: str, cfg: EvalConfig, device: str) -> str:
    """The plain ``lm_eval`` command that evaluates the same cell (printed for reproduction).

    An ``hf-continuous`` row is reproduced by lm-eval's own ``hf`` (the reference path: the
    plain ``lm_eval`` command cannot load a model registered by this package).

    >>> cfg = EvalConfig((ModelSpec("s", "/m", "hf", chat_template=True),), ("aligncot_cot",), "out", limit=5)
    >>> lm_eval_command(cfg.models[0], "aligncot_cot", cfg, "cpu")  # doctest: +NORMALIZE_WHITESPACE
    'lm_eval run --model hf --model_args pretrained=/m,dtype=float32,device=cpu --tasks aligncot_cot
     --include_path $(aligncot tasks --path) --output_path out --log_samples --limit 5 --apply_chat_template'
    """
    parts = [
        f"lm_eval run --model {reference_backend(spec.lm_eval_backend(device))} "
        f"--model_args {spec.lm_eval_args(device)} --tasks {task}",
        f"--include_path $(aligncot tasks --path) --output_path {cfg.output_dir} --log_samples",
    ]
    parts += [f"--limit {cfg.limit}"] if cfg.limit is not None else []
    parts += [f"--gen_kwargs {cfg.gen_kwargs}"] if cfg.gen_kwargs else []
    parts += ["--apply_chat_template"] if spec.chat_template else []
    return " ".join(parts)


def reference_backend(backend: str) -> str:
    """The plain-lm-eval model name that reproduces ``backend``.

    >>> reference_backend("hf-continuous"), reference_backend("local-completions")
    ('hf', 'local-completions')
    """
    return "hf" if backend == "hf-continuous" else backend


def run_matrix(cfg: EvalConfig, echo: Callable[[str], None] = print) -> list[Path]:
    """Evaluate every pending cell of the matrix; return the results files written.

    Cells already finished with the same key are skipped, so an interrupted run resumes.
    lm-eval's own log goes to ``OUT/lm_eval.log``, not the console.
    """
    cfg.check_local_paths()  # before the output directory or any model exists
    silence_library_deprecations()
    with lm_eval_log_to(Path(cfg.output_dir) / LOG_NAME) as log:
        echo(f"lm-eval's log: {log}")
        return _run_cells(cfg, echo)


def row_task_manager(spec: ModelSpec, device: str):
    """The suite's ``TaskManager`` for one model row, its lm-eval model args as task metadata.

    ``lm_eval --model_args`` puts them there itself; aligncot_tasks/lm_task.py finds the row's
    tokenizer in them (``tokenizer``, else ``pretrained`` + ``gguf_file``) to report ``truncated``.
    """
    from lm_eval.tasks import TaskManager
    from lm_eval.utils import simple_parse_args_string

    import aligncot_tasks

    metadata = simple_parse_args_string(spec.lm_eval_args(device))
    return TaskManager(include_path=str(aligncot_tasks.TASKS_DIR), include_defaults=False, metadata=metadata)


def _run_cells(cfg: EvalConfig, echo) -> list[Path]:
    device = resolve_device(cfg.device)
    written: list[Path] = []
    n_cells, k = len(cfg.models) * len(cfg.tasks), 0
    for spec in cfg.models:
        done = finished_cells(model_dir(cfg.output_dir, spec.name))
        lm = None
        for task in cfg.tasks:
            k += 1
            label = f"[{k}/{n_cells}] {spec.name} x {task}"
            if cell_key(spec, task, cfg, device) in done:
                echo(f"{label}: done before, skipped")
                continue
            if lm is None:
                echo(f"loading {spec.name} ({spec.lm_eval_backend(device)}: {spec.lm_eval_args(device)})")
                lm, task_manager = build_lm(spec, device), row_task_manager(spec, device)
            echo(f"{label}: same as `{lm_eval_command(spec, task, cfg, device)}`")
            start = time.perf_counter()
            written.append(evaluate_cell(lm, spec, task, cfg, device, task_manager))
            echo(f"{label}: {time.perf_counter() - start:.1f}s -> {written[-1]}")
        if lm is not None:
            lm = None  # the last reference: the next row's weights must not sit beside these
            free_memory()
    return written
