"""Property-based fuzz of the scenario loader (Hypothesis): whatever the file holds, loading
gives a Scenario or a PlanSimError, never another exception, and the YAML reader's work is
bounded; a refusal is one bounded line.

The work is counted, never timed (speed is checked by benchmarks): every parse of a file
(:func:`sim.model.declarations.yamlio.loads`) composes at most a few nodes per character of its text and
builds each Python object at most once per composed node, and a document that breaks one of the
reader's bounds (size, aliases, expanded values, depth) is refused, with the bound's own message,
before any object is built.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import PlanSimError, ScenarioError
from sim.model.declarations import yamlio
from sim.model.declarations.parameters import load_parameters
from sim.scenarios import Scenario, load_scenario
from sim.scenarios.loader import TOP_KEYS

#: nodes one parse may compose per character of its text (``?`` alone is a mapping of a null
#: key to a null value: three nodes from one character)
NODES_PER_CHAR = 3
PARAMS = load_parameters()
NAMES = [*PARAMS.levers, *PARAMS.assumptions]

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(7))
#: documents that break a bound of the reader, and the words of the bound's message
BOUNDS = [
    (LAUGHS, f"expands to more than {yamlio.MAX_NODES:,} values"),
    ("a: &a [*a]\n", f"expands to more than {yamlio.MAX_NODES:,} values"),
    ("a: &a 1\nb: [" + ", ".join(["*a"] * (yamlio.MAX_ALIASES + 1)) + "]\n",
     f"more than {yamlio.MAX_ALIASES} aliases"),
    ("[" * 5000 + "]" * 5000, f"nested more than {yamlio.MAX_DEPTH} levels deep"),
    ("a: " + "x" * yamlio.MAX_BYTES + "\n", "too large for a plansim YAML file"),
]
NASTY = [
    *(text for text, _ in BOUNDS[:2]),
    "name: !!python/object/apply:os.system ['echo pwned']\n",
    "levers: {fiscal_budget: {2024: .nan}}\nname: {zh: a, en: b}\n",
    "name: {zh: a, en: b}\nlevers: {fiscal_budget: {2024: 1e400}}\n",
    BOUNDS[4][0],
    "name: {zh: a, en: b}\nextends: /dev/null\n",
    "name: {zh: a, en: b}\nextends: .\n",
    "name: {zh: a, en: b}\nextends: ..yaml\n",
    "\ufeffname: {zh: a, en: b}\n",
    "name: {zh: a, en: b}\n? [a, b]\n: 1\n",
    "name: {zh: a, en: b}\nlevers: {? {a: 1} : 2}\n",
]


@dataclass
class Parse:
    """The work of one parse: characters of text, nodes composed, objects built."""

    chars: int
    composed: int = 0
    built: int = 0


@contextmanager
def counting():
    """Count, for every parse made inside, the nodes its loader composes and the objects it
    builds (a node's object is built once; an alias reuses it)."""
    loader = yamlio.Loader
    compose, construct, init = loader.compose_node, loader.construct_object, loader.__init__
    parses: list[Parse] = []

    def _init(self, stream):
        init(self, stream)
        self._parse = Parse(len(stream))
        parses.append(self._parse)

    def _compose(self, parent, index):
        self._parse.composed += 1
        return compose(self, parent, index)

    def _construct(self, node, deep=False):
        if node not in self.constructed_objects:
            self._parse.built += 1
        return construct(self, node, deep=deep)

    loader.__init__, loader.compose_node, loader.construct_object = _init, _compose, _construct
    try:
        yield parses
    finally:
        loader.__init__, loader.compose_node, loader.construct_object = init, compose, construct

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


def _read(content: bytes):
    """Load ``content`` as a scenario file; the result (Scenario or PlanSimError) and the work
    of each parse it made."""
    with tempfile.TemporaryDirectory() as tmp, counting() as parses:
        d = Path(tmp)
        (d / "parent.yaml").write_text("name: {zh: 父, en: Parent}\nlevers:\n"
                                       "  fiscal_budget: {2024: 12}\n", encoding="utf-8")
        (d / "bin.yaml").write_bytes(bytes(range(256)))
        (d / "dir.yaml").mkdir()
        path = d / "self.yaml"
        path.write_bytes(content)
        try:
            result = load_scenario(path)
        except PlanSimError as exc:
            result = exc
    return result, parses


def _load(content: bytes):
    result, parses = _read(content)
    assert isinstance(result, Scenario | PlanSimError)
    if isinstance(result, PlanSimError):
        msg = str(result)
        assert msg and len(msg) < 1000 and "\n" not in msg
    for p in parses:
        assert p.composed <= NODES_PER_CHAR * (p.chars + 1), p
        assert p.built <= p.composed, p
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


@pytest.mark.parametrize(("text", "words"), BOUNDS, ids=["laughs", "recursive", "aliases",
                                                          "depth", "size"])
def test_bounds_refused_by_name_before_building(text, words):
    """Each bound of the reader refuses its document with its own message, naming the file, and
    builds no object of it (the size bound reads no YAML at all)."""
    result, parses = _read(text.encode("utf-8"))
    assert isinstance(result, ScenarioError)
    assert words in str(result) and "self.yaml" in str(result)
    assert sum(p.built for p in parses) == 0
    assert len(parses) == (0 if "too large" in words else 1)


def test_work_counter_counts():
    """The counter sees a parse's nodes (a guard that the bounds above cannot pass vacuously)."""
    result, parses = _read(b"name: {zh: a, en: b}\nlevers: {fiscal_budget: {2024: 12}}\n")
    assert isinstance(result, Scenario)
    assert parses[0].composed == 13 and parses[0].built == 13  # 2 + 5 + 6 nodes


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
