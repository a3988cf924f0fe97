"""The fixed words and unit names are data (model/words.yaml), read by sim.model.declarations.words only."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

from sim import paths
from sim.errors import ModelError
from sim.model.declarations.words import LANGS, entry, load_words, parse_words, unit, word
from sim.model.declarations.yamlio import loads, read_yaml

SIM = Path(__file__).resolve().parent.parent / "sim"


def bilingual_literals(source: str, langs=LANGS) -> list[int]:
    """Lines of the dict literals (or ``dict(...)`` calls) whose keys are exactly ``langs``:
    a table of fixed words typed in code instead of model/words.yaml."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict) and node.keys and all(
                isinstance(k, ast.Constant) for k in node.keys):
            keys = [k.value for k in node.keys]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict" \
                and node.keywords and not node.args:
            keys = [k.arg for k in node.keywords]
        else:
            continue
        if sorted(map(str, keys)) == sorted(langs):
            out.append(node.lineno)
    return out


def test_languages_come_from_the_word_file():
    raw = read_yaml(paths.WORDS_FILE, ModelError)
    assert tuple(next(iter(raw["units"].values()))) == LANGS
    assert len(LANGS) >= 2


def test_every_key_has_every_language():
    words = load_words()
    entries = [(f"units.{k}", v) for k, v in words.units.items()]
    entries += [(f"label_units.{k}", v) for k, v in words.label_units.items()]
    entries += [(f"{g}.{k}", v) for g, items in words.groups.items() for k, v in items.items()]
    assert len(entries) > 300
    bad = [key for key, v in entries if tuple(v) != LANGS
           or any(not isinstance(t, str | list) for t in v.values())]
    assert bad == []
    # a text missing in one language is empty in every language (a deliberate blank), or
    # present in all
    half = [key for key, v in entries
            if len({bool(t) for t in v.values()}) > 1]
    assert half == []


def test_an_entry_without_a_language_is_refused_with_its_key():
    text = "units:\n  x: {zh: 倍, en: x}\nwords:\n  g:\n    ok: {zh: 是, en: yes}\n    bad: {zh: 否}\n"
    with pytest.raises(ModelError, match=r"words\.g\.bad: languages zh; every entry has exactly "
                                         r"zh, en"):
        parse_words(loads(text), "words.yaml")
    with pytest.raises(ModelError, match="unknown section"):
        parse_words(loads(text.replace("words:", "wrods:")), "words.yaml")


def test_no_bilingual_table_is_typed_in_code():
    found = {}
    for path in sorted(SIM.rglob("*.py")):
        lines = bilingual_literals(path.read_text(encoding="utf-8"))
        if lines:
            found[str(path.relative_to(SIM.parent))] = lines
    assert found == {}, f"bilingual dict literals (move them to model/words.yaml): {found}"


def test_the_literal_check_can_fail():
    src = ('A = {"zh": "年份", "en": "Year"}\nB = {"key": {"en": "x", "zh": "y"}}\n'
           'C = dict(zh="a", en="b")\nD = {"zh": 1}\nE = {lang: 1 for lang in ("zh", "en")}\n')
    assert sorted(bilingual_literals(src, ("zh", "en"))) == [1, 2, 3]


def test_no_year_or_count_is_typed_in_a_word():
    """Texts that name the plan's years or count the indicators take placeholders."""
    from sim.model.declarations.targets import load_targets

    t = load_targets()
    years = {str(y) for y in (t.plan.start, t.year, t.plan.horizon)}
    count = {t.count_word(lang).lower() for lang in LANGS}
    # an example of the YAML syntax, not the plan's year
    example = {"catalogue.note.zh"}
    typed = []
    for g, items in load_words().groups.items():
        if g == "numbers":
            continue
        for k, v in items.items():
            for lang, text in v.items():
                words = set(re.findall(r"\d{4}|[a-z]+", str(text).lower()))
                han = {m for m in re.findall(r"([一二三四五六七八九十])(?:项|大)", str(text))}
                if (words & years or words & count or han & count) \
                        and f"{g}.{k}.{lang}" not in example:
                    typed.append(f"{g}.{k}.{lang}")
    assert typed == []


def test_the_explorer_intro_and_returns_help_follow_targets():
    import argparse

    from sim.cli import returns
    from sim.model.declarations.targets import load_targets

    t = load_targets()
    for lang in LANGS:
        intro = word("explorer.intro", lang, year=t.year, n=t.count_word(lang))
        assert str(t.year) in intro and t.count_word(lang) in intro
    parser = argparse.ArgumentParser()
    returns.add_parser(parser.add_subparsers())
    helps = parser.format_help() + _printed_help(parser, "returns")
    assert f"{t.plan.start}-{t.year}" in helps and f"each {t.year} indicator" in helps


