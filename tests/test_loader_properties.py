"""Property-based test of every loader of a user's file (issue 20, What to build 8): random
bytes, random YAML and random CSV give a result or a :class:`PlanSimError`, never another
exception. Inputs are bounded in size (a few KB), so each example's work is bounded; nothing
is timed."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import PlanSimError
from sim.model.declarations import history as history_module

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: random text from YAML's punctuation, digits, letters and the odd control character
yaml_chars = st.text(alphabet=st.sampled_from(list("[]{}:,-&*!|>'\"#?%@` \n\t0123456789"
                                                    "abexyz._+~\\\x1b\x00\u00e9\u7532")),
                     max_size=300)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                    st.sampled_from(["name", "levers", "assumptions", "extends", "zh", "en",
                                     "fiscal_budget", "plan.yaml", "2025", "!!int x"]))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(scalars, inner, max_size=5)), max_leaves=30)
yaml_texts = st.one_of(yaml_chars, documents.map(
    lambda d: yaml.safe_dump(d, allow_unicode=True)), st.binary(max_size=400).map(
    lambda b: b.decode("latin-1")))
cells = st.one_of(st.text(max_size=12), st.integers(-10**30, 10**30).map(str),
                  st.floats().map(repr), st.sampled_from(
                      ["tech_firms", "platforms", "2025", "sourced", "implied", "", "1,000",
                       "nan", "inf", "1e400", "9" * 500]))
rows = st.lists(st.lists(cells, min_size=0, max_size=9), max_size=12)
headers = st.sampled_from([["indicator", "year", "value"],
                           ["indicator", "year", "value", "unit", "status", "source", "note"],
                           ["indicator", "year", "value", "unit", "status", "as_of", "source",
                            "note"], ["a", "b"], []])


def _csv(header: list[str], body: list[list[str]]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    if header:
        w.writerow(header)
    w.writerows(body)
    return out.getvalue()


csv_texts = st.one_of(st.builds(_csv, headers, rows), st.text(
    alphabet=st.sampled_from(list(',"\n\r0123456789.-eabc_ \x00;\t')), max_size=400))


def _loaders() -> dict[str, tuple[Callable[[Path], object], str]]:
    from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
    from sim.analysis.forecasts.scoring import read_outturn
    from sim.model.declarations.checkspec import load_checks, load_divergence
    from sim.model.declarations.parameters import load_parameters
    from sim.model.declarations.sectors import load_sectors
    from sim.model.declarations.targets import load_targets
    from sim.scenarios import load_scenario

    return {"scenario": (load_scenario, "s.yaml"), "parameters": (load_parameters, "p.yaml"),
            "targets": (load_targets, "t.yaml"), "checks": (load_checks, "c.yaml"),
            "divergence": (load_divergence, "c.yaml"), "sectors": (load_sectors, "x.yaml"),
            "uncertainty": (lambda p: load_uncertainty(p, parameters=None), "u.yaml"),
            "outturn": (read_outturn, "o.csv"),
            "history": (history_module.load_history, "h.csv")}


LOADERS = _loaders()
YAML_LOADERS = [k for k, (_f, name) in LOADERS.items() if name.endswith(".yaml")]
CSV_LOADERS = [k for k, (_f, name) in LOADERS.items() if name.endswith(".csv")]
#: main's history loader lets pandas' errors out; the one of helper "estim" (merged with this
#: branch) turns every one into a ModelError: the marker then goes (strict: it must fail now)
OLD_HISTORY = pytest.mark.xfail(not hasattr(history_module, "history_hash"), strict=True,
                                reason="main's history loader: pandas errors escape")


def _load(kind: str, data: bytes) -> object:
    """Load ``data`` with loader ``kind`` from a fresh folder; a PlanSimError is a result."""
    fn, name = LOADERS[kind]
    with tempfile.TemporaryDirectory(prefix="plansim-prop-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            return fn(path)
        except PlanSimError as exc:
            assert "\n" not in str(exc).strip() or kind == "history"
            return exc


def _kinds(names: list[str]) -> list:
    return [pytest.param(k, marks=OLD_HISTORY) if k == "history" else k for k in names]


@pytest.mark.parametrize("kind", _kinds(list(LOADERS)))
@PROPERTY
@given(data=st.binary(max_size=2000))
def test_random_bytes_give_a_result_or_plansim_error(kind, data):
    _load(kind, data)


@pytest.mark.parametrize("kind", YAML_LOADERS)
@PROPERTY
@given(text=yaml_texts)
def test_random_yaml_gives_a_result_or_plansim_error(kind, text):
    _load(kind, text.encode("utf-8", errors="surrogatepass"))


@pytest.mark.parametrize("kind", _kinds(CSV_LOADERS))
@PROPERTY
@given(text=csv_texts)
def test_random_csv_gives_a_result_or_plansim_error(kind, text):
    _load(kind, text.encode("utf-8", errors="surrogatepass"))
