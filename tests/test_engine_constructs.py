"""Each construct family compiled by the batch engine agrees with PySD on a tiny model."""

from __future__ import annotations

import pytest
from test_engine_helpers import assert_matches_pysd, write_model

from sim.engine import compile_model

MODELS = {
    "stock_flow": """
stock = INTEG(inflow - outflow, 10)
~ people ~ A stock. |
inflow = rate * stock
~ people/Month ~|
outflow = stock / lifetime
~ people/Month ~|
rate = 0.1
~ 1/Month ~|
lifetime = 4
~ Month ~|
""",
    "arithmetic_logic": """
a = Time * 2 - 3 ^ 2 / 4
~~|
b = IF THEN ELSE(a > 3 :AND: Time < 8, MIN(a, 5), MAX(a, -1))
~~|
c = ABS(-a) + EXP(0.1 * Time) + LN(1 + Time) + SQRT(Time)
~~|
d = INTEGER(a / 3) + MODULO(Time, 3)
~~|
e = XIDZ(a, Time - 4, 99) + ZIDZ(a, Time - 5)
~~|
""",
    "time_functions": """
s = STEP(2, 3) + RAMP(0.5, 2, 6) + PULSE(4, 2) + PULSE TRAIN(1, 1, 3, 9)
~~|
""",
    "lookups": """
table(
[(0,0)-(10,10)],(0,0),(2,4),(5,5),(8,1))
~~|
from_table = table(Time) + table(Time * 2)
~~|
inline = WITH LOOKUP(Time, ([(0,0)-(10,10)],(0,1),(5,3),(10,0)))
~~|
""",
    "delays_smooths": """
input = 1 + STEP(4, 2)
~~|
d1 = DELAY1(input, 2)
~~|
d3 = DELAY3I(input, 3, 2)
~~|
dn = DELAY N(input, 2, 1, 4)
~~|
df = DELAY FIXED(input, 1.5, 0)
~~|
sm = SMOOTH(input, 2)
~~|
sm3 = SMOOTH3I(input, 3, 5)
~~|
""",
    "initial_active": """
stock = INTEG(1, 2)
~~|
frozen = INITIAL(stock * 3)
~~|
ai = ACTIVE INITIAL(stock * 2, 7)
~~|
""",
    "subscripts": """
region: north, south, east
~~|
sector: farm, factory
~~|
share[region] = 0.2, 0.3, 0.5
~~|
output[region, sector] = INTEG(growth[region, sector], base[region, sector])
~~|
base[region, sector] = 1, 2; 3, 4; 5, 6;
~~|
growth[region, farm] = share[region] * 0.1
~~|
growth[region, factory] = share[region] * 0.2
~~|
total[sector] = SUM(output[region!, sector])
~~|
biggest = VMAX(output[region!, sector!]) + VMIN(share[region!]) + PROD(share[region!])
~~|
""",
    "macro": """
:MACRO: DOUBLER(input, rate)
DOUBLER = INTEG(input * rate, input)
~ input ~~|
:END OF MACRO:
x = DOUBLER(2, 0.5)
~~|
""",
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_agrees_with_pysd(tmp_path, name):
    path = write_model(tmp_path, MODELS[name])
    ds = compile_model(path).run()
    assert_matches_pysd(path, ds)


def test_dims_and_metadata(tmp_path):
    bm = compile_model(write_model(tmp_path, MODELS["subscripts"]))
    ds = bm.run()
    assert ds["output"].dims == ("sample", "time", "region", "sector")
    assert list(ds["output"]["sector"].values) == ["farm", "factory"]
    assert ds["total"].dims == ("sample", "time", "sector")
    info = bm.variable("output")
    assert info.kind == "stock" and info.subscripts == ("region", "sector")
    assert bm.variable("share").kind == "constant"


def test_metadata_units_and_docs(tmp_path):
    bm = compile_model(write_model(tmp_path, MODELS["stock_flow"]))
    info = bm.variable("stock")
    assert (info.units, info.documentation, info.kind) == ("people", "A stock.", "stock")
    assert bm.variable("inflow").kind == "aux"
    assert (bm.initial_time, bm.final_time, bm.time_step, bm.saveper) == (0, 10, 0.5, 1)
    ds = bm.run()
    assert ds["stock"].attrs == {"units": "people", "description": "A stock.",
                                 "vensim_name": "stock"}
