"""Shared helpers of the packaging tests (not a test module)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

#: The repository (or cibuildwheel's copy of tests/ + tools/ + pyproject.toml).
ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"


def load_tool(name: str):
    """Import tools/<name>.py as a module, or None when tools/ is not around."""
    path = TOOLS / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"_fastloss_tool_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_python(code: str, env: dict | None = None, timeout: float = 300) -> str:
    """Run ``code`` in a fresh interpreter (cwd: outside the source tree); return stdout."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=str(Path(sys.prefix)))
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout
