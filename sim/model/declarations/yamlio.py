"""The one YAML reader of plansim: bounded, strict, with messages that name the file and line.

Every YAML file the tool reads (scenarios, parameters, targets, sectors, checks, calibration,
uncertainty) goes through :func:`read_yaml`, which

- refuses what is not a regular file (a folder, a FIFO, a device: each by its own reason),
  files larger than :data:`MAX_BYTES` and text that is not UTF-8;
- counts while it composes the document from the parser's event stream (libyaml's, where
  PyYAML has it), so that a bound is refused as soon as it is passed and before any Python
  object is built: a list or mapping of more than :data:`MAX_ITEMS` entries, more than
  :data:`MAX_NODES` values in all, nesting deeper than :data:`MAX_DEPTH`, an integer of more
  than :data:`MAX_INT_DIGITS` digits, more than :data:`MAX_ALIASES` aliases; and alias expansion
  beyond :data:`MAX_NODES` values (a "billion laughs" file) before anything is built;
- refuses duplicate keys in a mapping, naming the key and its line;
- reads scalars by the YAML 1.2 core schema: ``1e2`` and ``1.5E-3`` are numbers, ``yes``/``no``/
  ``on``/``off`` stay text, ``0o17``/``0x1F`` are integers, ``1_000`` and ``1:30`` are text.

A reader then refuses a key it does not know with :func:`check_keys` (its allowed keys declared
once, as a tuple beside it), so that a misspelt key is an error, never silently ignored.

Each refusal names its own reason. Errors are the caller's :class:`~sim.errors.PlanSimError`
subclass; values in messages are shown as short excerpts (:func:`sim.errors.excerpt`).
"""

from __future__ import annotations

import copy
import difflib
import numbers
import os
import re
import stat
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.events import MappingEndEvent, SequenceEndEvent
from yaml.nodes import MappingNode, SequenceNode

from sim.errors import PlanSimError, excerpt

#: largest YAML file read (bytes)
MAX_BYTES = 4 * 1024 * 1024
#: most alias references (``*name``) in one file
MAX_ALIASES = 100
#: most values of the document (every alias expanded)
MAX_NODES = 200_000
#: most items of one list, or keys of one mapping
MAX_ITEMS = 10_000
#: deepest nesting of lists and mappings
MAX_DEPTH = 64
#: most digits of an integer literal (a float holds about 308; plansim needs far fewer)
MAX_INT_DIGITS = 100
INT_TAG = "tag:yaml.org,2002:int"
#: the parser: libyaml's (C, fast) where PyYAML was built with it, else PyYAML's own
_PARSER: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None) \
    if getattr(yaml, "__with_libyaml__", False) else None


