"""Computed results kept in the user's cache (:mod:`sim.model.cache.results`): read back bit for
bit for the same question, a miss for any change of the question, the code or the model's
files, never a planted file unpickled, bounded in size, off when asked; and the brief read
back from it is the brief computed afresh."""

from __future__ import annotations

import os
import pickle
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest

from sim import paths
from sim.model.cache import diskcache, results


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache root of this test's own, results kept."""
    monkeypatch.setenv("PLANSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLANSIM_RESULTS_CACHE", "on")
    return tmp_path / "cache" / results.FOLDER


def test_the_same_question_reads_back_bit_for_bit(cache):
    value = {"x": np.random.default_rng(1).normal(size=(50, 3)), "label": "计划"}
    assert results.load("demo", ("plan", 40, 7)) is None
    assert results.store("demo", ("plan", 40, 7), value)
    back = results.load("demo", ("plan", 40, 7))
    assert back["label"] == "计划"
    assert back["x"].tobytes() == value["x"].tobytes()


def test_another_question_kind_or_fingerprint_misses(cache, monkeypatch):
    results.store("demo", ("plan", 40, 7), 1)
    assert results.load("demo", ("plan", 40, 8)) is None
    assert results.load("other", ("plan", 40, 7)) is None
    monkeypatch.setattr(results, "fingerprint", lambda: "an edited model")
    assert results.load("demo", ("plan", 40, 7)) is None


def test_fingerprint_covers_code_model_and_scenario_files(tmp_path, monkeypatch):
    root = tmp_path / "tree"
    for rel in ("sim/a.py", "model/m.mdl", "model/data/history.csv", "scenarios/plan.yaml",
                "model/diagrams/d.svg", "model/README.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("one")
    monkeypatch.setattr(paths, "ROOT", root)
    monkeypatch.setattr(paths, "MODEL_DIR", root / "model")
    monkeypatch.setattr(paths, "DIAGRAMS_DIR", root / "model" / "diagrams")
    monkeypatch.setattr(paths, "SCENARIO_DIR", root / "scenarios")

    def fp():
        results.fingerprint.cache_clear()
        return results.fingerprint()

    first = fp()
    for rel in ("sim/a.py", "model/m.mdl", "model/data/history.csv", "scenarios/plan.yaml"):
        (root / rel).write_text("two")
        now = fp()
        assert now != first, rel
        first = now
    for rel in ("model/diagrams/d.svg", "model/README.md"):   # pictures and prose: no input
        (root / rel).write_text("two")
        assert fp() == first, rel
    results.fingerprint.cache_clear()


class Planted:
    """Unpickling it would create ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_file_is_never_unpickled(cache, tmp_path):
    results.store("demo", "q", 1)   # creates the folder and the key
    path = cache / f"demo-{results.key('demo', 'q')}.pkl"
    marker = tmp_path / "ran"
    path.write_bytes(pickle.dumps(Planted(marker)))   # unsigned: as an attacker writes it
    assert results.load("demo", "q") is None
    assert not marker.exists()
    forged = diskcache.MAGIC + b"\0" * diskcache.MAC_SIZE + pickle.dumps(Planted(marker))
    path.write_bytes(forged)   # a wrong MAC
    assert results.load("demo", "q") is None
    assert not marker.exists()


def test_least_recently_used_go_first(cache, monkeypatch):
    monkeypatch.setattr(results, "MAX_ENTRIES", 3)
    for i in range(3):
        results.store("demo", i, i)
        path = cache / f"demo-{results.key('demo', i)}.pkl"
        os.utime(path, (1000 + i, 1000 + i))
    assert results.load("demo", 0) == 0     # used now: the newest
    results.prune(cache, entries=3)
    results.store("demo", 3, 3)             # a fourth: the least recently used (1) goes
    results.prune(cache, entries=3)
    kept = {results.load("demo", i) for i in range(4)} - {None}
    assert kept == {0, 2, 3}
    results.prune(cache, entries=10, size=1)   # over the byte bound: every file goes
    assert not list(cache.glob("*.pkl"))


def test_off_keeps_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLANSIM_RESULTS_CACHE", "off")
    assert not results.store("demo", "q", 1)
    assert results.load("demo", "q") is None
    assert not (tmp_path / "cache" / results.FOLDER).exists()


def test_remember_computes_once(cache):
    calls = []

    def compute():
        calls.append(1)
        return [1, 2, 3]

    assert results.remember("demo", "q", compute) == [1, 2, 3]
    assert results.remember("demo", "q", compute) == [1, 2, 3]
    assert len(calls) == 1


def test_the_brief_read_back_is_the_brief_computed(monkeypatch):
    """The second call computes nothing and lays out the same page (the session's cache
    root, where the compiled model is, with a results folder of this test's own)."""
    from sim.present.documents import brief as br
    from sim.present.documents import brief_page as bp
    from sim.scenarios import load_scenario

    monkeypatch.setenv("PLANSIM_RESULTS_CACHE", "on")
    monkeypatch.setattr(results, "FOLDER", f"results-test-{uuid.uuid4().hex}")
    plan, base = load_scenario("plan"), load_scenario("baseline")
    first = br.compute_brief([plan], base, samples=20, seed=5)

    def fail(*_a, **_k):
        raise AssertionError("computed again")

    monkeypatch.setattr(br, "shared_simulator", fail)   # what computing starts with
    second = br.compute_brief([plan], base, samples=20, seed=5)
    figures = {"chart": "<svg></svg>", "waterfall:plan": "<svg></svg>"}
    for lang in ("zh", "en"):
        assert bp.render_html(first, lang, figures) == bp.render_html(second, lang, figures)
    with pytest.raises(AssertionError, match="computed again"):   # another question
        br.compute_brief([plan], base, samples=20, seed=6)
    shutil.rmtree(diskcache.cache_root() / results.FOLDER)


def test_what_it_takes_read_back_is_the_search_done(monkeypatch):
    """Asked again, the search is read back: the same table, curves and written scenario
    files, said to be from the cache, with no simulator; another question searches."""
    from sim.analysis.decisions import what_it_takes as wit

    monkeypatch.setenv("PLANSIM_RESULTS_CACHE", "on")
    monkeypatch.setattr(results, "FOLDER", f"results-test-{uuid.uuid4().hex}")
    kw = dict(targets=["tech_brokers"], probabilities=[0.55], samples=60, budget_max=100.0)
    first = wit.what_it_takes("plan", **kw)

    def fail(*_a, **_k):
        raise AssertionError("searched again")

    monkeypatch.setattr(wit, "conditioned_ensemble", fail)   # what a search starts with
    second = wit.what_it_takes("plan", **kw)
    assert second.cached and not first.cached and second.ensemble.simulator is None
    assert second.table.equals(first.table) and second.curves.equals(first.curves)
    assert second.runs == first.runs and second.lines == first.lines
    r1, r2 = first.requirements[0], second.requirements[0]
    assert r1.reachable and r2.mix.tobytes() == r1.mix.tobytes()
    assert wit.scenario_text(second.ensemble, r2, "plan.yaml") == \
        wit.scenario_text(first.ensemble, r1, "plan.yaml")
    with pytest.raises(AssertionError, match="searched again"):
        wit.what_it_takes("plan", **{**kw, "probabilities": [0.5]})
    shutil.rmtree(diskcache.cache_root() / results.FOLDER)
