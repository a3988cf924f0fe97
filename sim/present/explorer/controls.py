"""The explorer's lever controls: per lever and plan year a slider and a number box beside it.

A slider re-runs on release or on an arrow key (``value_throttled``); a box takes a typed value
exactly (on Enter or leaving the box) and refuses one outside the lever's declared range, in the
page's language, leaving the results marked as not current until it is corrected. The box shows
the value exactly as it is saved. The allocation shares (the levers of a sum constraint of
``model/parameters.yaml``) form one group of their own, by year, with what they leave
unallocated: moving one share takes from the others in proportion when the sum would exceed
the bound (:func:`~sim.present.explorer.session.rebalance`), so it never can.
"""

from __future__ import annotations

import html
from typing import Any

from sim.present.explorer.session import Session, step_of
from sim.present.explorer.words import word
from sim.present.labels import label, unit_label


def exact(value: float) -> str:
    """A lever value as saved (``0.241`` stays ``0.241``; ``1000.0`` reads ``1000``)."""
    return f"{value:.12g}"


def parse(text: str) -> float | None:
    """A typed number (a decimal comma or full-width digits accepted), or None."""
    import unicodedata

    t = unicodedata.normalize("NFKC", text).strip().replace(",", ".")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if v == v and abs(v) != float("inf") else None


def mark_css(lever: Any, base: float, plan: float) -> str:
    """Marks on a slider's track at the baseline (grey) and plan (orange) values."""
    def pos(v: float) -> float:
        span = lever.max - lever.min
        return 100.0 * (min(max(v, lever.min), lever.max) - lever.min) / span if span else 0.0

    return (".noUi-base::before, .noUi-base::after { content: ''; position: absolute; "
            "top: -5px; bottom: -5px; width: 3px; z-index: 2; pointer-events: none; }"
            f".noUi-base::before {{ left: calc({pos(base):.3f}% - 1px); background: #7f7f7f; }}"
            f".noUi-base::after {{ left: calc({pos(plan):.3f}% - 1px); background: #e6550d; }}")


