"""The student: base model precision (QLoRA or not), LoRA config, tokenizer, adapter checks.

QLoRA (Dettmers et al. 2023) loads the frozen base in 4-bit NF4 with double quantisation
and computes in bf16; that needs CUDA. On CPU the choice is explicit and logged: by
default LoRA over an unquantized base in ``cpu_dtype``, or 4-bit if the recipe says
``quantization: 4bit``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.device import cuda_available
from training.errors import UserError

if TYPE_CHECKING:  # the ML stack loads on use, not on import
    from accelerate import PartialState
    from peft import PeftModel
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

    from training.distill.recipes import StudentModel

#: Config fields that must agree between the base an adapter was trained on and the base
#: it is loaded onto (a moved directory is fine, another model is not).
FINGERPRINT_KEYS = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
)
#: File in an adapter directory recording what it was trained from (see training.distill.artifacts).
META_FILE = "aligncot_meta.json"


@dataclass(frozen=True)
class Precision:
    """How the base model is loaded.

    Attributes:
        load_in_4bit: NF4 + double quantisation (QLoRA).
        dtype: Weight dtype of unquantized layers / compute dtype of 4-bit ones.
        reason: One line for the log saying why.
    """

    load_in_4bit: bool
    dtype: str
    reason: str


def choose_precision(quantization: str, cpu_dtype: str, cuda: bool) -> Precision:
    """Decide how to load the base.

    >>> choose_precision("auto", "float32", cuda=True).load_in_4bit
    True
    >>> p = choose_precision("auto", "float32", cuda=False)
    >>> p.load_in_4bit, p.dtype
    (False, 'float32')
    >>> choose_precision("4bit", "float32", cuda=False).load_in_4bit
    True
    """
    if quantization == "4bit" or (quantization == "auto" and cuda):
        where = "CUDA" if cuda else "CPU (asked for; slow)"
        return Precision(True, "bfloat16", f"QLoRA: 4-bit NF4, double quantisation, bf16 compute on {where}")
    if cuda:
        return Precision(False, "bfloat16", "LoRA over a bf16 base (quantization: none)")
    why = "CUDA is not available" if quantization == "auto" else "quantization: none"
    return Precision(
        False, cpu_dtype, f"{why}: LoRA over an unquantized {cpu_dtype} base (set quantization=4bit to quantize on CPU)"
    )


#: Deprecation warnings raised inside libraries on our behalf, with nothing for a user to change:
#: peft (PeftModel, get_peft_model) reads transformers' deprecated ``is_gradient_checkpointing``.
LIBRARY_DEPRECATIONS = (r"`is_gradient_checkpointing` is deprecated",)


def silence_library_deprecations() -> None:
    """Keep :data:`LIBRARY_DEPRECATIONS` off the console (they would repeat for every model load)."""
    import warnings

    for message in LIBRARY_DEPRECATIONS:
        warnings.filterwarnings("ignore", message=message, category=FutureWarning)


#: bitsandbytes' CPU backend tries to fetch a kernel from the Hugging Face kernel hub at import
#: and logs a warning when it cannot (always, offline): nothing a user can act on, every run.
OFFLINE_KERNEL_HUB = ("bitsandbytes.backends.cpu.ops", "Failed to load CPU gemm_4bit_forward from kernels-community")


class _DropMessage(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def silence_offline_kernel_hub() -> None:
    """Keep :data:`OFFLINE_KERNEL_HUB`'s warning off the console (call before bitsandbytes is imported)."""
    name, prefix = OFFLINE_KERNEL_HUB
    target = logging.getLogger(name)
    if not any(isinstance(f, _DropMessage) for f in target.filters):
        target.addFilter(_DropMessage(prefix))


def looks_like_path(name: str) -> bool:
    """Whether a ``base_model`` names a directory rather than a hub id (``org/name``).

    >>> [looks_like_path(n) for n in ("HuggingFaceTB/SmolLM2-135M", "/nonexistent/dir", "./m", "~/m", "a/b/c")]
    [False, True, True, True, True]
    """
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or os.path.exists(name)


def check_paths(values: dict, where: str, adapter: bool = False) -> None:
    """Check a recipe's paths before anything heavy is imported or loaded.

    Args:
        values: The recipe's mapping (:func:`training.distill.recipe_file.recipe_values`).
        where: The recipe's file, or "command line", first in every message.
        adapter: The recipe continues an SFT adapter (``sft_adapter``, self-refine).

    Raises:
        UserError: A ``base_model`` directory that does not exist or holds no model, an
            ``sft_adapter`` that is not an adapter directory, ``data`` not found, an
            ``output_dir`` that cannot be created.
    """
    from training.cli import check_output_dir

    base = values.get("base_model")
    if isinstance(base, str) and looks_like_path(base):
        path = Path(base).expanduser()
        if not path.is_dir():
            raise UserError(f"{where}: base_model {base}: directory not found")
        if not (path / "config.json").is_file():
            raise UserError(f"{where}: base_model {base}: not a model directory (no config.json)")
    sft_adapter = values.get("sft_adapter")
    if adapter and isinstance(sft_adapter, str) and sft_adapter:
        if not Path(sft_adapter).is_dir():
            raise UserError(f"{where}: sft_adapter {sft_adapter}: directory not found (run `aligncot sft` first)")
        if not (Path(sft_adapter) / "adapter_config.json").is_file():
            raise UserError(
                f"{where}: sft_adapter {sft_adapter} is not an adapter directory "
                "(no adapter_config.json; run `aligncot sft` first)"
            )
    data = values.get("data")
    if isinstance(data, str) and data and not Path(data).exists():
        raise UserError(f"{where}: data {data}: demonstrations not found (the output directory of `aligncot demos`)")
    output_dir = values.get("output_dir")
    if isinstance(output_dir, str) and output_dir:
        check_output_dir(Path(output_dir).parent, f"{where}: output_dir")


