"""lm-eval's log goes to a file beside the results, not to the console.

lm-eval logs through the ``lm_eval`` logger; without a handler of its own, its warnings
reach the console through Python's last-resort handler, repeated for every cell (context
building, generation-config notes, ...). ``aligncot eval`` prints one line per cell itself
and sends lm-eval's own messages, INFO and up, to ``OUT/lm_eval.log``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

#: lm-eval's logger (lm_eval.utils.setup_logging configures the same one).
LOGGER = "lm_eval"


@contextlib.contextmanager
def lm_eval_log_to(path: Path) -> Iterator[Path]:
    """Send the ``lm_eval`` logger to ``path`` (appended) for the block, and nowhere else."""
    logger = logging.getLogger(LOGGER)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s [%(name)s] %(message)s"))
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        handler.close()
        logger.setLevel(saved[0])
        logger.propagate, logger.handlers = saved[1], saved[2]
