"""plansim: simulate what Qingdao's S&T action plan will achieve (its years, indicators and
targets: model/targets.yaml).

The notebook API (``sim.run``, ``sim.compare``, ``sim.uncertainty``, ``sim.sensitivity``,
``sim.levers`` ...) lives in
:mod:`sim.api` and is loaded on first use, so that the command line starts quickly.
"""

from __future__ import annotations

from sim import lazy_dask

__version__ = "0.1.0"
_API = ("compare", "discover", "history", "levers", "load_scenario", "percentiles",
        "plot_compare", "plot_fan", "plot_indicators", "probabilities", "returns", "run",
        "run_scenarios", "scenario_ids", "sensitivity", "simulator", "targets", "targets_table",
        "uncertainty", "use_cjk_font", "what_it_takes")

lazy_dask.install()   # every process imports sim first: its Datasets import no dask.array


def __getattr__(name: str):
    if name in _API:
        # lazy: `import sim` stays quick; sim.api pulls xarray, yaml and the library (0.4 s)
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
