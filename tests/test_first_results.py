"""Issue 22 item 9: a command prints its result tables as soon as the numbers exist, before it
writes its workbook and charts (the order of events, never a time)."""

from __future__ import annotations

import pytest

from sim.cli.main import main

pytestmark = pytest.mark.slow


#: recorded but not done: the charts' drawing (seconds; what the command writes is checked by
#: tests/test_cli.py's run of it, the charts by their own tests); the order is what is tested
NOT_DONE = ("write_renderings",)


def _recorder(monkeypatch, capsys, module, names, events):
    """Wrap ``module.<name>`` for each name so each call records what stdout held by then."""
    printed: list[str] = []

    def wrap(name, real):
        def call(*args, **kwargs):
            printed.append(capsys.readouterr().out)
            events.append((name, "".join(printed)))
            return None if name in NOT_DONE else real(*args, **kwargs)
        return call

    for name in names:
        monkeypatch.setattr(module, name, wrap(name, getattr(module, name)))
    return printed


def test_run_prints_every_table_before_any_file(tmp_path, monkeypatch, capsys):
    import sim.present.reports.run_report as report

    events: list[tuple[str, str]] = []
    printed = _recorder(monkeypatch, capsys, report,
                        ["write_csv", "write_workbook", "write_renderings"], events)
    assert main(["run", "baseline", "plan", "--out", str(tmp_path), "-q", "--lang", "en"]) == 0
    printed.append(capsys.readouterr().out)
    assert {name for name, _ in events} == {"write_csv", "write_workbook", "write_renderings"}
    everything = "".join(printed)
    first_write = events[0][1]
    assert f"-> {tmp_path / 'baseline'}" in first_write and f"-> {tmp_path / 'plan'}" in first_write
    assert first_write == everything      # nothing is printed once the files are being written
    assert (tmp_path / "plan" / "plan.xlsx").is_file()


def test_compare_prints_its_tables_before_any_file(tmp_path, monkeypatch, capsys):
    import sim.present.reports.run_report as report

    events: list[tuple[str, str]] = []
    printed = _recorder(monkeypatch, capsys, report,
                        ["write_csv", "write_workbook", "write_renderings"], events)
    assert main(["compare", "baseline", "plan", "--out", str(tmp_path), "-q"]) == 0
    printed.append(capsys.readouterr().out)
    assert events and events[0][0] == "write_csv"
    assert f"-> {tmp_path / 'compare'}" in events[0][1]
    assert events[0][1] == "".join(printed)
    assert (tmp_path / "compare" / "comparison.csv").is_file()


def test_uncertainty_prints_its_tables_before_any_file(tmp_path, monkeypatch, capsys):
    import sim.present.reports.uncertainty_report as report

    events: list[tuple[str, str]] = []
    printed = _recorder(monkeypatch, capsys, report, ["write_outputs"], events)
    assert main(["uncertainty", "plan", "--samples", "8", "--out", str(tmp_path), "-q",
                 "--lang", "en"]) == 0
    printed.append(capsys.readouterr().out)
    (call,) = events
    assert "P(met)" in call[1]                        # the summary tables were printed first
    assert "".join(printed).endswith(f"-> {tmp_path / 'uncertainty'}\n")   # then the folder


def test_warm_cache_runs_the_default_scenarios_compiling_in_process(monkeypatch):
    """The first step of ``make setup``'s warm start: the default scenarios of ``plansim run``
    on the batch engine, the kernel compiled in this process (no background process left
    behind); the entries are the ordinary signed ones (their trust: tests of sim.engine.cache
    and sim.engine.kernel_cache)."""
    import sim.simulate
    from sim import paths
    from sim.engine import BACKGROUND_COMPILE

    calls = []

    def run(self, scenario, **kwargs):
        calls.append((self.engine, scenario, BACKGROUND_COMPILE["on"]))

    monkeypatch.setattr(sim.simulate.Simulator, "run", run)
    monkeypatch.setitem(BACKGROUND_COMPILE, "on", True)
    sim.simulate.warm_cache()
    assert calls == [("batch", sc, False) for sc in paths.DEFAULT_SCENARIOS]
    assert BACKGROUND_COMPILE["on"] is True                  # restored


def test_setup_warms_what_the_first_commands_compile(monkeypatch):
    """``make setup`` runs :func:`sim.api.warm_start` once after installing: the default
    scenarios' runs, then their ensemble on the parallel kernel (``uncertainty``, ``brief``,
    ``explore``'s band: at least PARALLEL_MIN samples, or the serial kernel would run) and
    the loop polarities (``diagram``), each compiling in this process."""
    import sim.api
    from sim import paths
    from sim.engine import BACKGROUND_COMPILE
    from sim.engine.kernel import PARALLEL_MIN

    calls = []
    monkeypatch.setattr(sim.api, "warm_cache", lambda scs: calls.append(("runs", tuple(scs))))
    monkeypatch.setattr(sim.api, "uncertainty", lambda *scs, samples, conditioned: calls.append(
        ("ensemble", scs, samples >= PARALLEL_MIN, BACKGROUND_COMPILE["on"])))
    monkeypatch.setattr(sim.api, "calibrated_polarities", lambda: calls.append(
        ("loops", BACKGROUND_COMPILE["on"])))
    monkeypatch.setitem(BACKGROUND_COMPILE, "on", True)
    sim.api.warm_start()
    assert calls == [("runs", paths.DEFAULT_SCENARIOS),
                     ("ensemble", paths.DEFAULT_SCENARIOS, True, False), ("loops", False)]
    assert BACKGROUND_COMPILE["on"] is True                  # restored
    makefile = (paths.ROOT / "Makefile").read_text()
    install = makefile[makefile.index("$(STAMP): pyproject.toml"):makefile.index("touch $(STAMP)")]
    assert "from sim.api import warm_start; warm_start()" in install