def _printed_help(parser, command: str) -> str:
    """What ``PROG COMMAND --help`` prints."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    return printed.getvalue()


def _helps() -> dict[str, str]:
    """The help of ``plansim`` and of every command, whitespace collapsed."""
    from sim.cli.main import COMMANDS, build_parser

    parser = build_parser()
    out = {"plansim": parser.format_help()}
    out.update({c: _printed_help(parser, c) for c in COMMANDS})
    return {c: " ".join(text.split()) for c, text in out.items()}


def test_help_texts_follow_the_number_of_indicators_and_the_plan_years(monkeypatch):
    """A sixth indicator and other plan years show in every help text that counts the
    indicators or names the plan's years, in the returns console line and the explorer intro."""
    import dataclasses

    from sim.cli.returns import headline
    from sim.model.declarations import targets as declared

    now = declared.load_targets()
    before = _helps()
    n_now = now.count_word("en")
    assert f"all {n_now} in {now.year}" in before["what-it-takes"]
    assert f"{now.plan.start}-{now.year}" in before["what-it-takes"]
    assert f"all {n_now} together" in before["discover"]
    assert f"the {n_now} indicators" in before["explore"]
    assert f"each {now.year} indicator" in before["plansim"]
    assert f"{now.plan.start}-{now.year}" in headline(10)
    plan = dataclasses.replace(now.plan, start=2031, target_year=2035, horizon=2036)
    sixth = dataclasses.replace(now.items[0], indicator="sixth_indicator")
    changed = dataclasses.replace(now, plan=plan, items=(*now.items, sixth))
    monkeypatch.setattr(declared, "load_targets", lambda path=None: changed)
    n = declared.number_word(len(now.items) + 1, "en")
    after = _helps()
    assert f"all {n} in 2035" in after["what-it-takes"] and "2031-2035" in after["what-it-takes"]
    assert f"all {n} together" in after["discover"]
    assert f"the {n} indicators" in after["explore"]
    assert "2031-2035" in after["returns"] and "each 2035 indicator" in after["plansim"]
    assert headline(10) == "change in the 2035 indicator per 亿元 spent over 2031-2035 " \
                           "(10 亿元 per group)"
    stale = {c: text for c, text in after.items()
             if re.search(rf"\b({now.plan.start}|{now.year}|{n_now})\b", text)}
    assert stale == {}
    for lang in LANGS:
        intro = word("explorer.intro", lang, year=changed.year, n=changed.count_word(lang))
        assert "2035" in intro and changed.count_word(lang) in intro


def test_the_units_read_from_the_model_text_are_the_model_units():
    from sim.model.equations.graph import load_graph
    from sim.model.equations.mdl import declared_units, variable_key

    nodes = load_graph().nodes
    units = declared_units(paths.MODEL_FILE)
    assert len(units) == len(nodes)
    wrong = {n.name: (units.get(variable_key(n.vensim_name)), n.units) for n in nodes.values()
             if units.get(variable_key(n.vensim_name)) != (n.units or "")}
    assert wrong == {}


def test_a_label_and_its_unit_are_composed_in_one_place():
    from sim.model.declarations.words import labelled

    assert labelled("单笔股权投资上限", "万元/firms", "zh") == "单笔股权投资上限(万元/家)"
    assert labelled("Equity ticket cap", "万元/Firms", "en") == "Equity ticket cap (万元/firm)"
    # no short form declared: the unit as units: shows it
    assert labelled("Broker places", "persons/Year", "en") == "Broker places (persons/yr)"
    assert labelled("Multiplier", "Dmnl", "zh") == labelled("Multiplier", None, "en") \
        == "Multiplier"


def test_units_of_targets_agree_with_the_model():
    """targets.yaml repeats each indicator's unit; it must be the .mdl's."""
    from sim.model.declarations.targets import load_targets
    from sim.model.equations.graph import load_graph

    nodes = load_graph().nodes
    wrong = {t.indicator: (t.unit, nodes[t.indicator].units) for t in load_targets().items
             if nodes[t.indicator].units != t.unit}
    assert wrong == {}


def test_unit_names_come_from_the_word_file():
    from sim.model.equations.graph import load_graph
    from sim.present.labels import unit_label

    units = load_words().units
    for u in {n.units for n in load_graph().nodes.values() if n.units}:
        for lang in LANGS:
            assert unit_label(u, lang) == unit(u, lang)
            if u.lower() in units:
                assert unit(u, lang) == units[u.lower()][lang]
    assert unit("firms/year", "zh") == "家/年"        # a composite: word by word
    assert unit("Firms/Year", "en") == "firms/yr"     # a declared whole, any case
    assert unit("widgets/year", "en") == "widgets/year"
    assert unit(None, "zh") == unit("  ", "en") == ""


def test_word_fills_placeholders_and_names_unknown_keys():
    assert word("chart.target", "en", year=2031) == "2031 target"
    assert entry("chart.year") == {"zh": "年份", "en": "Year"}
    with pytest.raises(ModelError, match="no word 'nope' in group 'chart'"):
        word("chart.nope", "en")
    with pytest.raises(ModelError, match="no group 'nope'"):
        word("nope.year", "en")
    with pytest.raises(ModelError, match="language: got 'fr'"):
        word("chart.year", "fr")