class Controls:
    """The sliders and boxes of one page (``page``: the Explorer they report to)."""

    def __init__(self, page: Any, session: Session):
        import panel as pn

        self.page, self.s, self.pn = page, session, pn
        self.sliders: dict[tuple[str, int], Any] = page.sliders
        self.boxes: dict[tuple[str, int], Any] = {}
        self.heads: dict[tuple[str, int | None], Any] = {}
        self.invalid: dict[tuple[str, int], str] = {}   # typed text refused, by lever and year
        shares = session.share_groups
        self.constraints = {c.id: c for c in shares.values()}
        self.remainders = {cid: pn.pane.HTML("", sizing_mode="stretch_width")
                           for cid in self.constraints}
        groups: dict[str, list] = {g: [] for g in session.params.groups}
        for lid, lever in session.params.levers.items():
            if lid in shares:
                continue
            head = pn.pane.HTML("", margin=(8, 5, 0, 5))
            self.heads[(lid, None)] = head
            rows = [self._control(lid, y, str(y)) for y in session.years]
            groups[lever.group].append(pn.Column(head, *rows, sizing_mode="stretch_width"))
        for cid, c in self.constraints.items():   # one group per constraint, by year
            blocks = [self.remainders[cid]]
            for y in session.years:
                rows = []
                for lid in c.levers:
                    head = pn.pane.HTML("", margin=(4, 5, 0, 5))
                    self.heads[(lid, y)] = head
                    rows += [head, self._control(lid, y, "")]
                blocks.append(pn.Column(pn.pane.HTML(f"<h4 style='margin:8px 5px 0'>{y}</h4>"),
                                        *rows, sizing_mode="stretch_width"))
            groups[f"constraint:{cid}"] = blocks
        self.group_columns = {g: pn.Column(*rows, sizing_mode="stretch_width", scroll=True,
                                           height=640) for g, rows in groups.items() if rows}

    def _control(self, lid: str, year: int, name: str):
        pn, s = self.pn, self.s
        lever = s.params.levers[lid]
        value = s.values[lid][year]
        sl = pn.widgets.FloatSlider(
            label=name, start=lever.min, end=lever.max, step=step_of(lever.min, lever.max),
            value=value, show_value=False, sizing_mode="stretch_width", margin=(0, 10),
            css_classes=[f"lever-{lid}-{year}"],
            stylesheets=[mark_css(lever, s.marks["baseline"][lid][year],
                                  s.marks["plan"][lid][year])])
        box = pn.widgets.TextInput(value=exact(value), width=92, margin=(0, 5),
                                   css_classes=[f"box-{lid}-{year}"])
        sl.param.watch(self._moved(lid, year), "value_throttled")
        box.param.watch(self._typed(lid, year), "value")
        self.sliders[(lid, year)], self.boxes[(lid, year)] = sl, box
        return pn.Row(sl, box, sizing_mode="stretch_width")

    # -- events -------------------------------------------------------------------------------
    def _moved(self, lid: str, year: int):
        def moved(event) -> None:
            if not self.page.quiet and event.new is not None:
                self.page.set_lever(lid, year, float(event.new))
        return moved

    def _typed(self, lid: str, year: int):
        def typed(event) -> None:
            if self.page.quiet:
                return
            v = parse(event.new or "")
            if v is None or not self.s.check_value(lid, v):
                self.invalid[(lid, year)] = event.new
                self.page.refresh()
                return
            self.page.set_lever(lid, year, v)
            self.sync([lid])   # the box shows the value as saved (e.g. 0.2414 -> 0.241)
        return typed

    # -- drawing ------------------------------------------------------------------------------
    def sync(self, levers) -> None:
        """Sliders and boxes of ``levers`` to the session's values (the caller is quiet)."""
        for lid in levers:
            for y in self.s.years:
                self.invalid.pop((lid, y), None)
                v = self.s.values[lid][y]
                self.sliders[(lid, y)].value = v
                self.boxes[(lid, y)].value = exact(v)

    def invalid_text(self, lang: str) -> str:
        """The refused typed values in ``lang`` (empty when there are none)."""
        out = []
        for (lid, y), text in self.invalid.items():
            lever = self.s.params.levers[lid]
            out.append(word("bad_value", lang, name=label(lever.label, lang), year=y,
                            text=text, lo=exact(lever.min), hi=exact(lever.max)))
        return " ".join(out)

    def group_label(self, group: str, lang: str) -> str:
        if group.startswith("constraint:"):
            c = self.constraints[group.split(":", 1)[1]]
            text = c.attribution_label or c.label
            return label(text, lang) if text else c.id
        return label(self.s.params.groups[group], lang)

    def retext(self, lang: str) -> None:
        info = self.s.sim.info
        for (lid, year), head in self.heads.items():
            lever = self.s.params.levers[lid]
            units = info.loc[lever.py_name, "units"] if lever.py_name in info.index else ""
            unit = unit_label(units, lang) if isinstance(units, str) else ""
            rng = word("range", lang, lo=exact(lever.min), hi=exact(lever.max))
            small = f"<small>[{html.escape(unit)}; {rng}]</small>" if year is None else ""
            head.object = f"<b>{html.escape(label(lever.label, lang))}</b> {small}"

    def render(self, lang: str) -> None:
        """The unallocated remainder of each constraint, by year."""
        for cid, c in self.constraints.items():
            cells = "".join(
                f'<td data-testid="unallocated-{y}" data-value="{self.s.unallocated(c, y)!r}">'
                f"{exact(self.s.unallocated(c, y))}</td>" for y in self.s.years)
            years = "".join(f"<th>{y}</th>" for y in self.s.years)
            self.remainders[cid].object = (
                f"<div><small>{html.escape(word('shares_rule', lang, max=exact(c.max_sum)))}"
                f"</small></div><table class='targets'><tr><th></th>{years}</tr>"
                f"<tr><td>{html.escape(word('unallocated', lang))}</td>{cells}</tr></table>")
