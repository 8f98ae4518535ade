"""Training recipes: one flat YAML file -> trl's own config classes, the way ``TrlParser`` reads them.

A recipe names every choice of a run (base model, data, LoRA, optimiser, schedule). Its keys
are the fields of two dataclasses: :class:`SFTRecipe` (a ``trl.SFTConfig``) or
:class:`DPORecipe` (a ``trl.DPOConfig``), plus :class:`StudentModel` (trl's ``ModelConfig``:
base model, LoRA, quantization). Both are filled by one ``trl.TrlParser`` from the YAML file
and the ``key=value`` overrides (the value read as YAML, so ``report_to=[none]`` and
``packing=false`` work); argparse converts and checks each value against its field's type.
An unknown or mistyped key, a missing required key or a bad value is one :class:`UserError`
line naming the key, before any model is loaded. The trainers receive the objects as they are.

The papers' hyper-parameters live in the recipe YAMLs (harness_configs/recipes/): QLoRA with
LoRA on all linear layers, 4 epochs, lr 2e-5, weight decay 0.001, cosine schedule, warmup
ratio 0.03 (``warmup_steps: 0.03``: transformers reads a value below 1 as a ratio) for SFT
(Ranaldi & Freitas 2024); DPO with lr 1e-6, beta 0.1, 100 warmup steps, effective batch 128,
at most 1000 steps, keeping the checkpoint with the lowest validation loss.
"""

from __future__ import annotations

import os
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trl import DPOConfig, ModelConfig, SFTConfig, TrlParser

from training.device import cuda_available
from training.distill import checkpoints
from training.distill.recipe_checks import check_ranges, check_self_refine, choice
from training.distill.recipe_file import recipe_values
from training.errors import UserError

QUANTIZATION = ("auto", "4bit", "none")
CPU_DTYPES = ("float32", "bfloat16")
GENERATION_BACKENDS = ("auto", "hf", "vllm")
#: Keys a recipe must give (the pipeline sets them for its stages).
REQUIRED = ("base_model", "data", "output_dir")
#: ``ModelConfig`` fields aligncot derives, and the recipe key that sets each.
DERIVED = {"model_name_or_path": "base_model", "dtype": "cpu_dtype", "load_in_4bit": "quantization"}


@dataclass
class StudentModel(ModelConfig):
    """trl's ``ModelConfig`` plus how aligncot picks the base's precision.

    ``load_in_4bit`` and ``dtype`` are derived when the base is loaded
    (:func:`training.distill.model_loading.resolve_precision`): 4-bit NF4 with double
    quantisation and bf16 compute where ``quantization`` asks for it, else ``cpu_dtype`` on CPU.

    Attributes:
        base_model: Hub id or local directory of the student's base model.
        quantization: ``auto`` (4-bit NF4 on CUDA, none on CPU), ``4bit`` or ``none``.
        cpu_dtype: Weight dtype of an unquantized base on CPU.
    """

    base_model: str = ""
    quantization: str = "auto"
    cpu_dtype: str = "float32"
    use_peft: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        self.model_name_or_path = self.base_model
        choice("quantization", self.quantization, QUANTIZATION)
        choice("cpu_dtype", self.cpu_dtype, CPU_DTYPES)


class _Outputs:
    """``output_dir`` in a recipe is where the finished adapter goes; the trainer writes its
    checkpoints and logs to ``<output_dir>.run`` (training/distill/checkpoints.py)."""

    adapter_dir: str | None
    output_dir: str
    # trl's fields read here (trl's classes are Any to mypy, which does not follow trl).
    activation_checkpointing: bool | None
    activation_checkpointing_kwargs: dict[str, Any] | None
    gradient_checkpointing: bool | None
    gradient_checkpointing_kwargs: dict[str, Any] | None
    use_cpu: bool

    def _bind_output(self) -> None:
        if self.adapter_dir is None:  # first construction (dataclasses.replace keeps both)
            self.adapter_dir, self.output_dir = self.output_dir, str(checkpoints.run_dir(self.output_dir))
        # trl's default ``gradient_checkpointing=True`` under transformers 5's new name: no FutureWarning.
        if self.activation_checkpointing is None:
            self.activation_checkpointing, self.gradient_checkpointing = self.gradient_checkpointing, None
        if self.activation_checkpointing_kwargs is None:
            self.activation_checkpointing_kwargs = self.gradient_checkpointing_kwargs
            self.gradient_checkpointing_kwargs = None
        if not self.use_cpu and not cuda_available():
            self.use_cpu = True  # accelerate's CPU (gloo) state under `accelerate launch` too

    @property
    def run_dir(self) -> Path:
        """Checkpoints and logs of the run (kept after it ends, for TensorBoard and resuming)."""
        return Path(self.output_dir)

    @property
    def adapter_path(self) -> Path:
        """Where the finished adapter is published (the recipe's ``output_dir``)."""
        assert self.adapter_dir is not None  # set on construction
        return Path(self.adapter_dir)


