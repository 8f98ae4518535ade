"""aligncot task suite: lm-eval task YAMLs, the one prompt module and the one scorer.

The directory to pass to ``lm_eval --include_path`` is :data:`TASKS_DIR`.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Directory holding the generated lm-eval task and group YAMLs.
TASKS_DIR = Path(__file__).resolve().parent / "tasks"
