"""No absolute path of one machine (a home or work directory) in any tracked text file.

A path like that is a step the reader cannot repeat: a script that is not in the repository,
data that lives elsewhere. Shipped commands and repository-relative paths replace them; a
default cache location is written with ``~``.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

#: Roots of home and work directories on Linux, macOS and the machines this project ran on,
#: as an absolute path: not preceded by a name character, a dot, ``~`` or ``$`` (so
#: ``~/.cache/...``, ``$HOME/...`` and ``https://host/home/...`` do not count).
MACHINE_PATH = re.compile(r"(?<![\w.~$-])/(?:" + "|".join(["work", "home", "root", "Users"]) + r")/")


def tracked_text_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    out = []
    for name in filter(None, names):
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        head = path.read_bytes()[:8192]
        if b"\0" not in head:
            out.append(name)
    return out


def offending_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if MACHINE_PATH.search(line)]


def test_the_pattern_catches_machine_paths_and_spares_the_rest():
    bad = ["see /" + "home/alice/x.py", "`/" + "work/exp/analyze.py`", '"/' + "root/.cache/m"]
    good = ["~/.cache/aligncot", "$HOME/.cache", "https://example.org/home/page", "a/home/b", "out/dpo"]
    assert all(MACHINE_PATH.search(s) for s in bad)
    assert not any(MACHINE_PATH.search(s) for s in good)


def test_no_tracked_text_file_names_a_machine_path():
    found = {}
    for name in tracked_text_files():
        lines = offending_lines((ROOT / name).read_text(encoding="utf-8", errors="replace"))
        if lines:
            found[name] = lines[:3]
    assert not found, "absolute home/work paths (replace with a shipped command or a relative path):\n" + "\n".join(
        f"{name}: {lines}" for name, lines in found.items()
    )
