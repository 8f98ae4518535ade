"""Training recipes: a flat YAML file -> a validated dataclass, alignment-handbook style.

A recipe names every choice of a run (base model, data, LoRA, optimiser, schedule). The
YAML keys are exactly the dataclass fields; an unknown key is an error that names it, and
values are checked in ``__post_init__`` so that a bad recipe fails before any model is
loaded. Any field can be overridden on the command line as ``key=value`` (the value is read
as YAML, so ``report_to=[none]`` and ``packing=false`` work).

Defaults are the papers': QLoRA with LoRA on all linear layers, 4 epochs, lr 2e-5, weight
decay 0.001, cosine schedule, warmup ratio 0.03 (Ranaldi & Freitas 2024) for SFT; DPO with
lr 1e-6, beta 0.1, 100 warmup steps, effective batch 128, at most 1000 steps, keeping the
checkpoint with the lowest validation loss (Self-refine Instruction-tuning).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from training.distill import checkpoints
from training.errors import UserError

QUANTIZATION = ("auto", "4bit", "none")
CPU_DTYPES = ("float32", "bfloat16")
GENERATION_BACKENDS = ("auto", "hf", "vllm")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup", "cosine_with_restarts")


@dataclass
class TrainRecipe:
    """Fields shared by SFT and DPO.

    Attributes:
        base_model: Hub id or local directory of the student's base model.
        data: Output directory of ``aligncot demos`` (``dataset/`` or ``train.jsonl`` +
            ``validation.jsonl``), or the ``dataset`` directory itself.
        output_dir: Where the finished adapter goes; it appears only when training ends.
            Checkpoints and TensorBoard logs go to ``<output_dir>.run``.
        quantization: ``auto`` (4-bit NF4 on CUDA, none on CPU), ``4bit`` or ``none``.
        cpu_dtype: Weight dtype of an unquantized base on CPU.
        report_to: Trainer loggers (``tensorboard``, ``wandb``, ``none``...).
        attn_implementation: Passed to ``from_pretrained`` (e.g. ``flash_attention_2``, whose
            variable-length kernel makes packed rows cost per example, or ``sdpa_varlen``, which
            does the same with SDPA; None: ``sdpa_varlen`` for packed SFT on CPU, else
            transformers' default, SDPA).
    """

    base_model: str
    data: str
    output_dir: str
    quantization: str = "auto"
    cpu_dtype: str = "float32"
    max_length: int = 2048
    num_train_epochs: float = 4.0
    max_steps: int = -1
    learning_rate: float = 2e-5
    weight_decay: float = 0.001
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.03
    warmup_steps: int = 0
    per_device_train_batch_size: int = 4
    per_device_eval_batch_size: int = 4
    gradient_accumulation_steps: int = 1
    gradient_checkpointing: bool = True
    logging_steps: int = 10
    save_total_limit: int = 2
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    seed: int = 42
    trust_remote_code: bool = False
    attn_implementation: str | None = None

    def __post_init__(self) -> None:
        _coerce_fields(self)
        _choice(self, "quantization", QUANTIZATION)
        _choice(self, "cpu_dtype", CPU_DTYPES)
        _choice(self, "lr_scheduler_type", SCHEDULERS)
        for name in (
            "max_length",
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "gradient_accumulation_steps",
            "logging_steps",
            "num_train_epochs",
            "learning_rate",
        ):
            _positive(self, name)
        if not 0 <= self.warmup_ratio < 1:
            raise UserError(f"recipe key 'warmup_ratio' must be in [0, 1), got {self.warmup_ratio}")
        if self.weight_decay < 0 or self.warmup_steps < 0:
            raise UserError("recipe keys 'weight_decay' and 'warmup_steps' must be >= 0")
        if self.max_steps == 0 or self.max_steps < -1:
            raise UserError(f"recipe key 'max_steps' must be -1 (use num_train_epochs) or > 0, got {self.max_steps}")

    @property
    def run_dir(self) -> Path:
        """Checkpoints and logs of the run (kept after it ends, for TensorBoard and resuming)."""
        return checkpoints.run_dir(self.output_dir)


@dataclass
class SFTRecipe(TrainRecipe):
    """``aligncot sft``: instruction-tuning on demonstrations, loss on the completion only.

    Attributes:
        lora_target_modules: ``all-linear`` or a list of module names.
        lora_modules_to_save: Modules trained in full and saved with the adapter (none by default).
        packing: Best-fit-decreasing packing of examples into ``max_length`` rows, trained
            padding-free (no pad token is processed; attention does not cross examples).
        chat_template: Train on the prompts rendered with the student's chat template, as
            lm-eval's ``--apply_chat_template`` evaluates them (training/distill/chat_format.py).
    """

    lora_r: int = 64
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_target_modules: str | list[str] = "all-linear"
    lora_modules_to_save: list[str] | None = None
    packing: bool = True
    chat_template: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive(self, "lora_r")
        _positive(self, "lora_alpha")
        if not 0 <= self.lora_dropout < 1:
            raise UserError(f"recipe key 'lora_dropout' must be in [0, 1), got {self.lora_dropout}")
        if isinstance(self.lora_target_modules, list) and not self.lora_target_modules:
            raise UserError("recipe key 'lora_target_modules' must not be empty")


@dataclass
class DPORecipe(TrainRecipe):
    """``aligncot self-refine``: student preference pairs, then DPO from the SFT adapter.

    DPO trains the SFT adapter further, so the LoRA shape is the SFT adapter's own.

    Attributes:
        sft_adapter: Adapter directory written by ``aligncot sft``.
        beta: DPO temperature.
        effective_batch_size: If set, gradient accumulation is derived from it:
            ``per_device_train_batch_size * processes * accumulation == effective_batch_size``.
        eval_steps: Validation (and checkpoint) interval in optimiser steps.
        keep_correct_only: Keep only pairs whose chosen (CoT) answer the suite's scorer
            marks correct.
        generation_batch_size: Prompts per batch when the student answers.
        max_new_tokens: Generation budget; None uses the suite's per-variant budget.
        generation_backend: ``auto`` (vLLM when installed and CUDA is there, else HF), ``hf``, ``vllm``.
        pairs_dir: Where the preference pairs are saved; default ``<output_dir>.pairs``.
            Existing pairs there are reused (delete them to regenerate).
    """

    sft_adapter: str = ""
    num_train_epochs: float = 1.0
    max_steps: int = 1000
    learning_rate: float = 1e-6
    warmup_ratio: float = 0.0
    warmup_steps: int = 100
    beta: float = 0.1
    effective_batch_size: int | None = 128
    eval_steps: int = 50
    keep_correct_only: bool = True
    generation_batch_size: int = 16
    max_new_tokens: int | None = None
    generation_backend: str = "auto"
    pairs_dir: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.sft_adapter:
            raise UserError("sft_adapter is required: the adapter directory written by `aligncot sft`")
        _positive(self, "beta")
        _positive(self, "eval_steps")
        _positive(self, "generation_batch_size")
        _choice(self, "generation_backend", GENERATION_BACKENDS)
        if self.effective_batch_size is not None:
            _positive(self, "effective_batch_size")

    @property
    def pairs_path(self) -> Path:
        """Directory of the saved preference pairs."""
        return Path(self.pairs_dir) if self.pairs_dir else checkpoints.pairs_dir(self.output_dir)

    def accumulation_steps(self, world_size: int) -> int:
        """Gradient accumulation that reaches ``effective_batch_size`` on ``world_size`` processes.

        >>> r = DPORecipe(base_model="b", data="d", output_dir="o", sft_adapter="a",
        ...               per_device_train_batch_size=8, effective_batch_size=128)
        >>> r.accumulation_steps(1), r.accumulation_steps(4)
        (16, 4)
        """
        if self.effective_batch_size is None:
            return self.gradient_accumulation_steps
        per_step = self.per_device_train_batch_size * world_size
        if self.effective_batch_size % per_step:
            raise UserError(
                f"effective_batch_size={self.effective_batch_size} is not a multiple of "
                f"per_device_train_batch_size x processes = {per_step}"
            )
        return self.effective_batch_size // per_step


RecipeT = typing.TypeVar("RecipeT", bound=TrainRecipe)


def parse_override(text: str) -> tuple[str, object]:
    """Split a ``key=value`` override; the value is parsed as YAML.

    >>> parse_override("learning_rate=1e-4")
    ('learning_rate', '1e-4')
    >>> parse_override("report_to=[none]")
    ('report_to', ['none'])
    >>> parse_override("packing=false")
    ('packing', False)
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"override {text!r} is not of the form key=value")
    return key.strip(), yaml.safe_load(value) if value.strip() else ""


