"""``aligncot eval`` configuration: the matrix of models x tasks, as YAML or flags.

A config file (``harness_configs/eval/*.yaml``) has ``models`` (each a :class:`ModelSpec`),
``tasks`` (suite tasks or groups) and run settings; unknown keys fail naming the key.
:meth:`ModelSpec.lm_eval_args` is the one place a row becomes lm-eval ``--model_args``.
"""

from __future__ import annotations

import os
import typing
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool
from pydantic.dataclasses import dataclass

from training.errors import ConfigError
from training.validation import STRICT, build
from training.yaml_mapping import load_mapping, split_pair

#: lm-eval model backends this command drives. ``hf-continuous`` is lm-eval's ``hf`` with
#: continuous-batching generation (training/generation/lm_eval_backend.py); ``auto`` picks it
#: on CPU and ``hf`` on GPU.
Backend = Literal["hf", "hf-continuous", "auto", "local-completions", "local-chat-completions"]
BACKENDS: tuple[str, ...] = typing.get_args(Backend)
#: Backends that load the model here (the rest talk to a server).
LocalBackend = Literal["hf", "hf-continuous", "auto"]
LOCAL_BACKENDS: tuple[str, ...] = typing.get_args(LocalBackend)
#: Sequences in flight for ``hf-continuous`` when no batch size is given.
CONTINUOUS_BATCH = 32


def leaf_tasks(names: tuple[str, ...]) -> list[str]:
    """Suite tasks under ``names`` (groups expanded recursively), in order.

    >>> leaf_tasks(("aligncot_csqa_cot", "aligncot_math_word_zs"))
    ['aligncot_csqa_cot', 'aligncot_gsm8k_zs', 'aligncot_multiarith_zs']
    """
    from aligncot_tasks import suite

    groups, out = suite.groups(), []
    for name in names:
        out += leaf_tasks(tuple(groups[name]["task"])) if name in groups else [name]
    return out


@dataclass(frozen=True, config=STRICT)
class ModelSpec:
    """One row of the matrix.

    Attributes:
        name: Row label; also the results sub-directory.
        pretrained: HF model id or directory (``hf``), or the served model's name (API).
        backend: One of :data:`BACKENDS`; ``auto``: ``hf-continuous`` on CPU, ``hf`` on GPU.
        peft: PEFT adapter directory applied on top of ``pretrained`` (local backends only).
        base_url: Endpoint of an OpenAI-compatible server (API backends), e.g.
            ``http://127.0.0.1:8000/v1/completions``.
        tokenizer: Local tokenizer for an API model; without it requests are sent as text.
        chat_template: Whether lm-eval applies the model's chat template.
        dtype: Torch dtype for ``hf`` (default: float32 on CPU, auto on GPU).
        batch_size: lm-eval batch size; for ``hf-continuous`` the most sequences decoding at
            once (default: 32 for ``hf-continuous``, else auto on GPU, 1 on CPU).
        model_args: Further lm-eval model arguments, passed through verbatim.
    """

    name: str
    pretrained: str
    backend: Backend = "auto"
    peft: str | None = None
    base_url: str | None = None
    tokenizer: str | None = None
    chat_template: StrictBool = False
    dtype: str | None = None
    batch_size: Annotated[int, Field(ge=1)] | Literal["auto"] | None = None
    model_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api = self.backend not in LOCAL_BACKENDS
        if api and not self.base_url:
            raise ConfigError(f"model {self.name!r}: an API backend needs base_url")
        if api and self.peft:
            raise ConfigError(f"model {self.name!r}: peft adapters apply to hf models only")
        if self.backend == "local-chat-completions" and not self.chat_template:
            raise ConfigError(
                f"model {self.name!r}: local-chat-completions sends chat messages; set chat_template: true"
            )

    @classmethod
    def from_dict(cls, raw: dict, where: str = "model") -> ModelSpec:
        """Build a spec from a YAML mapping, naming any unknown or mistyped key."""
        return build(cls, raw, where, ConfigError)

    @classmethod
    def from_flag(cls, text: str) -> ModelSpec:
        """Parse ``--model name=x,pretrained=DIR,peft=A,chat_template=true``.

        >>> ModelSpec.from_flag("name=s,pretrained=/m,chat_template=true").chat_template
        True
        """
        raw: dict[str, Any] = {}
        for part in filter(None, text.split(",")):
            key, value = split_pair(part, f"--model {text!r}:", error=ConfigError)
            raw[key] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
        return cls.from_dict(raw, f"--model {text!r}")

    def lm_eval_backend(self, device: str) -> str:
        """The lm-eval model name this row runs under on ``device`` (``auto`` resolved).

        >>> ModelSpec("s", "/m").lm_eval_backend("cpu"), ModelSpec("s", "/m").lm_eval_backend("cuda")
        ('hf-continuous', 'hf')
        """
        if self.backend == "auto":
            return "hf-continuous" if device == "cpu" else "hf"
        return self.backend

    def lm_eval_args(self, device: str) -> str:
        """The ``--model_args`` string lm-eval receives for this model.

        >>> ModelSpec("s", "/m", peft="/a").lm_eval_args("cpu")
        'pretrained=/m,peft=/a,dtype=float32,device=cpu'
        >>> ModelSpec("t", "tiny", backend="local-completions", base_url="http://h/v1/completions").lm_eval_args("cpu")
        'model=tiny,base_url=http://h/v1/completions,tokenizer_backend=none,tokenized_requests=False'
        """
        if self.backend in LOCAL_BACKENDS:
            args: dict[str, Any] = {"pretrained": self.pretrained, "peft": self.peft}
            args["dtype"] = self.dtype or ("float32" if device == "cpu" else "auto")
            args["device"] = device
        elif self.tokenizer:
            args = {
                "model": self.pretrained,
                "base_url": self.base_url,
                "tokenizer_backend": "huggingface",
                "tokenizer": self.tokenizer,
                "tokenized_requests": False,
            }
        else:  # no tokenizer: text in, text out (generation tasks need nothing more)
            args = {
                "model": self.pretrained,
                "base_url": self.base_url,
                "tokenizer_backend": "none",
                "tokenized_requests": False,
            }
        args.update(self.model_args)
        return ",".join(f"{k}={v}" for k, v in args.items() if v is not None)


