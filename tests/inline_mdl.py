"""The control section and empty sketch that every tiny inline ``.mdl`` of the tests ends with,
the two-sector model of the sketch and diagram tests, and the numpy-path model the analysis
tests run tiny models on."""

from __future__ import annotations

import textwrap
from pathlib import Path


def numpy_model(path: str | Path):
    """``path`` compiled to a batch model that runs on the numpy path: for tests of analysis
    code (loops, what-it-takes, estimation) that use a tiny model as their vehicle. The compiled
    kernel gives the same numbers (tests/test_kernel_agreement.py, to 1e-12) but numba compiles
    each new model for seconds; the engine's own tests run the kernel."""
    from sim.engine import compile_model

    bm = compile_model(path)
    bm.backend = "numpy"
    return bm


def control_section(final_time: float, time_step: float = 0.25, initial_time: float = 0,
                    saveper: float = 1) -> str:
    """The ``.Control`` group (Year units) followed by an empty one-view Vensim sketch."""
    def entry(name: str, value: float) -> str:
        return f"{name}  = {value:g}\n\t~\tYear\n\t~\t|\n\n"

    return ("********************************************************\n"
            "\t.Control\n"
            "********************************************************~\n"
            "\t\t|\n\n"
            + entry("FINAL TIME", final_time) + entry("INITIAL TIME", initial_time)
            + entry("SAVEPER", saveper) + entry("TIME STEP", time_step)
            + "\\\\\\---/// Sketch information - do not modify anything except names\n"
              "V300  Do not put anything below this section - it will be ignored\n"
              "*View 1\n"
              "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|"
              "72,72,100,0\n"
              "///---\\\\\\\n")


#: a two-sector model (people, money) for the sketch and diagram tests (its sectors: SKETCH_SECTORS)
SKETCH_MDL = textwrap.dedent("""\
    {UTF-8}
    population=
    \tINTEG(births - deaths, 100)
    \t~\tpersons
    \t~\t|

    births=
    \tpopulation * birth rate
    \t~\tpersons/Year
    \t~\t|

    birth rate=
    \t0.03
    \t~\t1/Year
    \t~\t|

    deaths=
    \tpopulation / lifetime
    \t~\tpersons/Year
    \t~\t|

    lifetime=
    \t70
    \t~\tYear
    \t~\t|

    wealth=
    \tINTEG(income, 0)
    \t~\tyuan
    \t~\t|

    income=
    \tpopulation * wage
    \t~\tyuan/Year
    \t~\t|

    wage=
    \t2
    \t~\tyuan/(persons*Year)
    \t~\t|

    reference population=
    \tINITIAL(population)
    \t~\tpersons
    \t~\t|

    """) + control_section(10)

SKETCH_SECTORS = textwrap.dedent("""\
    people:
      label: {zh: 人口, en: People}
      variables: [population]
    money:
      label: {zh: 财富, en: Money}
      variables: [wealth]
    """)
