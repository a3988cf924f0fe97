"""xarray makes Datasets without importing dask.array, and still knows a dask array once dask
is used (sim.lazy_dask, installed by ``import sim``, whether xarray is imported before or
after it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim import paths

IMPORTS = {
    "sim first": "import sim\nimport xarray as xr\n",    # the commands: the hook defers
    "xarray first": "import xarray as xr\nimport sim\n",  # a notebook: deferred at once
}

SCRIPT = """
import sys
import numpy as np
from sim import lazy_dask
from xarray.namedarray.pycompat import array_type
ds = xr.Dataset({"a": (("sample", "time"), np.zeros((2, 3)))})
print("before", "dask.array" in sys.modules, array_type("dask"))
print("hook left", not any(type(f).__name__ == "_OnImport" for f in sys.meta_path))
import dask.array as da
print("type", array_type("dask") == (da.Array,))
v = xr.DataArray(da.zeros((4,), chunks=2))
print("chunked", v.chunks == ((2, 2),), float(v.sum().compute()))
print("again", lazy_dask.defer())
"""


def _run(code: str) -> list[str]:
    r = subprocess.run([sys.executable, "-c", code], cwd=paths.ROOT, capture_output=True,
                       text=True, check=True, timeout=300)
    return r.stdout.splitlines()


@pytest.mark.parametrize("order", IMPORTS)
def test_no_dask_array_until_dask_is_used(order):
    assert _run(IMPORTS[order] + SCRIPT)[:5] == ["before False ()", "hook left True",
                                                 "type True", "chunked True 0.0",
                                                 "again True"]


def test_a_run_of_the_plan_imports_no_dask_array():
    """What `plansim run` does: no module of the engine or the simulator defers for itself."""
    code = ("import sys\nfrom sim.simulate import Simulator\n"
            "ds = Simulator('batch').run('plan', return_columns=['tech_firms'])\n"
            "print(ds.sizes['time'] > 0, 'dask.array' in sys.modules)\n")
    assert _run(code)[-1] == "True False"