@dataclass(frozen=True, config=STRICT)
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
    limit: Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, lt=1)] | None = None
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
        ranked = [t for t in leaf_tasks(self.tasks) if suite.get_task(t).variant == suite.LL]
        for m in self.models:
            api = m.backend not in LOCAL_BACKENDS
            if ranked and api and (m.backend == "local-chat-completions" or not m.tokenizer):
                raise ConfigError(
                    f"model {m.name!r}: {ranked[0]} ranks options by log-likelihood, which needs prompt "
                    "logprobs: an API row needs local-completions, a `tokenizer` and a server that echoes logprobs"
                )

    def check_local_paths(self) -> None:
        """Fail in one line, before any model loads, on a model or adapter directory that is absent.

        A ``pretrained`` that is not written as a path (``org/name``) may be a hub id and is
        left to transformers.
        """
        for m in self.models:
            if m.backend not in LOCAL_BACKENDS:
                continue
            for key, value in (("pretrained", m.pretrained), ("peft", m.peft)):
                if value and _looks_like_path(value) and not Path(value).expanduser().is_dir():
                    raise ConfigError(f"model {m.name!r}: {key} directory {value} does not exist")

    @classmethod
    def from_dict(cls, raw: dict, where: str = "eval config") -> EvalConfig:
        """Build from a YAML mapping (``models`` entries become :class:`ModelSpec`), naming any bad key."""
        if isinstance(raw, dict):
            raw = {**raw, "models": tuple(raw.get("models") or ()), "tasks": tuple(raw.get("tasks") or ())}
        return build(cls, raw, where, ConfigError)


def _looks_like_path(value: str) -> bool:
    """Whether ``value`` names a local directory rather than a hub id.

    >>> _looks_like_path("/m"), _looks_like_path("./m"), _looks_like_path("org/name"), _looks_like_path("a/b/c")
    (True, True, False, True)
    """
    return value.startswith(("/", ".", "~")) or value.count("/") > 1 or Path(value).exists()


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML config file into a mapping."""
    return load_mapping(path, ConfigError)
