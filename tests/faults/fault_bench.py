"""The benchmark's building blocks (tests/bench/run.py), imported rather than copied: its
topic follower, process CPU reading, run clean-up, commit stamp and progress bars.

The benchmark is a script, not a package: it is loaded here under a name of its own (so it
never shadows this folder's `run.py`), with its folder on the path for its own sibling
import.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load() -> ModuleType:
    name = "koppel_bench_run"
    if name in sys.modules:
        return sys.modules[name]
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _load()
