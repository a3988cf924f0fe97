"""Every number in the ``.mdl`` is declared (issue 21, item 5).

A number in the model is one of: a lever or an uncertain assumption of ``model/parameters.yaml``
(``levers``/``assumptions``: range, label, description), or a named constant or data table of its
``constants`` section (unit and the reason it is fixed). Equations themselves carry no number but
0 and 1 (an initial stock is a declared assumption, never a number typed into an INTEG).
:func:`undeclared_numbers` reads the model through PySD's abstract model (no regular expressions
on equations) and lists every breach, naming the variable.
"""

from __future__ import annotations

from pathlib import Path

from sim import paths
from sim.model.declarations.parameters import Parameters, load_parameters
from sim.model.equations.graph import CONTROL, build_graph
from sim.model.equations.mdl import load_abstract_model

ALLOWED_LITERALS = (0, 1)


def _literals(ast, out: list[float]) -> None:
    if isinstance(ast, bool):
        return
    if isinstance(ast, (int, float)):
        out.append(float(ast))
        return
    if isinstance(ast, (list, tuple)):
        for a in ast:
            _literals(a, out)
        return
    if hasattr(ast, "__dataclass_fields__"):
        for f in ast.__dataclass_fields__:
            _literals(getattr(ast, f), out)


def undeclared_numbers(abstract_model, params: Parameters) -> list[str]:
    """One message per undeclared constant or table and per number typed into an equation."""
    from pysd.translators.structures import abstract_model as am

    graph = build_graph(abstract_model)
    declared = {p.py_name for p in (*params.levers.values(), *params.assumptions.values(),
                                    *params.constants.values())}
    out = []
    for name, node in graph.nodes.items():
        if node.kind in ("constant", "lookup") and name not in declared:
            out.append(f"'{node.vensim_name}': a {node.kind} that is neither a lever, an "
                       "assumption nor a named constant of model/parameters.yaml")
    main = [s for s in abstract_model.sections if s.type == "main"][0]
    py = {node.vensim_name: name for name, node in graph.nodes.items()}
    for e in main.elements:
        name = py.get(e.name)
        if name is None or name in CONTROL or graph[name].kind in ("constant", "lookup"):
            continue
        nums: list[float] = []
        for c in e.components:
            if not isinstance(c, am.AbstractLookup):
                _literals(c.ast, nums)
        typed = sorted({n for n in nums if n not in ALLOWED_LITERALS})
        if typed:
            out.append(f"'{e.name}': number(s) {', '.join(f'{n:g}' for n in typed)} typed into "
                       "the equation; declare each as an assumption or a named constant")
    return out


def check_model_declared(path: Path | str | None = None,
                         params: Parameters | None = None) -> list[str]:
    """:func:`undeclared_numbers` of the model file (default ``model/qingdao_st_plan.mdl``)."""
    return undeclared_numbers(load_abstract_model(Path(path or paths.MODEL_FILE)),
                              params or load_parameters())
