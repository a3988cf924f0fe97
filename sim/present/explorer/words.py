"""The fixed words of the explorer page in Chinese and English (labels of levers, indicators,
groups and scenarios come from their declarations)."""

from __future__ import annotations

from sim.model.declarations.words import group, in_group

#: the page's words (group explorer of model/words.yaml)
WORDS = group("explorer")
word = in_group("explorer")
