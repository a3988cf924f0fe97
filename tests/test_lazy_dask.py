"""xarray makes Datasets without importing dask.array, and still knows a dask array once dask
is used (sim.engine.lazy_dask)."""

from __future__ import annotations

import subprocess
import sys

from sim import paths

SCRIPT = """
import sys
import numpy as np
import xarray as xr
from sim.engine import lazy_dask, timeloop  # noqa: F401  (timeloop installs the stand-in)
from xarray.namedarray.pycompat import array_type
ds = xr.Dataset({"a": (("sample", "time"), np.zeros((2, 3)))})
print("before", "dask.array" in sys.modules, array_type("dask"))
import dask.array as da
print("type", array_type("dask") == (da.Array,))
v = xr.DataArray(da.zeros((4,), chunks=2))
print("chunked", v.chunks == ((2, 2),), float(v.sum().compute()))
print("again", lazy_dask.defer())
"""


def test_no_dask_array_until_dask_is_used():
    r = subprocess.run([sys.executable, "-c", SCRIPT], cwd=paths.ROOT, capture_output=True,
                       text=True, check=True)
    assert r.stdout.split("\n")[:4] == ["before False ()", "type True", "chunked True 0.0",
                                        "again True"]
