"""The end of `plansim run`: P(met) with N and standard error from the cached ensemble of
`plansim uncertainty`, or one line naming the command that gives it."""

from __future__ import annotations

import os

import pandas as pd

from sim.analysis.outcomes.targets import ALL_TARGETS
from sim.model.declarations.targets import load_targets
from sim.present.output.outdir import MARKER, marker_text
from sim.present.reports.how_sure import RESULT, TABLE, how_sure_lines
from sim.scenarios import load_scenario


def _cache(out, scenarios, command="uncertainty"):
    folder = out / RESULT
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(marker_text(command), encoding="utf-8")
    targets = load_targets()
    rows = [{"scenario": sc.id, "indicator": ind, "n": 400, "probability": 0.25,
             "mc_se": 0.0217} for sc in scenarios for ind in [*targets.indicators, ALL_TARGETS]]
    pd.DataFrame(rows).to_csv(folder / TABLE, index=False)
    return folder / TABLE


def test_cached_ensemble_gives_pmet_with_n_and_error(tmp_path):
    scenarios = [load_scenario("plan"), load_scenario("baseline")]
    _cache(tmp_path, scenarios)
    lines = how_sure_lines(tmp_path, scenarios, load_targets(), "en")
    assert len(lines) == 3 and "2028" in lines[0]
    assert all("(N = 400)" in x and "25% ± 2%" in x for x in lines[1:])
    zh = how_sure_lines(tmp_path, scenarios, load_targets(), "zh")
    assert "达标概率" in zh[0] and "科技型企业" in zh[1]


def test_without_a_current_ensemble_one_line_names_the_command(tmp_path):
    scenarios = [load_scenario("plan")]
    missing = how_sure_lines(tmp_path, scenarios, load_targets(), "en")
    assert len(missing) == 1 and f"plansim uncertainty plan --out {tmp_path}" in missing[0]
    table = _cache(tmp_path, [load_scenario("baseline")])     # another scenario only
    assert how_sure_lines(tmp_path, scenarios, load_targets(), "en") == missing
    os.utime(table, (1, 1))                                    # older than the model files
    _cache(tmp_path / "x", scenarios)
    os.utime(tmp_path / "x" / RESULT / TABLE, (1, 1))
    assert how_sure_lines(tmp_path / "x", scenarios, load_targets(), "en") == \
        [missing[0].replace(str(tmp_path), str(tmp_path / "x"))]
