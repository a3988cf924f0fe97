"""Property-based fuzz of the scenario loader (Hypothesis): whatever the file holds, loading
gives a Scenario or a PlanSimError, never another exception, and within a time bound; a
refusal is one bounded line."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import PlanSimError
from sim.model.parameters import load_parameters
from sim.scenarios import Scenario, load_scenario
from sim.scenarios.loader import TOP_KEYS

#: seconds one load may take (the largest files allowed parse in well under this)
TIME_BOUND = 2.0
PARAMS = load_parameters()
NAMES = [*PARAMS.levers, *PARAMS.assumptions]

NASTY = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(7)),
    "a: &a [*a]\n",
    "name: !!python/object/apply:os.system ['echo pwned']\n",
    "levers: {fiscal_budget: {2024: .nan}}\nname: {zh: a, en: b}\n",
    "name: {zh: a, en: b}\nlevers: {fiscal_budget: {2024: 1e400}}\n",
    "[" * 5000 + "]" * 5000,
    "name: {zh: a, en: b}\nextends: /dev/null\n",
    "name: {zh: a, en: b}\nextends: .\n",
    "name: {zh: a, en: b}\nextends: ..yaml\n",
    "\ufeffname: {zh: a, en: b}\n",
    "name: {zh: a, en: b}\n? [a, b]\n: 1\n",
    "name: {zh: a, en: b}\nlevers: {? {a: 1} : 2}\n",
]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(2000, 2040),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(NAMES), st.sampled_from(TOP_KEYS),
)
keys = st.one_of(st.sampled_from([*TOP_KEYS, *NAMES, "zh", "en"]), st.integers(2000, 2040),
                 st.text(max_size=12), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)), max_leaves=25)
documents = st.dictionaries(st.sampled_from(TOP_KEYS) | keys, values, max_size=6)
lever_docs = st.fixed_dictionaries(
    {"name": st.one_of(st.just({"zh": "甲", "en": "A"}), values)},
    optional={"description": values,
              "levers": st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8),
                                        st.one_of(scalars, st.dictionaries(
                                            st.integers(2000, 2040) | scalars, scalars,
                                            max_size=4)), max_size=4),
              "assumptions": st.dictionaries(st.sampled_from(NAMES), scalars, max_size=3),
              "extends": st.sampled_from(["plan.yaml", "parent.yaml", "self.yaml", "bin.yaml",
                                          "dir.yaml", "missing.yaml", "", "../x.yaml"]) | values})


def _load(content: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "parent.yaml").write_text("name: {zh: 父, en: Parent}\nlevers:\n"
                                       "  fiscal_budget: {2024: 12}\n", encoding="utf-8")
        (d / "bin.yaml").write_bytes(bytes(range(256)))
        (d / "dir.yaml").mkdir()
        path = d / "self.yaml"
        path.write_bytes(content)
        t0 = time.perf_counter()
        try:
            result = load_scenario(path)
        except PlanSimError as exc:
            result = exc
        elapsed = time.perf_counter() - t0
    assert elapsed < TIME_BOUND, f"loading took {elapsed:.2f} s"
    assert isinstance(result, Scenario | PlanSimError)
    if isinstance(result, PlanSimError):
        msg = str(result)
        assert msg and len(msg) < 1000 and "\n" not in msg
    return result


FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes(content):
    _load(content)


@FUZZ
@given(st.text(max_size=400))
def test_any_text(text):
    _load(text.encode("utf-8", "replace"))


@FUZZ
@given(documents)
def test_any_yaml_document(doc):
    _load(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))


@FUZZ
@given(lever_docs)
def test_scenario_shaped_documents(doc):
    _load(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))


@settings(max_examples=len(NASTY), deadline=None)
@given(st.sampled_from(NASTY))
def test_known_nasty_documents(text):
    assert isinstance(_load(text.encode("utf-8")), PlanSimError | Scenario)


PLAN_SCENARIO = load_scenario("plan")
code_values = st.one_of(scalars, st.dictionaries(st.integers(2000, 2040) | scalars, scalars,
                                                 max_size=4),
                        st.lists(st.floats(), max_size=3).map(lambda v: np.array(v, dtype=float)))


@FUZZ
@given(st.one_of(st.none(), st.dictionaries(st.sampled_from(NAMES) | keys, code_values,
                                            max_size=4), values),
       st.one_of(st.none(), st.dictionaries(st.sampled_from(NAMES) | keys, code_values,
                                            max_size=3), values))
def test_code_overrides_validated_like_files(levers, assumptions):
    """The API path (sim.run(..., levers=, assumptions=)): validated values or a
    ScenarioError, never another exception."""
    from sim.errors import ScenarioError
    from sim.scenarios.loader import apply_overrides

    try:
        lev, ass = apply_overrides(PLAN_SCENARIO, levers, assumptions, PARAMS)
    except ScenarioError as exc:
        assert len(str(exc)) < 1000
        return
    assert set(lev) <= set(PARAMS.levers) and set(ass) <= set(PARAMS.assumptions)
