"""``python -m sim.engine.kernel_warm JOB``: the background process that compiles a kernel into
the cache (started by :func:`sim.engine.kernel_cache.ready`): each run that starts once it is
there, in the command that started it or a later one, uses it."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.engine.kernel_cache import run_job

if __name__ == "__main__":
    raise SystemExit(run_job(Path(sys.argv[1])))
