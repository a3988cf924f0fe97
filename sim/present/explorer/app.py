"""The explorer page (Panel on a Bokeh server, or inline in Jupyter): lever sliders grouped by
lever group, the indicators with history, targets and references, the target table, the
fiscal cost, the uncertainty switch, save and load, and the zh/en switch.

All state and every number live in :class:`~sim.present.explorer.session.Session`; this module
lays them out and wires the widgets. A slider re-runs on release (``value_throttled``).
"""

from __future__ import annotations

import html
import io
from typing import Any

import pandas as pd

from sim.analysis.outcomes.targets import ALL_TARGETS
from sim.errors import cap
from sim.present.explorer.controls import Controls
from sim.present.explorer.figures import IndicatorFigure, legend_html
from sim.present.explorer.guard import off_loop, page_message
from sim.present.explorer.session import Outcome, Session, read_upload
from sim.present.explorer.words import word
from sim.present.labels import format_number, label, unit_label
from sim.present.tabular.columns import decimals
from sim.scenarios import load_scenario
from sim.scenarios.loader import list_scenarios

FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
#: the page's font (CSS variables inherit into every widget's shadow root)
CSS = (f":root, :host {{ --bokeh-base-font: {FONTS}; --base-font: {FONTS}; "
       f"--body-font: {FONTS}; font-family: {FONTS}; }}")
TABLE_CSS = """
table.targets { border-collapse: collapse; font-size: 14px; }
table.targets th, table.targets td { padding: 3px 9px; border-bottom: 1px solid #ddd; }
table.targets td.num { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b00020; font-weight: bold; }
.stale { background: #fff3cd; color: #7a4b00; padding: 3px 8px; font-weight: bold; }
"""


def font_face(url: str) -> str:
    """The ``@font-face`` rule of the CJK font served at ``url``."""
    return (f'@font-face {{ font-family: "Noto Sans CJK SC"; src: url("{url}") '
            'format("opentype"); font-display: block; }')


def change_text(value: float, reference: float) -> str:
    """``value - reference`` to the decimals ``value`` is shown with, and in percent to one
    decimal; a change below both shows as 0 (never ``-0.0258 (-0.0%)``)."""
    d = decimals([value])
    change = round(value - reference, d)
    rel = (value - reference) / reference if reference else 0.0
    if change == 0 and round(rel, 3) == 0:
        return "0"
    pct = f" ({rel:+.1%})" if reference and round(rel, 3) != 0 else ""
    return f"{change:+,.{d}f}{pct}"


