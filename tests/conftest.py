"""Shared fixtures: a tiny lever/assumption declaration for scenario unit tests."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import textwrap
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# the compiled-model cache (sim.engine.cache) of this test process, never the user's own;
# PLANSIM_TEST_CACHE names a folder kept across test runs (a developer's repeated runs)
if os.environ.get("PLANSIM_TEST_CACHE"):
    _CACHE = os.environ["PLANSIM_TEST_CACHE"]
    os.makedirs(_CACHE, mode=0o700, exist_ok=True)
else:
    _CACHE = tempfile.mkdtemp(prefix="plansim-test-cache-")
    atexit.register(shutil.rmtree, _CACHE, True)
os.environ["XDG_CACHE_HOME"] = _CACHE
# commands run by tests compile a missing kernel in-process (no background compile process)
os.environ["PLANSIM_BACKGROUND_COMPILE"] = "off"
# a pytest-xdist worker is one of several processes: one numba thread each (the parallel
# kernel still runs), so the workers do not start workers x cores threads
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")

TINY_PARAMETERS = """
groups:
  fiscal: {zh: 财政, en: Fiscal}
levers:
  fiscal_budget:
    variable: municipal ST budget
    kind: series
    interpolation: linear
    min: 0
    max: 500
    group: fiscal
    label: {zh: 市级财政科技专项资金, en: Municipal fiscal S&T budget}
    description: {zh: 测试用说明, en: A test declaration}
  budget_multiplier:
    variable: budget multiplier
    kind: series
    interpolation: step
    min: 0
    max: 10
    group: fiscal
    label: {zh: 预算系数, en: Budget multiplier}
    description: {zh: 测试用说明, en: A test declaration}
  hte_first_award:
    variable: HTE first award
    kind: constant
    min: 0
    max: 100
    group: fiscal
    label: {zh: 首次认定高企奖补, en: First-time HTE award}
    description: {zh: 测试用说明, en: A test declaration}
assumptions:
  crowding_in:
    variable: crowding in coefficient
    min: -0.5
    max: 1.5
    label: {zh: 挤入系数, en: Crowding-in coefficient}
    description: {zh: 测试用说明, en: A test declaration}
"""


@pytest.fixture
def tiny_parameters(tmp_path, monkeypatch) -> Path:
    """Point the lever declarations at a tiny file; scenarios are written to tmp_path."""
    from sim import paths

    p = tmp_path / "parameters.yaml"
    p.write_text(TINY_PARAMETERS, encoding="utf-8")
    monkeypatch.setattr(paths, "PARAMETERS_FILE", p)
    monkeypatch.setattr(paths, "SCENARIO_DIR", tmp_path)
    return p


@pytest.fixture
def write_scenario(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
