"""Presentation layer: fonts, labels, charts, tables, Excel and atomic output writing.

Modules (import them directly; this package imports nothing so that it stays cheap):

- :mod:`sim.present.figures.fonts`: the CJK font (``use_cjk_font``).
- :mod:`sim.present.labels`: bilingual labels, units, number formatting.
- :mod:`sim.present.figures.charts`: indicator, sector and comparison charts (plus the re-exported
  uncertainty/sensitivity charts of :mod:`sim.present.figures.analysis_charts`).
- :mod:`sim.present.tabular.tables`: CSV with units sidecar, Excel workbooks, console tables.
- :mod:`sim.present.output.atomic`: atomic directories and files, ``save_figure``.
- :mod:`sim.present.output.outdir`: result folders plansim owns (marker, lock, stale temporaries,
  SIGINT/SIGTERM).
"""
