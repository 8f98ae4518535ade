"""Where torch runs here: the one CUDA check, and handing a dropped model's GPU memory back.

torch is imported when asked, not with this module: the CLI and the recipe checks that ask
must not pay torch's import before they have work for it.
"""

from __future__ import annotations

import gc


def cuda_available() -> bool:
    """Whether torch sees a CUDA device."""
    import torch

    return torch.cuda.is_available()


def default_device() -> str:
    """``cuda`` when :func:`cuda_available`, else ``cpu``."""
    return "cuda" if cuda_available() else "cpu"


def free_memory() -> None:
    """Collect dropped models now and return their cached GPU memory, before the next one loads."""
    gc.collect()
    if cuda_available():
        import torch

        torch.cuda.empty_cache()
