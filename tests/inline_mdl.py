"""The control section and empty sketch that every tiny inline ``.mdl`` of the tests ends with."""

from __future__ import annotations


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