def load_recipe(cls: type[RecipeT], path: str | Path | None, overrides: typing.Sequence[str] = ()) -> RecipeT:
    """Read a YAML recipe, apply ``key=value`` overrides, validate.

    Args:
        cls: :class:`SFTRecipe` or :class:`DPORecipe`.
        path: YAML file, or None to build the recipe from overrides alone.
        overrides: ``key=value`` strings, applied after the file.

    Raises:
        UserError: Missing file, not a mapping, unknown or missing key, bad value.
    """
    values: dict = {}
    where = "command line"
    if path is not None:
        where = str(path)
        if not Path(path).is_file():
            raise UserError(f"recipe not found: {path}")
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise UserError(f"recipe {path}: not valid YAML ({str(e).splitlines()[0]})") from None
        if not isinstance(loaded, dict):
            raise UserError(f"recipe {path}: expected a mapping of key: value")
        values.update(loaded)
    for text in overrides:
        key, value = parse_override(text)
        values[key] = value
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise UserError(f"{where}: unknown recipe key {key!r} for {cls.__name__} (known: {', '.join(names)})")
    missing = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in values
    ]
    if missing:
        raise UserError(f"{where}: missing required recipe key(s): {', '.join(missing)}")
    return cls(**values)


def to_dict(recipe: TrainRecipe) -> dict:
    """The recipe as plain data (for the model card)."""
    return dataclasses.asdict(recipe)


def _coerce_fields(obj: object) -> None:
    """Check and coerce every field against its annotation (YAML reads ``2e-5`` as a string)."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        setattr(obj, f.name, _coerce(f.name, getattr(obj, f.name), hints[f.name]))


def _coerce(name: str, value: object, hint: object) -> object:
    """Coerce one value to ``hint`` or raise UserError naming the key."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(name, value, option)
            except UserError as e:
                errors.append(str(e))
        raise UserError(errors[-1])
    if typing.get_origin(hint) is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise UserError(f"recipe key {name!r} must be a list, got {value!r}")
        return [_coerce(name, v, args[0]).strip() for v in items]
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                number = float(value)
            except ValueError:
                pass
            else:
                if math.isfinite(number):
                    return number
    elif hint is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise UserError(f"recipe key {name!r} must be {getattr(hint, '__name__', hint)}, got {value!r}")


def _choice(obj: object, name: str, allowed: tuple[str, ...]) -> None:
    if getattr(obj, name) not in allowed:
        raise UserError(f"recipe key {name!r} must be one of {', '.join(allowed)}, got {getattr(obj, name)!r}")


def _positive(obj: object, name: str) -> None:
    if not getattr(obj, name) > 0:
        raise UserError(f"recipe key {name!r} must be > 0, got {getattr(obj, name)!r}")