@dataclass
class SFTRecipe(_Outputs, SFTConfig):
    """``aligncot sft``: trl ``SFTConfig``; loss on the completion only, a checkpoint each epoch.

    Attributes:
        data: Output directory of ``aligncot demos`` (``dataset/`` or ``train.jsonl`` +
            ``validation.jsonl``), or the ``dataset`` directory itself.
        chat_template: Train on the prompts rendered with the student's chat template, as
            lm-eval's ``--apply_chat_template`` evaluates them (training/distill/chat_format.py).
        completion_logits_only: Project through the output layer only the positions whose
            next-token label is in the loss (the completions), not every position: same loss,
            gradients and metrics, less compute where trl's head projects them all (CPU;
            training/distill/completion_logits.py).
        adapter_dir: The adapter directory (set from ``output_dir``; not a recipe key).
    """

    data: str = ""
    chat_template: bool = False
    completion_logits_only: bool = True
    adapter_dir: str | None = None
    # aligncot's training contract, not hyper-parameters: completion-only loss, best-fit packing.
    completion_only_loss: bool | None = True
    packing_strategy: str = "bfd"
    eval_strategy: str = "epoch"
    save_strategy: str = "epoch"

    def __post_init__(self) -> None:
        self._bind_output()
        super().__post_init__()


@dataclass
class DPORecipe(_Outputs, DPOConfig):
    """``aligncot self-refine``: trl ``DPOConfig``; student preference pairs, then DPO from the SFT adapter.

    DPO trains the SFT adapter further, so the LoRA shape is the SFT adapter's own (a recipe
    giving ``lora_*`` keys is refused). Checkpoints every ``eval_steps``; the one with the
    lowest validation loss is kept.

    Attributes:
        data: Output directory of ``aligncot demos``.
        sft_adapter: Adapter directory written by ``aligncot sft``.
        effective_batch_size: If set, gradient accumulation is derived from it:
            ``per_device_train_batch_size * processes * accumulation == effective_batch_size``.
        keep_correct_only: Keep only pairs whose chosen (CoT) answer the suite's scorer marks correct.
        generation_batch_size: Prompts per batch when the student answers.
        max_new_tokens: Generation budget; None uses the suite's per-variant budget.
        generation_backend: ``auto`` (vLLM when installed and CUDA is there, else HF), ``hf``, ``vllm``.
        pairs_dir: Where the preference pairs are saved; default ``<output_dir>.pairs``.
            Existing pairs there are reused (delete them to regenerate). Single-round runs only.
        pairs: ``cot_vs_direct`` (the CoT answer preferred to the zero-shot one, Ranaldi & Freitas),
            ``correct_vs_incorrect`` (a correct over an incorrect sampled CoT answer to the same
            prompt, Pang et al. 2024) or ``correct_samples`` (no pairs: every distinct correct
            sampled answer, trained with the NLL loss alone, ``loss_type: [sft]``; STaR / RFT).
        samples_per_question: CoT answers sampled per question (``correct_vs_incorrect``: >= 2;
            ``correct_samples``: >= 1).
        max_pairs_per_question: At most this many pairs per question (``correct_vs_incorrect``).
        balance_pairs: ``none``; ``chosen`` (as many pairs per gold option letter as the rarest
            letter has) or ``both`` (each letter as often chosen as rejected), for
            ``correct_vs_incorrect`` (training/distill/pair_balance.py says why).
        min_correct_samples: Train only on the pairs of questions with at least this many correct
            answers of their ``samples_per_question`` (``correct_vs_incorrect``; 1 keeps every
            pair; training/distill/pair_selection.py says why).
        temperature: Sampling temperature of ``correct_vs_incorrect`` (> 0).
        rounds: Self-refine rounds; round i samples with round i-1's adapter and continues
            training it (``max_steps``/``num_train_epochs`` are per round).
        max_eval_pairs: Cap on validation questions answered and validation pairs evaluated.
        chat_template: Pairs on the prompts rendered with the student's chat template, as
            lm-eval's ``--apply_chat_template`` evaluates them (training/distill/chat_format.py).
        adapter_dir: The adapter directory (set from ``output_dir``; not a recipe key).
    """

    data: str = ""
    sft_adapter: str = ""
    effective_batch_size: int | None = None
    keep_correct_only: bool = True
    generation_batch_size: int = 16
    max_new_tokens: int | None = None
    generation_backend: str = "auto"
    pairs_dir: str | None = None
    pairs: str = "cot_vs_direct"
    samples_per_question: int = 4
    max_pairs_per_question: int = 2
    balance_pairs: str = "none"
    min_correct_samples: int = 1
    temperature: float = 0.7
    rounds: int = 1
    max_eval_pairs: int | None = 128
    chat_template: bool = False
    adapter_dir: str | None = None
    eval_strategy: str = "steps"
    eval_steps: float | None = 50
    save_strategy: str = "steps"
    load_best_model_at_end: bool = True
    metric_for_best_model: str | None = "eval_loss"
    greater_is_better: bool | None = False

    def __post_init__(self) -> None:
        self._bind_output()
        choice("generation_backend", self.generation_backend, GENERATION_BACKENDS)
        check_self_refine(self)
        for name in ("generation_batch_size", "effective_batch_size", "eval_steps"):
            if getattr(self, name) is not None and not getattr(self, name) > 0:
                raise UserError(f"recipe key {name!r} must be > 0, got {getattr(self, name)!r}")
        self.save_steps = self.eval_steps  # load_best_model_at_end needs a checkpoint at each evaluation
        self.gradient_accumulation_steps = self.accumulation_steps(int(os.environ.get("WORLD_SIZE", "1")))
        super().__post_init__()

    @property
    def pairs_path(self) -> Path:
        """Directory of the saved preference pairs."""
        return Path(self.pairs_dir) if self.pairs_dir else checkpoints.pairs_dir(self.adapter_path)

    def accumulation_steps(self, world_size: int) -> int:
        """Gradient accumulation that reaches ``effective_batch_size`` on ``world_size`` processes.

        >>> r = DPORecipe(output_dir="o", per_device_train_batch_size=8, effective_batch_size=128)
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


RecipeT = typing.TypeVar("RecipeT", SFTRecipe, DPORecipe)


class _Parser(TrlParser):
    """``TrlParser`` whose errors are one :class:`UserError` line instead of argparse's usage + exit."""

    where = "recipe"

    def error(self, message: str) -> typing.NoReturn:
        # "argument --lr/--learning-rate: invalid float value: 'x'" -> "recipe key 'lr': invalid ..."
        message = re.sub(r"argument --(\w+)(/--[\w-]+)*:", r"recipe key '\1':", message)
        raise UserError(f"{self.where}: {message}")


