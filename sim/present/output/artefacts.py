"""The committed files the project generates, in the order they depend on each other.

Each artefact is made from declarations and from the artefacts before it; ``plansim regen``
(``make regen``) brings every one up to date, ``plansim regen --check`` lists the stale ones
(one test runs it). In order:

1. ``sketch``: the Vensim views of the ``.mdl`` (from its equations and ``model/sectors.yaml``);
2. ``calibration``: the estimation, ``model/posterior.csv.gz`` and ``model/calibration.yaml``
   (slow and seeded: redone only when :func:`sim.analysis.estimation.posterior_file.inputs_hash`, stored
   with the draws, no longer matches its inputs);
3. ``schema``: ``scenarios/schema.json`` (levers, their units, the calibrated baseline);
4. ``diagrams``: ``model/diagrams`` (Graphviz sources and SVG; polarities on the calibrated run);
5. ``reference``: ``model/reference``, PySD's runs of the model at its own step (every scenario
   file and the sampled cases of one seeded draw of assumptions) that tests/test_agreement.py
   holds the batch engine to (:mod:`sim.analysis.diagnostics.reference`;
   PySD runs only when a file's fingerprint, the .mdl, the scenario's inputs with the calibrated
   values, the code and PySD's version, no longer matches);
6. ``docs``: the generated blocks of the READMEs (every number, the loop tables).

Each step checks its own output against what it would write now and writes only when they
differ (the sketch by structure, not by positions), so a current project is left byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim import paths
from sim.errors import ModelError
from sim.model.equations.graph import load_graph
from sim.present.output.atomic import atomic_dir, atomic_write_text

Say = Callable[[str], None]


@dataclass(frozen=True)
class Stale:
    """One stale artefact: its id, why, and whether it was rewritten."""

    artefact: str
    reason: str
    written: bool = False


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)


def _sketch(write: bool, say: Say) -> list[str]:
    # lazy: pulls numpy, yaml (85 ms)
    from sim.model.equations.sketch import sketch_is_current, write_sketch

    ok, why = sketch_is_current()
    if ok:
        return []
    if write:
        say(f"writing the sketch of {_rel(paths.MODEL_FILE)}")
        write_sketch()
    return [f"{_rel(paths.MODEL_FILE)}: {why}"]


def _calibration(write: bool, say: Say) -> list[str]:
    # lazy: pulls xarray, yaml (355 ms)
    from sim.analysis.estimation.calibration import calibrate, write_outputs
    from sim.analysis.estimation.posterior_file import stale_reason

    why = stale_reason()
    if not why:
        return []
    if write:
        say("estimating the posterior (plansim calibrate; a few minutes) ...")
        write_outputs(calibrate(say=say), say=say)
    return [f"{_rel(paths.POSTERIOR_FILE)}: {why}"]


def _schema(write: bool, say: Say) -> list[str]:
    # lazy: pulls numpy, yaml (87 ms)
    from sim.scenarios.schema import schema_text

    say(f"computing {_rel(paths.SCENARIO_SCHEMA)}")
    text = schema_text()
    f = paths.SCENARIO_SCHEMA
    old = f.read_text(encoding="utf-8") if f.is_file() else None
    if old == text:
        return []
    if write:
        atomic_write_text(f, text)
    if old is not None and json.loads(old) == json.loads(text):
        return [f"{_rel(f)}: laid out differently from what the generator writes"]
    return [f"{_rel(f)}: differs from the one model/parameters.yaml and the calibrated "
            "baseline give"]


def _diagrams(write: bool, say: Say) -> list[str]:
    # lazy: pulls xarray, yaml (349 ms)
    from sim.analysis.diagnostics.loops import calibrated_polarities
    from sim.model.declarations.loopspec import load_loops
    from sim.model.declarations.words import LANGS
    from sim.present.figures.diagrams import (
        COMMITTED_FORMATS,
        diagram_sources,
        diagrams_are_current,
        write_diagrams,
    )
    from sim.scenarios.loader import load_scenario

    say("deriving the diagrams and measuring the loop polarities")
    decl, graph = load_loops(), load_graph()
    sources = diagram_sources(LANGS, None, calibrated_polarities(decl, graph=graph),
                              graph=graph, run=load_scenario(decl.polarity_run))
    out = paths.DIAGRAMS_DIR
    ok, why = diagrams_are_current(out, sources) if out.is_dir() else (False, "missing")
    if ok:
        return []
    if write:
        say(f"drawing {_rel(out)}")
        with atomic_dir(out) as tmp:
            write_diagrams(tmp, sources, formats=COMMITTED_FORMATS)
    return [f"{_rel(out)}: {why}"]


def _reference(write: bool, say: Say) -> list[str]:
    # lazy: pulls pandas, xarray, the simulator (420 ms)
    from sim.analysis.diagnostics.reference import (
        orphans,
        reference_ids,
        reference_path,
        reference_text,
        stale_reason,
        written_by_regen,
    )
    from sim.simulate import Simulator

    say("fingerprinting PySD's reference runs")
    gone = orphans()   # no scenario file or sampled case has their id any more
    foreign = [p for p in gone if not written_by_regen(p)]
    if write and foreign:
        raise ModelError(f"{_rel(foreign[0])}: no scenario file or sampled case has this id and "
                         "`plansim regen reference` did not write it (no fingerprint); move it out "
                         f"of {_rel(paths.REFERENCE_DIR)}")
    sim = Simulator("numpy")
    stale = {sid: why for sid in reference_ids() if (why := stale_reason(sid, simulator=sim))}
    if write and stale:
        pysd = Simulator("pysd")
        for sid in stale:
            atomic_write_text(reference_path(sid), reference_text(sid, pysd, say=say))
    found = ([f"{_rel(reference_path(sid))}: {why}" for sid, why in stale.items()]
             + [f"{_rel(p)}: no scenario file or sampled case has its id any more; "
                + ("not written by regen: move it out by hand" if p in foreign
                   else "regen removes it")
                for p in gone])
    if write:
        for path in gone:
            say(f"removing {_rel(path)}")
            path.unlink()
    return found


def _docs(write: bool, say: Say) -> list[str]:
    # lazy: pulls xarray, yaml (372 ms)
    from sim.present.documents.doc_blocks import DocContext, generators
    from sim.present.documents.docs import update_documents

    stale = update_documents(list(paths.DOCUMENTS), generators(DocContext(say=say)), check=not write,
                             say=say)
    return [f"{_rel(s.path)}:{s.line}: block '{s.name}'" for s in stale]


#: id -> (what it is, its step), in dependency order
ARTEFACTS: dict[str, tuple[str, Callable[[bool, Say], list[str]]]] = {
    "sketch": ("the Vensim views of the .mdl", _sketch),
    "calibration": ("the estimation (model/posterior.csv.gz, model/calibration.yaml)",
                    _calibration),
    "schema": ("scenarios/schema.json", _schema),
    "diagrams": ("model/diagrams (Graphviz sources, SVG)", _diagrams),
    "reference": ("model/reference (PySD's runs at the model's step)", _reference),
    "docs": ("the generated blocks of the READMEs", _docs),
}


def regenerate(only: list[str] | None = None, *, write: bool = True, calibrate: bool = True,
               say: Say | None = None) -> list[Stale]:
    """Bring the artefacts ``only`` (default: all) up to date, in dependency order; with
    ``write=False`` change nothing. ``calibrate=False`` leaves a stale estimation as it is
    (reported, not rewritten; the steps after it use the stored one). Returns what was
    stale."""
    say = say or (lambda _m: None)
    out = []
    for aid, (_, step) in ARTEFACTS.items():
        if only and aid not in only:
            continue
        do = write and (calibrate or aid != "calibration")
        out += [Stale(aid, why, do) for why in step(do, say)]
    return out