class _Limit(yaml.YAMLError):
    def __init__(self, problem: str, mark=None):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema scalars (plus 1.1 timestamps, which dates in files rely on)."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
                   |[-+]?\.(?:inf|Inf|INF)
                   |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."))
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp", re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
                   (?:[Tt]|[ \t]+)?(?:[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
                   (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?)$""", re.X),
    list("0123456789"))


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise _Limit(f"a key must be a plain value, got {type(key).__name__}",
                                 key_node.start_mark) from None
                if key in seen:
                    raise _Limit(f"duplicate key {excerpt(key)} (first at line "
                                 f"{seen[key].line + 1}); give each key once",
                                 key_node.start_mark)
                seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node):
        text = self.construct_scalar(node)
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text, 10)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_yaml_map)


class _Composer(yaml.composer.Composer):
    """PyYAML's composer counting as it goes: every bound of the module docstring is refused
    at the event that passes it."""

    def _init_counts(self) -> None:
        yaml.composer.Composer.__init__(self)
        self._aliases = 0
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Limit(f"more than {MAX_ALIASES} aliases (*name); aliases are not needed "
                             "in plansim files", mark)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Limit(f"more than {MAX_NODES:,} values in one file; allowed: at "
                         f"most {MAX_NODES:,}",
                         self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Limit(f"nested more than {MAX_DEPTH} levels deep",
                             self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_scalar_node(self, anchor):
        node = super().compose_scalar_node(anchor)
        if node.tag == INT_TAG and len(node.value) > MAX_INT_DIGITS:
            digits = node.value.lstrip("+-")
            digits = digits[2:] if digits[:2] in ("0x", "0o") else digits
            if len(digits) > MAX_INT_DIGITS:
                raise _Limit(f"an integer of {len(digits):,} digits; allowed: at most "
                             f"{MAX_INT_DIGITS} digits", node.start_mark)
        return node

    def compose_sequence_node(self, anchor):
        start = self.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(SequenceNode, None, start.implicit)
        node = SequenceNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        index = 0
        while not self.check_event(SequenceEndEvent):
            if index >= MAX_ITEMS:
                raise _Limit(f"a list of more than {MAX_ITEMS:,} items; allowed: at "
                                 f"most {MAX_ITEMS:,}", start.start_mark)
            node.value.append(self.compose_node(node, index))
            index += 1
        node.end_mark = self.get_event().end_mark
        return node

    def compose_mapping_node(self, anchor):
        start = self.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start.implicit)
        node = MappingNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        while not self.check_event(MappingEndEvent):
            if len(node.value) >= MAX_ITEMS:
                raise _Limit(f"a mapping of more than {MAX_ITEMS:,} keys; allowed: "
                                 f"at most {MAX_ITEMS:,}", start.start_mark)
            key = self.compose_node(node, None)
            node.value.append((key, self.compose_node(node, key)))
        node.end_mark = self.get_event().end_mark
        return node


# The loader :func:`loads` uses: the counting composer over the parser, with the YAML 1.2 core
# schema's constructor and resolver (public: the tests count the nodes it composes).
if _PARSER is not None:
    class Loader(_Composer, _PARSER, _Constructor, _Resolver):
        def __init__(self, stream):
            _PARSER.__init__(self, stream)
            self._init_counts()
            _Constructor.__init__(self)
            _Resolver.__init__(self)
else:  # pragma: no cover - PyYAML without libyaml
    class Loader(_Composer, yaml.reader.Reader, yaml.scanner.Scanner,  # type: ignore[no-redef]
                  yaml.parser.Parser, _Constructor, _Resolver):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            self._init_counts()
            _Constructor.__init__(self)
            _Resolver.__init__(self)


def _expanded_size(node, memo: dict[int, int], limit: int) -> int:
    """Number of nodes of ``node`` with aliases expanded (stops counting above ``limit``)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = limit + 1  # a node reached again while being counted: a recursive alias
    n = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            n += _expanded_size(child, memo, limit)
            if n > limit:
                break
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            n += _expanded_size(k, memo, limit) + _expanded_size(v, memo, limit)
            if n > limit:
                break
    memo[key] = n
    return n


def loads(text: str) -> Any:
    """Parse YAML ``text`` with the limits above; raises ``yaml.YAMLError``."""
    loader = Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:   # libyaml's own depth bound (1,000) met first
            if "nesting depth" not in str(exc.problem):
                raise
            raise _Limit(f"nested more than {MAX_DEPTH} levels deep", exc.problem_mark) from None
        if node is None:
            return None
        if loader._aliases and _expanded_size(node, {}, MAX_NODES) > MAX_NODES:
            raise _Limit(f"expands to more than {MAX_NODES:,} values through aliases "
                         "(an alias bomb?)", node.start_mark)
        try:
            return loader.construct_document(node)
        except (ValueError, ArithmeticError, TypeError, AttributeError) as exc:
            # a value its tag cannot read (``!!int abc``, a date 2024-13-45)
            raise _Limit(f"a value cannot be read as its type ({type(exc).__name__}: "
                         f"{excerpt(str(exc), 80, quote=False)})") from None
    finally:
        loader.dispose()


@lru_cache(maxsize=32)
def _parsed(text: str) -> Any:
    """:func:`loads`, once per text (a command reads some files from several modules)."""
    return loads(text)


def read_yaml(path: Path, error: type[PlanSimError]) -> Any:
    """Parse ``path``; raise ``error`` naming the file (and line) if it is missing, too large,
    not UTF-8, malformed or breaks a limit above. A text read before is not parsed again
    (the cache is keyed by the text itself, so an edited file is always read anew); each
    call gets its own copy."""
    path = Path(path)
    data = read_bounded(path, error, MAX_BYTES, "a plansim YAML file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}: invalid "
                    f"{data[exc.start:exc.start + 1]!r}); save the file as UTF-8") from None
    try:
        return copy.deepcopy(_parsed(text))
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
        what = "refused" if isinstance(exc, _Limit) else "malformed YAML"
        # a colon (or comma) inside {...} ends a flow value early: name the likely cause
        hint = ("; a colon inside {...} splits the value: quote it, e.g. en: \"Plan: cut\""
                if "expected ',' or '}'" in str(problem) else "")
        raise error(f"{path}: {what}{where}: {excerpt(problem, 200, quote=False)}{hint}") from None
    except RecursionError:
        raise error(f"{path}: malformed YAML: nested too deeply") from None


def read_bounded(path: Path, error: type[PlanSimError], limit: int, kind: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else ``error`` saying
    which it is not: missing, a folder, not a regular file (a FIFO, a socket, a device: opened
    without blocking, never read), too large, unreadable."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder; allowed: {kind}") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        problem = ("is a folder" if stat.S_ISDIR(st.st_mode) else None if stat.S_ISREG(
            st.st_mode) else "is not a regular file (a FIFO, socket or device)")
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    if problem is not None:
        os.close(fd)
        raise error(f"{path}: {problem}; allowed: {kind}")
    with os.fdopen(fd, "rb") as fh:
        try:
            if st.st_size > limit:
                raise error(f"{path}: {st.st_size:,} bytes is too large for {kind}; allowed: "
                            f"at most {limit:,} bytes")
            data = fh.read(limit + 1)
        except OSError as exc:
            raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise error(f"{path}: too large for {kind}; allowed: at most {limit:,} bytes")
    return data


def require_mapping(value: Any, where: str, error: type[PlanSimError]) -> dict:
    """``value`` if it is a mapping; else ``error`` naming its type (never echoing content)."""
    if not isinstance(value, dict):
        kind = "nothing" if value is None else type(value).__name__
        raise error(f"{where}: expected a mapping of keys to values, got {kind}")
    return value


def is_number(value: Any) -> bool:
    """A real number (Python or NumPy), not a bool (NumPy's bool is no ``numbers.Real``)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def suggest(name: Any, allowed: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the one of ``allowed`` closest to ``name`` (difflib, ratio at
    least 0.6), else ``""``. A name more than three times as long as the longest allowed one
    cannot reach that ratio, so it is not compared (a huge key costs nothing)."""
    text = name if isinstance(name, str) else excerpt(name, quote=False)
    if len(text) > 3 * max(map(len, allowed), default=0):
        return ""
    close = difflib.get_close_matches(text, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_keys(mapping: Mapping, allowed: Sequence[str], where: str,
               error: type[PlanSimError]) -> None:
    """Raise ``error`` if ``mapping`` has a key outside ``allowed`` (the first such key in the
    file's order): ``"{where}: unknown key 'plan_valeu'; did you mean 'plan_value'? allowed keys:
    variable, kind, ..."``. The key is shown as a short excerpt (:func:`sim.errors.excerpt`)."""
    for key in mapping:
        if not (isinstance(key, str) and key in allowed):
            hint = suggest(key, allowed)
            raise error(f"{where}: unknown key {excerpt(key)}{hint}{' ' if hint else '; '}allowed "
                        f"keys: {', '.join(allowed)}")
