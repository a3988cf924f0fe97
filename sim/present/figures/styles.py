"""One colour, line style and bar hatch per scenario across every chart of a run, declared once.

The reference scenario (``baseline`` when present, or the one a command compares against) is
grey, dashed and hatched; the other scenarios take :data:`PALETTE` colours, :data:`LINESTYLES`
and :data:`HATCHES` in the order of their ids (two scenarios differ in colour AND line style,
so they stay apart in print and for readers who do not tell the colours apart), so a scenario
looks the same in the indicator lines, the attainment bars, the 5-95 % bands (an outline and a
hatch, never stacked translucent fills) and the fan charts of one command. Red is kept for
targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: the id of the scenario drawn as the reference when no other is named
REFERENCE = "baseline"
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink",
           "tab:olive", "tab:cyan")
LINESTYLES: tuple[Any, ...] = ("-", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))
HATCHES: tuple[str, ...] = ("\\\\", "..", "xx", "||", "--")


@dataclass(frozen=True)
class ScenarioStyle:
    """How one scenario is drawn: ``color``, ``linestyle``, ``hatch`` (bars)."""

    color: str
    linestyle: Any = "-"
    hatch: str | None = None

    def line(self) -> dict[str, Any]:
        """Matplotlib kwargs of the scenario's line."""
        return {"color": self.color, "linestyle": self.linestyle, "linewidth": 1.8}

    def bar(self) -> dict[str, Any]:
        """Matplotlib kwargs of the scenario's bars."""
        return {"color": self.color, "hatch": self.hatch, "edgecolor": "0.3", "linewidth": 0.5}


REFERENCE_STYLE = ScenarioStyle("0.45", "--", "//")


def scenario_styles(ids: Sequence[str], reference: str | None = REFERENCE
                    ) -> dict[str, ScenarioStyle]:
    """Style of each scenario id (or label) in ``ids``: ``reference`` (if among them) grey and
    dashed, the others the palette colours, line styles and hatches in the order given."""
    out: dict[str, ScenarioStyle] = {}
    others = [k for k in ids if k != reference]
    for i, key in enumerate(others):
        out[key] = ScenarioStyle(PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)],
                                 HATCHES[i % len(HATCHES)])
    if reference in ids:
        out[reference] = REFERENCE_STYLE
    return {k: out[k] for k in ids}


def relabel(styles: Mapping[str, ScenarioStyle], labels: Mapping[str, str]
            ) -> dict[str, ScenarioStyle]:
    """``styles`` keyed by scenario id, re-keyed by the labels the charts show."""
    return {labels.get(k, k): v for k, v in styles.items()}
