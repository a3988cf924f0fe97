"""The stored posterior (``model/posterior.csv.gz``): draws, how they were made, what data.

A gzip-compressed text CSV (byte-for-byte reproducible: no time stamp in the gzip header): a
header of ``# key: <json>`` lines (the hash of the history file, the origin and data cut-off,
the sampler, its settings and diagnostics), then one row per draw and one column per estimated
assumption, rounded to 6 significant digits.

:func:`canonical_posterior` is what every ensemble starts from: the stored posterior when it was
estimated on the history file as it is now; otherwise (new outturns appended) it re-estimates
and stores the new posterior, with a notice, or says in one line what to run.

:func:`inputs_hash` is the staleness key of the estimation (stored as ``inputs_hash`` in the
header): what the estimation reads, as it reads it (the history file, the equations of the
``.mdl`` without its sketch, the settings, the priors, the scenario it runs), so that
``plansim regen`` re-estimates only when one of them changed, not after a re-layout of the
sketch or a relabelling.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim import paths
from sim.analysis.ensembles.uncertainty_spec import load_uncertainty
from sim.analysis.estimation.calibration_settings import load_settings
from sim.analysis.estimation.posterior import Posterior
from sim.errors import CalibrationError
from sim.model.declarations.history import history_hash
from sim.model.equations.sketch import SKETCH_MARK
from sim.scenarios.loader import load_scenario

DIGITS = 6


def write_posterior(post: Posterior, path: Path | str | None = None) -> Path:
    """Write ``post`` to ``path`` (default ``model/posterior.csv.gz``) atomically."""
    path = Path(path or paths.POSTERIOR_FILE)
    meta = {"origin": int(post.origin), **post.info}
    head = "".join(f"# {k}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}\n"
                   for k, v in meta.items())
    body = post.draws.to_csv(index=False, float_format=f"%.{DIGITS}g", lineterminator="\n")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write((head + body).encode("utf-8"))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return path


def read_posterior(path: Path | str | None = None, *, prior="auto") -> Posterior:
    """The stored posterior; ``prior``: the uncertainty spec the other assumptions are drawn
    from (``"auto"``: ``scenarios/uncertainty.yaml``; ``None``: none)."""
    path = Path(path or paths.POSTERIOR_FILE)
    if not path.is_file():
        raise CalibrationError(f"{path}: no stored posterior; run `plansim calibrate` first")
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{path}: not a gzip CSV written by plansim calibrate ({exc}); "
                               "run `plansim calibrate` again") from None
    meta, lines = {}, text.splitlines(keepends=True)
    k = 0
    while k < len(lines) and lines[k].startswith("# "):
        key, _, value = lines[k][2:].partition(": ")
        try:
            meta[key] = json.loads(value)
        except json.JSONDecodeError:
            raise CalibrationError(f"{path}: header line {k + 1} {lines[k].strip()!r} is not "
                                   "'# key: <json>'; run `plansim calibrate` again") from None
        k += 1
    draws = pd.read_csv(io.StringIO("".join(lines[k:])), dtype=float).rename_axis("draw")
    if draws.empty or "origin" not in meta:
        raise CalibrationError(f"{path}: no draws or no origin; run `plansim calibrate` again")
    if isinstance(prior, str) and prior == "auto":
        prior = load_uncertainty()
    if prior is not None:
        unknown = [c for c in draws.columns if c not in prior.names]
        if unknown:
            raise CalibrationError(f"{path}: columns {unknown} are not uncertain assumptions of "
                                   f"{prior.path}; run `plansim calibrate` again")
    origin = int(meta["origin"])
    return Posterior(draws, origin, prior, meta)


def is_current(post: Posterior, history_path: Path | str | None = None) -> bool:
    """Whether ``post`` was estimated on the history file as it is now."""
    return post.data_hash == history_hash(history_path)


def canonical_posterior(*, reestimate: bool = True, say: Callable[[str], None] | None = None,
                        path: Path | str | None = None) -> Posterior:
    """The posterior every ensemble is drawn from (see the module docstring)."""
    say = say or print
    path = Path(path or paths.POSTERIOR_FILE)
    post = read_posterior(path) if path.is_file() else None
    if post is not None and is_current(post):
        return post
    why = ("no stored posterior" if post is None else
           f"{paths.HISTORY_FILE.name} changed since the stored posterior "
           f"(hash {str(post.data_hash)[:12]} -> {history_hash()[:12]})")
    if not reestimate:
        raise CalibrationError(f"{path}: {why}; run `plansim calibrate` to estimate on the "
                               "current data")
    say(f"notice: {why}: estimating the posterior again (plansim calibrate) ...")
    # lazy: breaks the cycle posterior_file <-> calibration
    from sim.analysis.estimation.calibration import calibrate, write_outputs

    cal = calibrate(say=say)
    write_outputs(cal, say=say)
    return cal.posterior


def inputs_hash(settings=None, history_path: Path | str | None = None) -> str:
    """sha256 (hex) of what the estimation reads (see the module docstring); ``settings``:
    the estimation settings (default: ``model/calibration-settings.yaml``)."""
    from dataclasses import replace

    settings = settings or load_settings()
    equations = paths.MODEL_FILE.read_text(encoding="utf-8").split(SKETCH_MARK, 1)[0]
    scenario = load_scenario(settings.scenario)
    priors = [(a.id, a.distribution.kind, a.distribution.lower, a.distribution.upper,
               sorted(a.distribution.params.items())) for a in load_uncertainty().items.values()]
    parts = [history_hash(history_path), hashlib.sha256(equations.encode("utf-8")).hexdigest(),
             repr(replace(settings, source=None)), repr(priors),
             repr(sorted(scenario.levers.items())), repr(sorted(scenario.assumptions.items()))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def stale_reason(path: Path | str | None = None) -> str:
    """Why the stored posterior at ``path`` is not what :func:`inputs_hash` says the
    estimation would now start from ("" when it is)."""
    path = Path(path or paths.POSTERIOR_FILE)
    if not path.is_file():
        return "no stored posterior"
    stored = read_posterior(path, prior=None).info.get("inputs_hash")
    if stored != inputs_hash():
        return ("its inputs (history, equations, settings, priors or scenario) changed since "
                "the estimation")
    return ""
