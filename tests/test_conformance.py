"""The 26 SDXorg conformance models run through the batch engine and match Vensim's output."""

from __future__ import annotations

import pytest
from conformance_cases import CONFORMANCE, ROWS


@pytest.mark.skipif(not ROWS, reason="conformance models not available")
@pytest.mark.parametrize("row", ROWS, ids=[r["test"] for r in ROWS])
def test_conformance_model(row):
    from sim.engine.conformance import run_test

    result = run_test(CONFORMANCE, row)
    assert result.passed, f"{result.name}: {result.worst} {result.error} {result.message}"


def test_cli_prints_summary(capsys, tmp_path):
    from sim.cli.main import main

    (tmp_path / "manifest.csv").write_text("test,model,expected,data_files,rtol,atol\n"
                                           "teacup,m.mdl,out.tab,,1e-5,1e-5\n")
    (tmp_path / "teacup").mkdir()
    (tmp_path / "teacup" / "m.mdl").write_text(
        "x = INTEG(1, 0)\n~\n~|\nINITIAL TIME = 0\n~\n~|\nFINAL TIME = 2\n~\n~|\n"
        "TIME STEP = 1\n~\n~|\nSAVEPER = 1\n~\n~|\n")
    (tmp_path / "teacup" / "out.tab").write_text("Time\tx\n0\t0\n1\t1\n2\t5\n")
    code = main(["conformance", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert out[0].startswith("FAIL teacup") and "'x'" in out[0]
    assert out[-1] == "0 passed, 1 failed"
    (tmp_path / "teacup" / "out.tab").write_text("Time\tx\n0\t0\n1\t1\n2\t2\n")
    assert main(["conformance", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1 passed, 0 failed"
