"""What ``aligncot run`` shows while a stage works: where its log is, and a live last line.

Every stage's command writes to ``RUN/logs/<stage>.log``. The console gets the log's path
when the stage starts and, when stderr is a terminal, one status line that follows the
log's last line (progress bars included: a ``\\r`` ends a line too), cleared when the stage
ends. Without a terminal (CI, a pipe) nothing but the path is printed, so logs stay clean.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: A line ends at \n or \r (tqdm redraws its bar after \r).
LINE_END_RE = re.compile(rb"[\r\n]")


def chunks_to_lines(stream: IO[bytes]) -> Iterator[tuple[bytes, str]]:
    """``(raw bytes, last complete line so far)`` for each chunk read from ``stream``."""
    pending = b""
    last = ""
    while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
        pending += chunk
        *done, pending = LINE_END_RE.split(pending)
        for line in done:
            if line.strip():
                last = line.decode("utf-8", "replace").strip()
        yield chunk, last


class StatusLine:
    """One self-overwriting line on stderr (only when stderr is a terminal)."""

    def __init__(self, label: str, stream=None):
        self.label, self.stream = label, stream or sys.stderr
        self.live = self.stream.isatty()

    def show(self, text: str) -> None:
        if self.live and text:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self.stream.write("\r\033[K" + f"  {self.label}: {text}"[:width])
            self.stream.flush()

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()


def run_logged(cmd: list[str], log: Path, label: str, env: dict[str, str], cwd: Path) -> int:
    """Run ``cmd``, appending its output to ``log`` and showing its last line; its exit status."""
    with open(log, "ab") as f:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        assert proc.stdout is not None  # stdout=PIPE
        status = StatusLine(label)
        try:
            for raw, last in chunks_to_lines(proc.stdout):
                f.write(raw)
                f.flush()
                status.show(last)
        finally:
            status.clear()
            rc = proc.wait()
    return rc
