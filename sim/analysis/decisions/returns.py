"""Return per 亿元 by lever group: the change in each target-year indicator per 亿元 of extra
money spent over the plan years through one group's allocation lines.

For each lever group that owns allocation lines (:mod:`sim.analysis.decisions.money`), ``amount`` 亿元
are added over the plan years, split across the group's lines in proportion to the scenario's
own shares in the first plan year (evenly if they are all zero), and every sample of the
conditioned ensemble is run with and without it (common random numbers). Per sample::

    return = (indicator_2028(with) - indicator_2028(without)) / measured extra money

The table gives the median and the 5th-95th percentile interval over the samples, and the
assumption each return rests on most: the assumption with the largest absolute Spearman rank
correlation with the return over the samples (the return's spread is mostly that
assumption's), with the correlation. A return is a finite difference at ``amount``, not a
derivative: lines with demand-driven payouts (awards) saturate once demand is met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.analysis.decisions import money
from sim.analysis.ensembles.influence import spearman
from sim.analysis.ensembles.uncertainty import at_year

if TYPE_CHECKING:
    from sim.analysis.decisions.money import MoneyBase
    from sim.analysis.decisions.what_it_takes import Ensemble

DEFAULT_AMOUNT = 10.0


def group_mixes(base: MoneyBase, amount: float) -> dict[str, np.ndarray]:
    """Mix (亿元 per line) spending ``amount`` through each lever group."""
    out: dict[str, np.ndarray] = {}
    for group in dict.fromkeys(base.groups):
        mask = np.array([g == group for g in base.groups])
        w = np.where(mask, base.shares[:, 0], 0.0)
        w = w / w.sum() if w.sum() > 0 else mask / mask.sum()
        out[group] = amount * w
    return out


def returns_table(ensemble: Ensemble, amount: float = DEFAULT_AMOUNT,
                  say: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per (group, indicator): median, P5, P95 per 亿元, central-sample-free."""
    say = say or (lambda _m: None)
    targets = ensemble.targets
    zero = ensemble.run(np.zeros(len(ensemble.base.lines)))
    names = list(ensemble.assumptions)
    values = np.column_stack([np.asarray(ensemble.assumptions[n], float) for n in names])
    rows = []
    for group, mix in group_mixes(ensemble.base, amount).items():
        ds = ensemble.run(mix)
        spend = money.extra_money(ds, ensemble.reference, ensemble.base.years)
        used = [lid for lid, v in zip(ensemble.base.lines, mix, strict=True) if v > 0]
        say(f"returns: {group} ({', '.join(used)})")
        for t in targets.items:
            r = (at_year(ds[t.indicator], targets.year)
                 - at_year(zero[t.indicator], targets.year)) / spend
            ok = np.isfinite(r)
            cors = [spearman(values[ok, j], r[ok]) for j in range(len(names))]
            cors = np.nan_to_num(np.abs(cors), nan=-1.0)
            j = int(np.argmax(cors))
            rows.append({"group": group, "indicator": t.indicator, "unit": f"{t.unit}/亿元",
                         "median": float(np.median(r[ok])),
                         "P5": float(np.percentile(r[ok], 5)),
                         "P95": float(np.percentile(r[ok], 95)),
                         "extra_money": spend,
                         "rests_on": names[j] if cors[j] > 0 else "",
                         "rank_correlation": float(cors[j]) if cors[j] > 0 else float("nan"),
                         "n": int(ok.sum())})
    return pd.DataFrame(rows)