def init_distributed() -> PartialState:
    """The process group of this run (before any trainer creates one).

    Under ``accelerate launch``/``torchrun`` without CUDA, accelerate must be told to use the
    CPU (gloo) up front: its shared state is fixed by the first ``PartialState()``.
    """
    from accelerate import PartialState

    return PartialState(cpu=not cuda_available())


def load_tokenizer(base: str, trust_remote_code: bool = False, padding_side: str = "right") -> PreTrainedTokenizerBase:
    """The base's tokenizer, with a pad token (the eos token when it has none)."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(base, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot load the tokenizer of base model {base!r}: {str(e).splitlines()[0]}") from None
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = padding_side
    return tok


def base_config(base: str, trust_remote_code: bool = False) -> PretrainedConfig:
    """The base model's config (cheap: no weights), for checks before loading."""
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(base, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot load base model {base!r}: {str(e).splitlines()[0]}") from None


def resolve_precision(model_args: StudentModel, cuda: bool) -> tuple[StudentModel, Precision]:
    """``model_args`` with ``load_in_4bit``/``dtype`` set by :func:`choose_precision`, and the choice.

    Args:
        model_args: :class:`training.distill.recipes.StudentModel` (trl's ``ModelConfig``).
        cuda: Whether CUDA is available.
    """
    import dataclasses

    precision = choose_precision(model_args.quantization, model_args.cpu_dtype, cuda)
    # trl's ModelConfig fields (not StudentModel's own, so passed as a mapping: mypy does not read trl).
    derived: dict[str, Any] = {
        "load_in_4bit": precision.load_in_4bit,
        "dtype": precision.dtype,
        "bnb_4bit_quant_type": "nf4",
        "use_bnb_nested_quant": True,
    }
    return dataclasses.replace(model_args, **derived), precision


def load_base(
    model_args: StudentModel, trust_remote_code: bool = False, attn_implementation: str | None = None
) -> PreTrainedModel:
    """Load the base causal LM with trl's quantization config, ready for (Q)LoRA training.

    Args:
        model_args: A resolved ``StudentModel`` (:func:`resolve_precision`).
        trust_remote_code: Passed to ``from_pretrained``.
        attn_implementation: Overrides ``model_args.attn_implementation`` (None: keep it).
    """
    import torch
    from transformers import AutoModelForCausalLM
    from trl import get_quantization_config

    from training.distill import packed_attention  # noqa: F401  (registers the sdpa_varlen name with transformers)

    base = model_args.model_name_or_path
    kwargs: dict = {
        "dtype": getattr(torch, model_args.dtype),
        "revision": model_args.model_revision,
        "trust_remote_code": trust_remote_code,
    }
    if attn := attn_implementation or model_args.attn_implementation:
        kwargs["attn_implementation"] = attn
    if quantization_config := get_quantization_config(model_args):
        kwargs["quantization_config"] = quantization_config
        if cuda_available():
            from accelerate import PartialState

            # One full copy per process under DDP: bitsandbytes weights cannot be moved later.
            kwargs["device_map"] = {"": PartialState().local_process_index}
    try:
        model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot load base model {base!r}: {str(e).splitlines()[0]}") from None
    if quantization_config is not None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model


def fingerprint(config: PretrainedConfig) -> dict:
    """The architecture facts of a model config that an adapter depends on."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return {k: getattr(text, k, None) for k in FINGERPRINT_KEYS}


def check_adapter_matches(adapter_dir: str | Path, base_config: PretrainedConfig) -> None:
    """Refuse an adapter trained on another base.

    Raises:
        UserError: ``adapter_dir`` is not an adapter, or its recorded base architecture
            differs from ``base_config``.
    """
    adapter = Path(adapter_dir)
    if not (adapter / "adapter_config.json").is_file():
        raise UserError(f"{adapter} is not an adapter directory (no adapter_config.json; run `aligncot sft` first)")
    meta_path = adapter / META_FILE
    if not meta_path.is_file():
        return  # an adapter from elsewhere: PEFT's own shape checks are all we have
    recorded = json.loads(meta_path.read_text(encoding="utf-8")).get("base_fingerprint", {})
    current = fingerprint(base_config)
    diff = [k for k in FINGERPRINT_KEYS if k in recorded and recorded[k] != current[k]]
    if diff:
        detail = ", ".join(f"{k} {recorded[k]} != {current[k]}" for k in diff)
        raise UserError(f"adapter {adapter} was trained on a different base model ({detail})")


def load_trainable_adapter(model: PreTrainedModel, adapter_dir: str | Path) -> PeftModel:
    """Base + adapter with the adapter trainable (DPO continues SFT)."""
    from peft import PeftModel

    check_adapter_matches(adapter_dir, model.config)
    try:
        return PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=True)
    except (RuntimeError, ValueError, KeyError) as e:  # shape mismatch, missing modules
        raise UserError(f"adapter {adapter_dir} does not fit base model: {str(e).splitlines()[0]}") from None
