"""The one atomic-write helper: files and directories appear complete or not at all.

Everything ``training/`` writes for a later reader (exports, datasets' JSON lines, stage
state, leaderboards, adapters, preference pairs) goes through here: the content is written
to a hidden temporary sibling and renamed into place in one step, so a killed process never
leaves half a file or a directory that looks finished. One permission rule: what a plain
``open()`` / ``mkdir()`` would give (``0666`` / ``0777`` masked by the umask), not the
``0600`` / ``0700`` of ``tempfile``.

The parent directory must exist: creating it is the caller's decision (``aligncot score
--output`` into a missing folder is an error, a leaderboard's ``--out-dir`` is created).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def umask_mode(base: int) -> int:
    """``base`` masked by the process umask (read without changing it for long).

    >>> old = os.umask(0o022); (oct(umask_mode(0o666)), oct(umask_mode(0o777))); _ = os.umask(old)
    ('0o644', '0o755')
    """
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, newlines as given).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_text(p, "x\\n").read_text()
    'x\\n'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, umask_mode(0o666))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, obj: object, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON atomically."""
    return write_text(path, json.dumps(obj, indent=indent, default=str) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write one JSON object per line atomically."""
    return write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def publish_dir(output_dir: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Write a directory atomically: ``write(tmp)`` fills a temporary sibling, then one rename.

    The rename fails, rather than merging, if ``output_dir`` appeared meanwhile.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "adapter"
    >>> publish_dir(d, lambda tmp: (tmp / "x").write_text("1")).name, (d / "x").read_text()
    ('adapter', '1')
    """
    output_dir = Path(output_dir)
    tmp = Path(tempfile.mkdtemp(dir=output_dir.parent, prefix=f".{output_dir.name}.", suffix=".partial"))
    try:
        os.chmod(tmp, umask_mode(0o777))
        write(tmp)
        os.rename(tmp, output_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return output_dir
