"""aligncot training: teacher annotation, demonstrations, SFT, DPO self-refine, evaluation."""

from aligncot_tasks import __version__

__all__ = ["__version__"]