class Explorer:
    """The page of one session; :attr:`layout` is the Panel object to serve or display."""

    def __init__(self, session: Session, lang: str = "zh"):
        import panel as pn

        self.s, self.lang, self.pn = session, lang, pn
        self.outcome: Outcome | None = None
        self.quiet = False
        t, p = session.targets, session.targets.plan
        self.title = pn.pane.HTML("", sizing_mode="stretch_width")
        self.lang_switch = pn.widgets.RadioButtonGroup(
            options={"中文": "zh", "English": "en"}, value=lang,
            width=160, css_classes=["lang-switch"])
        self.scenarios = {path.stem: load_scenario(path) for path in list_scenarios()}
        self.scenario_ids = list(self.scenarios)
        self.reset_select = pn.widgets.Select(options=self.scenario_ids, width=300,
                                              value=session.base.id if session.base.id in
                                              self.scenario_ids else self.scenario_ids[0])
        self.reset_button = pn.widgets.Button(label="", width=90)
        self.download = pn.widgets.FileDownload(callback=self._download, filename="scenario",
                                                width=230)
        self.upload_label = pn.pane.HTML("")
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", width=230, multiple=False)
        self.band_switch = pn.widgets.Checkbox(label="", value=False, css_classes=["band-switch"])
        self.message = pn.pane.HTML("", sizing_mode="stretch_width",
                                    stylesheets=[TABLE_CSS])
        self.fiscal = pn.pane.HTML("", sizing_mode="stretch_width")
        self.status = pn.pane.HTML("", sizing_mode="stretch_width")
        self.table = pn.pane.HTML("", stylesheets=[TABLE_CSS], sizing_mode="stretch_width")
        self.legend = pn.pane.HTML("", sizing_mode="stretch_width")
        self.levers_title = pn.pane.HTML("")
        self.marks_note = pn.pane.HTML("")
        self.sliders: dict[tuple[str, int], Any] = {}
        self.controls = Controls(self, session)
        self.group_columns = self.controls.group_columns
        first = next(iter(self.group_columns))
        self.group_select = pn.widgets.Select(options=list(self.group_columns), value=first,
                                              width=440, css_classes=["lever-group"])
        self.group_view = pn.Column(self.group_columns[first], sizing_mode="stretch_width")
        self.group_select.param.watch(self._show_group, "value")
        refs = session.references
        years = (float(refs["plan"]["time"].values[0]), float(refs["plan"]["time"].values[-1]))
        self.figures = [IndicatorFigure(item, session.history, refs, p.period, years)
                        for item in t.items]
        self.figure_titles = [pn.pane.HTML("", margin=(0, 10)) for _ in self.figures]
        cells = [pn.Column(title, pn.pane.Bokeh(f.figure, sizing_mode="stretch_width"),
                           sizing_mode="stretch_width")
                 for title, f in zip(self.figure_titles, self.figures, strict=True)]
        grid = pn.GridBox(*cells, ncols=3, sizing_mode="stretch_width")
        side = pn.Column(self.levers_title, self.marks_note,
                         pn.Row(self.reset_select, self.reset_button, align="end"),
                         self.group_select, self.group_view, width=470)
        self.stale = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[TABLE_CSS])
        self.results = pn.Column(self.fiscal, self.table, self.legend, grid,
                                 sizing_mode="stretch_width")
        main = pn.Column(pn.Row(self.title, self.lang_switch, sizing_mode="stretch_width"),
                         self.status, self.message, self.stale,
                         pn.Row(self.download, pn.Column(self.upload_label, self.upload)),
                         self.band_switch, self.results, sizing_mode="stretch_width")
        self.layout = pn.Row(side, main, sizing_mode="stretch_width",
                             stylesheets=[CSS])
        self.lang_switch.param.watch(lambda e: self.set_lang(e.new), "value")
        self.reset_button.on_click(lambda _e: self.reset(self.reset_select.value))
        self.upload.param.watch(self._uploaded, "value")
        self.band_switch.param.watch(self._band, "value")
        self._retext()
        self.refresh()

    # -- actions (also the notebook's and the tests' way in) ------------------------------------
    def set_lever(self, lever: str, year: int, value: float) -> None:
        """Set a lever as the page does (slider released or value typed), and re-run when
        something changed (a share may move the other shares of its year)."""
        self.controls.invalid.pop((lever, year), None)
        changed = self.s.set_value(lever, year, value)
        self._sync_sliders(changed)
        if changed or not self.controls.invalid:
            self.refresh()

    def reset(self, scenario_id: str) -> None:
        self.s.reset_to(scenario_id)
        self._after_base_change(word("loaded", self.lang, name=self.s.base.label[self.lang]))

    def set_lang(self, lang: str) -> None:
        self.lang = lang
        with self.pn.io.hold():   # one message to the page, not one per change
            if self.lang_switch.value != lang:
                self.lang_switch.value = lang
            self._retext()
            self._render()

    def refresh(self) -> None:
        """Re-run the current settings and redraw; a library error is shown on the page."""
        with self.pn.io.hold():
            self.current = False
            try:
                if not self.controls.invalid:
                    self.outcome = self.s.run()
                    self.current = True
                self._error(None)
            except Exception as exc:   # every failure: one line on the page (guard)
                self._error(page_message(exc, self.lang))
            self._render()

    # -- widget callbacks ---------------------------------------------------------------------
    def _show_group(self, event) -> None:
        if event.new in self.group_columns:
            self.group_view.objects = [self.group_columns[event.new]]

    def _uploaded(self, event) -> None:
        if self.quiet or not event.new:
            return
        name, data = self.upload.filename or "upload.yaml", bytes(event.new)
        self.status.object = html.escape(word("reading", self.lang, name=cap(name, 60)))

        def done(base, error) -> None:   # back on the event loop
            try:
                if error is not None:
                    raise error
                self.s.reset_to(base)
            except Exception as exc:   # every failure: one line on the page (guard)
                with self.pn.io.hold():
                    self._error(page_message(exc, self.lang))
                    self._render()
                return
            self._after_base_change(word("loaded", self.lang, name=name))

        # parsed in a worker thread: a large file never holds the other pages
        off_loop(self.pn.state.curdoc, lambda: read_upload(name, data), done)

    def _band(self, event) -> None:
        self.s.band_on = bool(event.new)
        if event.new:
            self.status.object = word("computing", self.lang)
            self._later(self.refresh)
        else:
            self.refresh()

    def _download(self):
        self.download.filename = self.s.file_name
        return io.BytesIO(self.s.yaml_text().encode("utf-8"))

    # -- drawing ------------------------------------------------------------------------------
    def _later(self, fn) -> None:
        """Run ``fn`` after the page got the changes made so far (at once outside a server)."""
        doc = self.pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(fn)
        else:
            fn()

    def _after_base_change(self, note: str) -> None:
        self._sync_sliders(list(self.s.params.levers))
        if self.s.base.id in self.scenario_ids:
            self.quiet = True
            self.reset_select.value = self.s.base.id
            self.quiet = False
        self.refresh()
        if self.outcome is not None and not self.message.object:
            self.message.object = html.escape(note)

    def _sync_sliders(self, levers) -> None:
        self.quiet = True
        try:
            self.controls.sync(levers)
        finally:
            self.quiet = False

    def _error(self, message: str | None) -> None:
        invalid = self.controls.invalid_text(self.lang)
        if message is None and not invalid:
            self.message.object = ""
            return
        text = "" if message is None else html.escape(word("error", self.lang) + cap(message))
        self.message.object = (f'<div class="error" data-testid="error">{text}'
                               f"{'<br>' if text and invalid else ''}{html.escape(invalid)}"
                               "</div>")

    def _retext(self) -> None:
        lang, s, p = self.lang, self.s, self.s.targets.plan
        self.title.object = f"<h2 style='margin:4px 0'>{html.escape(word('title', lang))}</h2>"
        intro = word("intro", lang, year=s.targets.year, n=s.targets.count_word(lang))
        self.levers_title.object = (f"<h3 style='margin:4px 0'>"
                                    f"{word('levers', lang, start=p.start, end=p.target_year)}"
                                    f"</h3><div>{intro}</div>")
        self.marks_note.object = f"<small>{word('marks', lang)}</small>"
        self.reset_button.label = word("reset", lang)
        self.reset_select.label = word("reset_to", lang)
        self.group_select.label = word("group", lang)
        self.download.label = word("save", lang)
        self.upload_label.object = f"<small>{word('upload', lang)}</small>"
        self.band_switch.label = word("band", lang, n=s.samples)
        self.controls.retext(lang)
        names = [self.controls.group_label(g, lang) for g in self.group_columns]
        self.quiet = True
        group = self.group_select.value
        self.group_select.options = dict(zip(names, self.group_columns, strict=True))
        self.group_select.value = group
        chosen = self.reset_select.value
        self.reset_select.options = {sc.label(lang): sid
                                     for sid, sc in self.scenarios.items()}
        self.reset_select.value = chosen
        self.quiet = False
        for title, item in zip(self.figure_titles, s.targets.items, strict=True):
            title.object = (f"<b>{html.escape(label(item.label, lang))}</b> "
                            f"（{html.escape(unit_label(item.unit, lang))}）" if lang == "zh" else
                            f"<b>{html.escape(label(item.label, lang))}</b> "
                            f"({html.escape(unit_label(item.unit, lang))})")

    def _render(self) -> None:
        lang, s, out = self.lang, self.s, self.outcome
        moved = word("moved", lang, n=len(s.moved)) if s.moved else ""
        status = word("scenario", lang, name=html.escape(s.base.label[lang]), moved=moved)
        if s.band_on:
            status += "<br><small>" + word("band_note", lang, sc=html.escape(s.start.id),
                                           seed=s.seed) + "</small>"
        self.status.object = status
        self.controls.render(lang)
        stale = not getattr(self, "current", True)
        self.stale.object = (f'<div class="stale" data-testid="stale">{word("stale", lang)}'
                             "</div>" if stale else "")
        self.results.styles = {"opacity": "0.4"} if stale else {}
        self.legend.object = legend_html({
            "current": word("current", lang), "baseline": word("baseline", lang),
            "plan": word("plan", lang), "history": word("history", lang),
            "target": word("target_mark", lang, year=s.targets.year),
            "band": word("band_legend", lang)}, out is not None and out.band is not None)
        if out is None:
            return
        p = s.targets.plan
        refs = {k: format_number(v) for k, v in s.reference_costs.items()}
        self.fiscal.object = (
            f'<span data-testid="fiscal" data-value="{out.fiscal_cost!r}">'
            + word("fiscal", lang, start=p.start, end=p.target_year,
                   value=format_number(out.fiscal_cost))
            + word("fiscal_refs", lang, base=refs["baseline"], plan=refs["plan"]) + "</span>")
        self.table.object = self._table_html(out)
        for f in self.figures:
            f.update(out.central, out.band)

    def _table_html(self, out: Outcome) -> str:
        lang, t = self.lang, self.s.targets
        heads = [word("indicator", lang), word("target", lang, year=t.year),
                 word("value", lang, year=t.year), word("share", lang), word("reached", lang),
                 word("change", lang)]
        probs = out.probabilities
        if probs is not None:
            heads.append(word("pmet", lang))
        rows = ["<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in heads) + "</tr>"]
        col = f"value_{t.year}"
        horizon = int(round(float(out.central["time"].values[-1])))
        for item in t.items:
            r = out.table.loc[item.indicator]
            value, plan = float(r[col]), float(r["plan"])
            reached = r["year_reached"]
            reached = str(int(reached)) if not pd.isna(reached) else \
                word("never", lang, h=horizon)
            change = change_text(value, plan)
            cells = [html.escape(label(item.label, lang)),
                     f"{item.comparison} {format_number(item.target)} "
                     f"{html.escape(unit_label(item.unit, lang))}",
                     f'<span data-testid="value-{item.indicator}" data-value="{value!r}">'
                     f"{format_number(value)}</span>",
                     f"{value / item.target:.0%}", reached,
                     change]
            if probs is not None:
                cells.append(self._pmet(probs, item.indicator))
            rows.append(f'<tr data-indicator="{item.indicator}">' + "".join(
                f'<td class="{"num" if i else ""}">{c}</td>' for i, c in enumerate(cells))
                + "</tr>")
        if probs is not None:
            rows.append("<tr><td>" + html.escape(word("all", lang)) + "</td>"
                        + '<td></td>' * 5 + f'<td class="num">{self._pmet(probs, ALL_TARGETS)}'
                        + "</td></tr>")
        return f'<table class="targets" data-testid="targets">{"".join(rows)}</table>'

    @staticmethod
    def _pmet(probs, key: str) -> str:
        p = float(probs.loc[key, "probability"])
        shown = "<1%" if 0 < p < 0.005 else f"{p:.0%}"
        return f'<span data-testid="pmet-{key}" data-value="{p!r}">{shown}</span>'
