"""Presentation layer: fonts, labels, charts, tables, Excel and atomic output writing.

Modules (import them directly; this package imports nothing so that it stays cheap):

- :mod:`sim.present.fonts`: the CJK font (``use_cjk_font``).
- :mod:`sim.present.labels`: bilingual labels, units, number formatting.
- :mod:`sim.present.charts`: indicator, sector and comparison charts (plus the re-exported
  uncertainty/sensitivity charts of :mod:`sim.present.analysis_charts`).
- :mod:`sim.present.tables`: CSV with units sidecar, Excel workbooks, console tables.
- :mod:`sim.present.atomic`: atomic directories and files, ``save_figure``.
- :mod:`sim.present.outdir`: result folders plansim owns (marker, lock, stale temporaries,
  SIGINT/SIGTERM).
"""
