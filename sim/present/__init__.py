"""Presentation layer: what people read and what plansim writes to disk.

One room per concern (import the modules directly; the packages import nothing, so that they
stay cheap):

- :mod:`sim.present.labels`: bilingual labels, units, number formatting (shared by every room).
- :mod:`sim.present.figures`: charts (Axes in, Axes out), their layout, styles, the CJK font,
  diagrams.
- :mod:`sim.present.tabular`: CSV and console tables, labelled summaries, workbooks, catalogues.
- :mod:`sim.present.documents`: generated blocks of the Markdown documents, the briefing.
- :mod:`sim.present.output`: atomic writing, folders plansim owns, the figure render pool.
- :mod:`sim.present.reports`: everything one command writes.
- :mod:`sim.present.explorer`: the live explorer (``plansim explore``).
"""
