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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import click
import yaml

from aligncot_tasks.data import DATA_DIR_ENV

#: Top-level key added to each results file: what cell (model spec, task, limit) it holds.
CELL_KEY = "aligncot_cell"
#: lm-eval model backends this command drives.
BACKENDS = ("hf", "local-completions", "local-chat-completions")


class ConfigError(ValueError):
    """An eval config or model spec that cannot be run."""


def _check_keys(cls: type, raw: dict, where: str) -> None:
    known = {f.name for f in fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")


@dataclass(frozen=True)
class ModelSpec:
    """One row of the matrix.

    Attributes:
        name: Row label; also the results sub-directory.
        pretrained: HF model id or directory (``hf``), or the served model's name (API).
        backend: ``hf``, ``local-completions`` or ``local-chat-completions``.
        peft: PEFT adapter directory applied on top of ``pretrained`` (``hf`` only).
        base_url: Endpoint of an OpenAI-compatible server (API backends), e.g.
            ``http://127.0.0.1:8000/v1/completions``.
        tokenizer: Local tokenizer for an API model; without it requests are sent as text.
        chat_template: Whether lm-eval applies the model's chat template.
        dtype: Torch dtype for ``hf`` (default: float32 on CPU, auto on GPU).
        batch_size: lm-eval batch size (default: auto on GPU, 1 on CPU).
        model_args: Further lm-eval model arguments, passed through verbatim.
    """

    name: str
    pretrained: str
    backend: str = "hf"
    peft: str | None = None
    base_url: str | None = None
    tokenizer: str | None = None
    chat_template: bool = False
    dtype: str | None = None
    batch_size: int | str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"model {self.name!r}: backend {self.backend!r} is not one of {', '.join(BACKENDS)}")
        api = self.backend != "hf"
        if api and not self.base_url:
            raise ConfigError(f"model {self.name!r}: an API backend needs base_url")
        if api and self.peft:
            raise ConfigError(f"model {self.name!r}: peft adapters apply to hf models only")
        if self.backend == "local-chat-completions" and not self.chat_template:
            raise ConfigError(f"model {self.name!r}: local-chat-completions sends chat messages; set chat_template: true")

    @classmethod
    def from_dict(cls, raw: dict, where: str = "model") -> ModelSpec:
        """Build a spec from a YAML mapping, naming any unknown key."""
        _check_keys(cls, raw, where)
        return cls(**raw)

    @classmethod
    def from_flag(cls, text: str) -> ModelSpec:
        """Parse ``--model name=x,pretrained=DIR,peft=A,chat_template=true``.

        >>> ModelSpec.from_flag("name=s,pretrained=/m,chat_template=true").chat_template
        True
        """
        raw: dict[str, Any] = {}
        for part in filter(None, text.split(",")):
            key, sep, value = part.partition("=")
            if not sep:
                raise ConfigError(f"--model {text!r}: {part!r} is not key=value")
            raw[key.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
        return cls.from_dict(raw, f"--model {text!r}")

    def lm_eval_args(self, device: str) -> str:
        """The ``--model_args`` string lm-eval receives for this model.

        >>> ModelSpec("s", "/m", peft="/a").lm_eval_args("cpu")
        'pretrained=/m,peft=/a,dtype=float32,device=cpu'
        >>> ModelSpec("t", "tiny", backend="local-completions", base_url="http://h/v1/completions").lm_eval_args("cpu")
        'model=tiny,base_url=http://h/v1/completions,tokenizer_backend=none,tokenized_requests=False'
        """
        if self.backend == "hf":
            args: dict[str, Any] = {"pretrained": self.pretrained, "peft": self.peft}
            args["dtype"] = self.dtype or ("float32" if device == "cpu" else "auto")
            args["device"] = device
        elif self.tokenizer:
            args = {"model": self.pretrained, "base_url": self.base_url, "tokenizer_backend": "huggingface",
                    "tokenizer": self.tokenizer, "tokenized_requests": False}
        else:  # no tokenizer: text in, text out (generation tasks need nothing more)
            args = {"model": self.pretrained, "base_url": self.base_url, "tokenizer_backend": "none",
                    "tokenized_requests": False}
        args.update(self.model_args)
        return ",".join(f"{k}={v}" for k, v in args.items() if v is not None)


@dataclass(frozen=True)
class EvalConfig:
    """The matrix: models x tasks (suite tasks or groups), plus run settings.

    Attributes:
        models: Rows.
        tasks: Columns: task or group names of the suite.
        output_dir: Where lm-eval's results/samples files go.
        limit: Rows per task (smoke runs); None for all.
        gen_kwargs: lm-eval ``--gen_kwargs`` override, e.g. ``max_gen_toks=64``.
        device: ``cpu``/``cuda``; None picks cuda when available.
    """

    models: tuple[ModelSpec, ...]
    tasks: tuple[str, ...]
    output_dir: str = "runs/eval"
    limit: int | float | None = None
    gen_kwargs: str | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        if not self.models:
            raise ConfigError("no models to evaluate (give a config with `models:` or --model)")
        if not self.tasks:
            raise ConfigError("no tasks to evaluate (give `tasks:` or --tasks)")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ConfigError(f"model names must be unique, got {names}")
        from aligncot_tasks import suite

        known = set(suite.all_tasks()) | set(suite.groups())
        for task in self.tasks:
            if task not in known:
                raise ConfigError(f"unknown task or group {task!r} (run `aligncot tasks` to list them)")

    @classmethod
    def from_dict(cls, raw: dict, where: str = "eval config") -> EvalConfig:
        """Build from a YAML mapping; ``models`` entries become :class:`ModelSpec`."""
        _check_keys(cls, raw, where)
        raw = dict(raw)
        raw["models"] = tuple(ModelSpec.from_dict(m, f"{where}: models[{i}]") for i, m in enumerate(raw.get("models") or []))
        raw["tasks"] = tuple(raw.get("tasks") or ())
        return cls(**raw)


def load_config(path: str | os.PathLike) -> dict:
    """Read a YAML config file into a mapping."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return raw


def resolve_device(device: str | None) -> str:
    """``device`` or, when None, ``cuda`` if torch sees a GPU else ``cpu``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cell_key(spec: ModelSpec, task: str, cfg: EvalConfig, device: str) -> dict:
    """What identifies a finished cell (compared as a whole on re-run)."""
    return {"model": asdict(spec), "task": task, "limit": cfg.limit, "gen_kwargs": cfg.gen_kwargs,
            "model_args": spec.lm_eval_args(device)}


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

    batch = spec.batch_size if spec.batch_size is not None else (1 if device == "cpu" else "auto")
    # device is already part of an hf model's args; API models have none.
    return get_model(spec.backend).create_from_arg_string(spec.lm_eval_args(device), {"batch_size": batch})


def evaluate_cell(lm, spec: ModelSpec, task: str, cfg: EvalConfig, device: str, task_manager) -> Path:
    """Run one cell and write its lm-eval results + samples files; return the results path."""
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.utils import sanitize_model_name

    tracker = EvaluationTracker(output_path=str(cfg.output_dir))
    results = lm_eval.simple_evaluate(
        model=lm, model_args=spec.lm_eval_args(device), tasks=[task], task_manager=task_manager,
        limit=cfg.limit, gen_kwargs=cfg.gen_kwargs, log_samples=True, evaluation_tracker=tracker,
        apply_chat_template=spec.chat_template, device=device,
    )
    samples = results.pop("samples")
    results["config"]["model"] = spec.backend  # a pre-built LM is logged by class; record the backend name
    results[CELL_KEY] = cell_key(spec, task, cfg, device)
    # The row label is ours, not the path lm-eval would derive from pretrained/peft.
    tracker.general_config_tracker.model_name = spec.name
    tracker.general_config_tracker.model_name_sanitized = sanitize_model_name(spec.name)
    tracker.save_results_aggregated(results=results, samples=samples)
    for name in results["configs"]:
        tracker.save_results_samples(task_name=name, samples=samples[name])
    return model_dir(cfg.output_dir, spec.name) / f"results_{tracker.date_id}.json"


def run_matrix(cfg: EvalConfig, echo=click.echo) -> list[Path]:
    """Evaluate every pending cell of the matrix; return the results files written.

    Cells already finished with the same key are skipped, so an interrupted run resumes.
    """
    import aligncot_tasks
    from lm_eval.tasks import TaskManager

    device = resolve_device(cfg.device)
    task_manager = TaskManager(include_path=str(aligncot_tasks.TASKS_DIR), include_defaults=False)
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
                echo(f"loading {spec.name} ({spec.backend}: {spec.lm_eval_args(device)})")
                lm = build_lm(spec, device)
            start = time.perf_counter()
            written.append(evaluate_cell(lm, spec, task, cfg, device, task_manager))
            echo(f"{label}: {time.perf_counter() - start:.1f}s -> {written[-1]}")
        del lm  # free the weights before the next row loads
    return written


@click.command("eval")
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "model_flags", multiple=True, metavar="SPEC",
              help="Add a row: name=N,pretrained=DIR[,peft=ADAPTER][,chat_template=true]"
                   "[,backend=local-completions,base_url=URL]. Repeatable.")
