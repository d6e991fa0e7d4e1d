"""Only lms/media/ffmpeg.py may start ffmpeg, ffprobe or any other process.

A static check over lms/**/*.py with the ast module: outside the wrapper, no string literal (docstrings
aside) may name ffmpeg or ffprobe, and nothing may import subprocess or call the os/asyncio functions
that start processes. The wrapper is where the hardening lives (argv lists, file-only protocol,
demuxer whitelist, timeouts that kill the process group, rlimits), so a second door would bypass it.
"""
from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

import lms

PACKAGE = Path(lms.__file__).resolve().parent
WRAPPER = PACKAGE / "media" / "ffmpeg.py"
TOOL_NAME = re.compile(r"ffmpeg|ffprobe|subprocess", re.IGNORECASE)
PROCESS_MODULES = {"subprocess", "pty"}
OS_SPAWNERS = re.compile(r"system|popen|fork|forkpty|posix_spawnp?|spawn\w*|exec\w*")
ASYNCIO_SPAWNERS = {"create_subprocess_exec", "create_subprocess_shell", "subprocess"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                ids.add(id(body[0].value))
    return ids


def violations(source: str) -> list[str]:
    """What in this module could start ffmpeg (or any process) without the wrapper."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROCESS_MODULES:
                    found.append(f"line {line}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {alias.name for alias in node.names}
            if module.split(".")[0] in PROCESS_MODULES:
                found.append(f"line {line}: from {module} import ...")
            elif module == "os" and any(OS_SPAWNERS.fullmatch(n) for n in names):
                found.append(f"line {line}: from os import {', '.join(sorted(names))}")
            elif module.startswith("asyncio") and names & ASYNCIO_SPAWNERS:
                found.append(f"line {line}: from {module} import {', '.join(sorted(names))}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and OS_SPAWNERS.fullmatch(node.attr):
                found.append(f"line {line}: os.{node.attr}")
            elif node.value.id == "asyncio" and node.attr in ASYNCIO_SPAWNERS:
                found.append(f"line {line}: asyncio.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if TOOL_NAME.search(node.value):
                found.append(f"line {line}: string {node.value!r}")
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.resolve() != WRAPPER)


def test_the_walk_sees_the_package():
    paths = {p.relative_to(PACKAGE).as_posix() for p in modules()}
    assert {"video/tasks.py", "video/ladder.py", "jobs/worker.py"} <= paths  # users of the wrapper
    assert "media/ffmpeg.py" not in paths
    assert violations(WRAPPER.read_text())  # the wrapper itself would fail: the check has teeth


# Modules that start a process that is not a media tool, on the operator's own data, and why. They
# may still never name ffmpeg or ffprobe.
OTHER_TOOLS = {"backup.py": "pg_dump and pg_restore for `flask lms backup` / `restore`"}


def test_no_module_but_the_wrapper_runs_media_tools():
    found = {}
    for path in modules():
        name = path.relative_to(PACKAGE).as_posix()
        problems = violations(path.read_text())
        if name in OTHER_TOOLS:
            problems = [p for p in problems if "import subprocess" not in p]
        if problems:
            found[name] = problems
    assert found == {}, f"only lms/media/ffmpeg.py may run ffmpeg/ffprobe or start processes: {found}"


def test_the_other_tools_named_still_start_processes():
    """An entry here that no longer starts a process is stale: remove it."""
    for name in OTHER_TOOLS:
        assert any("import subprocess" in p for p in violations((PACKAGE / name).read_text())), name


FORBIDDEN = [
    "import subprocess",
    "import subprocess as sp",
    "from subprocess import Popen",
    "from subprocess import run as go",
    "import pty",
    "from asyncio import create_subprocess_exec",
    "import os\nos.system('true')",
    "import os\nos.execvp('x', ['x'])",
    "import os\nos.posix_spawn('/bin/x', ['x'], {})",
    "from os import popen",
    "import asyncio\nasyncio.create_subprocess_exec('x')",
    "BIN = 'ffmpeg'",
    "BIN = '/usr/bin/ffprobe'",
    "def f(path):\n    return [f'{TOOL}', '-i', f'file:{path}', 'FFmpeg-was-here']",
    "import importlib\nimportlib.import_module('subprocess')",
    "def f():\n    x = 1\n    'ffmpeg in a bare string that is not a docstring'",
]


@pytest.mark.parametrize("snippet", FORBIDDEN)
def test_the_check_catches(snippet):
    assert violations(textwrap.dedent(snippet)), snippet


ALLOWED = [
    '"""Runs one ffmpeg for every rung."""',
    'class A:\n    """A path ffmpeg can read."""',
    'def f():\n    """Extends the lease so a long ffmpeg run never looks abandoned."""\n    return 1',
    "from lms.media import ffmpeg\nffmpeg.probe(path, max_duration=1)",
    "from lms.media.ffmpeg import Probe",
    "# comments may say ffmpeg\nimport os\nos.kill(pid, 0)\nos.path.join('a', 'b')",
]


@pytest.mark.parametrize("snippet", ALLOWED)
def test_the_check_allows(snippet):
    assert violations(textwrap.dedent(snippet)) == []
