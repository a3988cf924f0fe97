"""``python -m sim.engine.kernel_warm JOB``: the background process that compiles a kernel into
the cache for the next commands (started by :func:`sim.engine.kernel_cache.ready`)."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.engine.kernel_cache import run_job

if __name__ == "__main__":
    raise SystemExit(run_job(Path(sys.argv[1])))
