"""The fixed words and unit names of every output, in every language, read from one file.

model/words.yaml declares them once: ``units:`` (how a model unit is shown: ``unit -> {zh, en}``),
``label_units:`` (its short form in brackets after a lever's label, :func:`labelled`)
and ``words:`` (the fixed texts of charts, tables, documents, the console and the explorer,
grouped by where they are shown: ``group -> key -> {zh, en}``). The languages are the keys of
the file's first unit (:data:`LANGS`); every entry has a text (or a list of texts) in each.
Texts take ``str.format`` placeholders (``{year}``, ``{n}``) filled by the caller, so a text
that names a year or counts indicators follows model/targets.yaml.

Adding a language is one more key in every entry of model/words.yaml (plus the labels of the
YAML declarations: targets, parameters, sectors, loops, labels, scenarios).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.yamlio import read_yaml, require_mapping


@dataclass(frozen=True)
class Words:
    """The parsed word file: languages, unit names and grouped words."""

    langs: tuple[str, ...]
    units: dict[str, dict[str, str]]
    groups: dict[str, dict[str, dict[str, Any]]]
    label_units: dict[str, dict[str, str]]


def _entry(raw: Any, where: str, langs: tuple[str, ...]) -> dict[str, Any]:
    raw = require_mapping(raw, where, ModelError)
    if tuple(raw) != langs:
        raise ModelError(f"{where}: languages {', '.join(map(str, raw))}; every entry has "
                         f"exactly {', '.join(langs)}, in that order")
    for lang, text in raw.items():
        ok = isinstance(text, str) or (isinstance(text, list)
                                       and all(isinstance(t, str) for t in text))
        if not ok:
            raise ModelError(f"{where}.{lang}: got {text!r}; a text or a list of texts")
    return dict(raw)


def parse_words(raw: Any, where: str) -> Words:
    """Check and build :class:`Words` from the parsed file; a :class:`ModelError` names the
    entry that is not ``{lang: text}`` in every language."""
    raw = require_mapping(raw, where, ModelError)
    extra = sorted(set(raw) - {"units", "label_units", "words"}, key=str)
    if extra:
        raise ModelError(f"{where}: unknown section(s) {', '.join(map(str, extra))}; "
                         "allowed: units, label_units, words")
    units_raw = require_mapping(raw.get("units"), f"{where}: units", ModelError)
    if not units_raw:
        raise ModelError(f"{where}: units is empty; its first entry names the languages")
    first = require_mapping(next(iter(units_raw.values())), f"{where}: units", ModelError)
    langs = tuple(str(k) for k in first)
    units = {str(k).lower(): _entry(v, f"{where}: units.{k}", langs) for k, v in units_raw.items()}
    groups = {}
    for g, entries in require_mapping(raw.get("words"), f"{where}: words", ModelError).items():
        entries = require_mapping(entries, f"{where}: words.{g}", ModelError)
        groups[str(g)] = {str(k): _entry(v, f"{where}: words.{g}.{k}", langs)
                          for k, v in entries.items()}
    short = require_mapping(raw.get("label_units", {}), f"{where}: label_units", ModelError)
    short = {str(k).lower(): _entry(v, f"{where}: label_units.{k}", langs)
             for k, v in short.items()}
    return Words(langs, units, groups, short)


@lru_cache(maxsize=4)
def load_words(path: Path | None = None) -> Words:
    """model/words.yaml (or ``path``), parsed and checked once per process."""
    path = Path(path) if path is not None else paths.WORDS_FILE
    return parse_words(read_yaml(path, ModelError), str(path))


#: the languages of every output, in the order of model/words.yaml (the first is the default)
LANGS: tuple[str, ...] = load_words().langs


def group(name: str) -> dict[str, dict[str, Any]]:
    """The words of one group, ``key -> {lang: text}`` (a copy)."""
    groups = load_words().groups
    if name not in groups:
        raise ModelError(f"{paths.WORDS_FILE}: no group {name!r} under words; "
                         f"known: {', '.join(sorted(groups))}")
    return {k: dict(v) for k, v in groups[name].items()}


def entry(key: str) -> dict[str, Any]:
    """The texts of ``"group.key"`` in every language, ``{lang: text}``."""
    name, _, item = key.partition(".")
    words = group(name)
    if item not in words:
        raise ModelError(f"{paths.WORDS_FILE}: no word {item!r} in group {name!r}; "
                         f"known: {', '.join(sorted(words))}")
    return words[item]


def word(key: str, lang: str, **fmt: Any) -> str:
    """The text of ``"group.key"`` in ``lang``, its ``{placeholders}`` filled from ``fmt``."""
    return entry(key)[check_lang(lang)].format(**fmt)


def texts(key: str, **fmt: Any) -> dict[str, str]:
    """:func:`word` in every language, ``{lang: text}`` (a bilingual label)."""
    return {lang: word(key, lang, **fmt) for lang in LANGS}


def in_group(name: str) -> Callable[..., str]:
    """:func:`word` for the keys of one group: ``in_group("brief")("title", lang)``."""
    group(name)  # an unknown group fails here, at import of the module that uses it

    def word_in(key: str, lang: str, **fmt: Any) -> str:
        return word(f"{name}.{key}", lang, **fmt)

    word_in.__doc__ = f"The text of ``key`` of group {name!r} of model/words.yaml in ``lang``."
    return word_in


def by_lang(name: str) -> dict[str, dict[str, Any]]:
    """The words of one group turned round: ``lang -> {key: text}``."""
    words = group(name)
    return {lang: {k: v[lang] for k, v in words.items()} for lang in LANGS}


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`, else a :class:`ModelError`."""
    if lang not in LANGS:
        raise ModelError(f"language: got {lang!r}; allowed values are "
                         + " and ".join(repr(x) for x in LANGS))
    return lang


def unit_entry(unit: str) -> Mapping[str, str] | None:
    """The declared names of a whole unit (case-insensitive), or None."""
    return load_words().units.get(str(unit).strip().lower())


def unit(u: str | None, lang: str, in_label: bool = False) -> str:
    """How the model unit ``u`` is shown in ``lang``: the whole unit if declared, else each
    ``/``-separated word that is declared (``"firms/year"`` -> ``"家/年"``); an unknown word
    passes through; None or blank gives ``""``. ``in_label``: the short form of
    ``label_units:`` where one is declared (what :func:`labelled` writes)."""
    check_lang(lang)
    if u is None or not str(u).strip():
        return ""
    u = str(u).strip()
    short = load_words().label_units.get(u.lower()) if in_label else None
    if short is not None:
        return short[lang]
    whole = unit_entry(u)
    if whole is not None:
        return whole[lang]
    units = load_words().units
    return "/".join(units.get(p.strip().lower(), {}).get(lang, p.strip()) for p in u.split("/"))


def labelled(label: str, u: str | None, lang: str) -> str:
    """The one composition of a label and its model unit ``u``: ``"单笔股权投资上限(万元/家)"``,
    ``"Equity ticket cap (万元/firm)"`` (``punctuation.label_unit`` of the short unit
    :func:`unit` gives ``in_label``); the label alone when that unit is empty."""
    shown = unit(u, lang, in_label=True)
    return word("punctuation.label_unit", lang, name=label, unit=shown) if shown else label