def load_recipe(
    cls: type[RecipeT], path: str | Path | None, overrides: typing.Sequence[str] = ()
) -> tuple[RecipeT, StudentModel]:
    """Read a YAML recipe, apply ``key=value`` overrides, validate: the trainer config and the model config.

    Args:
        cls: :class:`SFTRecipe` or :class:`DPORecipe`.
        path: YAML file, or None to build the recipe from overrides alone.
        overrides: ``key=value`` strings, applied after the file.

    Raises:
        UserError: Missing file, not a mapping, unknown or missing key, bad value.
    """
    values = recipe_values(path, overrides)
    where = str(path) if path is not None else "command line"
    required = REQUIRED + (("sft_adapter",) if cls is DPORecipe else ())
    missing = [key for key in required if values.get(key) in (None, "")]
    if missing:
        raise UserError(f"{where}: missing required recipe key(s): {', '.join(missing)}")
    if derived := [k for k in values if k in DERIVED]:
        raise UserError(f"{where}: recipe key {derived[0]!r} is derived; set {DERIVED[derived[0]]!r} instead")
    if cls is DPORecipe and (lora := [k for k in values if k.startswith("lora_") or k == "use_peft"]):
        raise UserError(f"{where}: {', '.join(lora)}: DPO continues the SFT adapter, whose LoRA shape it keeps")
    # bf16 mixed precision only where it pays: CUDA, or a 4-bit base's bf16 compute (not an fp32 CPU base).
    values.setdefault("bf16", cuda_available() or values.get("quantization") == "4bit")
    parser = _Parser((cls, StudentModel))
    parser.where = where
    unknown = parser.set_defaults_with_config(**values)
    if unknown:
        raise UserError(f"{where}: unknown recipe key {unknown[0].lstrip('-')!r} for {cls.__name__}")
    try:
        train, model = parser.parse_args_into_dataclasses(args=[])
    except (ValueError, TypeError) as e:  # trl's and transformers' own __post_init__ checks
        raise UserError(f"{where}: {str(e).splitlines()[0]}") from None
    check_ranges(train, where)
    return train, model