@click.option("--tasks", help="Comma-separated suite tasks or groups (replaces the config's).")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Results directory (lm-eval layout).")
@click.option("--limit", type=float, help="Rows per task, for smoke runs (<1: a fraction).")
@click.option("--gen-kwargs", help="lm-eval generation overrides, e.g. max_gen_toks=64.")
@click.option("--device", help="cpu or cuda (default: cuda when available).")
@click.option("--data-dir", type=click.Path(exists=True, file_okay=False),
              help=f"Read datasets from local JSON Lines (sets {DATA_DIR_ENV}).")
def eval_command(config, model_flags, tasks, output_dir, limit, gen_kwargs, device, data_dir) -> None:
    """Evaluate models x tasks with lm-eval; finished cells are skipped on re-run.

    CONFIG is a YAML file like harness_configs/eval/*.yaml; flags override its keys.
    """
    try:
        raw = load_config(config) if config else {}
        raw.setdefault("models", [])
        raw["models"] = list(raw["models"]) + [asdict(ModelSpec.from_flag(m)) for m in model_flags]
        overrides = {"tasks": tasks and tasks.split(","), "output_dir": output_dir, "gen_kwargs": gen_kwargs,
                     "device": device, "limit": limit if limit is None or limit < 1 else int(limit)}
        raw.update({k: v for k, v in overrides.items() if v is not None})
        cfg = EvalConfig.from_dict(raw, str(config or "flags"))
    except (ConfigError, TypeError, yaml.YAMLError) as e:
        raise click.ClickException(str(e)) from None
    if data_dir:
        os.environ[DATA_DIR_ENV] = str(Path(data_dir).resolve())
    written = run_matrix(cfg)
    click.echo(f"{len(written)} cell(s) evaluated; results under {cfg.output_dir}")
