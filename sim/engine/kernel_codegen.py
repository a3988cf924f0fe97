"""Generate the source of the fused kernel from the engine's own generated step code.

:class:`sim.engine.compiler.ModelCompiler` (scalar flavour) gives the ordered lines of one
simulation (:class:`~sim.engine.compiler.Sections`): initialisation, time-independent lines,
the lines of one time step and the next states. This module wraps those same lines, unchanged
but for how they read their inputs (``K['p_x']`` becomes the argument ``k_p_x`` at the
sample's index), in two numba functions:

- ``_sample(_s, ...)`` runs one sample over the whole time grid: after each step, a row that
  ends there receives the requested columns (``cols``, chosen at run time): levels (value
  now) and rates (sum over the row's steps divided by their count, as
  :func:`sim.engine.timeloop.loop_periods` does), and the states advance;
- ``kernel(lo, hi, ...)`` runs samples ``lo:hi`` in parallel (``prange``), ``serial(lo, hi,
  ...)`` one after another (no threads to wake for a few samples);
- ``_on_grid(grid, LX, LY)``: each lookup of a table shared by all samples at the current
  time ``t`` (a schedule), evaluated once per call at every grid time by the same helper; a
  step reads it from ``TL[_i, j]`` (a quarter of a sample's time was such lookups).

Nothing here reads or re-types an equation. The inputs ``K`` of a run are packed into a few
arrays whatever the model (:class:`Layout`), so the kernel's signature is fixed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import UnsupportedConstructError

if TYPE_CHECKING:  # the compiler imports PySD; a cached KernelSource is unpickled without it
    from sim.engine.compiler import ModelCompiler

_KEY = re.compile(r"K\['([A-Za-z0-9_]+)'\](\[_i\])?")
#: helpers whose vector form requires one value for every sample (DELAY N order, ...)
UNIFORM_HELPERS = ("_uniform", "_delayn_order", "_fixed_order")
HELPERS = ("_abs", "_arccos", "_arcsin", "_arctan", "_check_order", "_cos", "_cosh",
           "_delayn_order", "_exp", "_fixed_order", "_int", "_ln", "_lookup", "_max", "_min",
           "_mod", "_pow", "_pulse", "_pulse_train", "_quantum", "_ramp", "_shift_in", "_sin",
           "_sinh", "_sqrt", "_stack", "_step", "_tan", "_tanh", "_uniform", "_xidz", "_zidz")


@dataclass(frozen=True)
class KernelSource:
    """A generated kernel module: its ``text``, where its inputs go (``layout``), the
    per-sample lookup keys it was generated for, whether it calls a helper that needs one
    value for every sample, ``digest`` (sha256 of the text) and the ids of the variables that
    change in time (``dynamic``); ``columns``: variable id -> its index in the kernel's
    ``cols`` argument (every variable but lookups can be returned); ``tables``: the
    compiler's own lookup tables (name -> values)."""

    text: str
    layout: object
    per_sample_tables: frozenset
    uniform: bool
    digest: str
    dynamic: frozenset
    columns: dict
    tables: dict
    resumable: bool = False
    n_slots: int = 0


def kernel_source(mc: ModelCompiler, per_sample_tables=frozenset()) -> KernelSource:
    """The kernel module for ``mc`` (built with ``scalar=True``); ``per_sample_tables``: the
    ``ly_*`` keys whose table differs by sample. Raises ``UnsupportedConstructError`` for code
    the kernel cannot run (subscripts, reductions)."""
    if not mc.scalar:
        raise ValueError("the kernel is generated from the scalar flavour")
    if any(v.dims for v in mc.vars.values()):
        raise UnsupportedConstructError(mc.info.path.name, "subscripts",
                                        "the compiled kernel runs unsubscripted models")
    sec = mc.sections()
    for name, value in mc.constants.items():
        if not isinstance(value, tuple):
            raise UnsupportedConstructError(mc.info.path.name, f"constant {name}",
                                            "the compiled kernel takes tables only")
    layout = Layout()
    for name, value in mc.constants.items():  # the compiler's own tables (inline lookups)
        layout.table(name, len(value))

    def sub(line: str) -> str:
        def repl(m):
            key, at_i = m.group(1), m.group(2) or ""
            kind = key.split("_", 1)[0]
            if kind == "ts":
                j = layout.index("ts", key)
                return f"(TSS[tidx[{j}], _i, _s] if tidx[{j}] >= 0 else TS[{j}, _i])" \
                    if at_i else f"TS[{j}]"
            if kind == "p":
                return f"_pv[{layout.index('p', key)}]" + at_i
            if kind in ("lx", "ly"):
                var = mc.vars[key[3:]]
                o, n = layout.table(key, len(var.table[0]))
                if key in per_sample_tables:
                    return f"LYS[_s:_s + 1, {o}:{o + n}]" + at_i
                return f"{'LX' if kind == 'lx' else 'LY'}[{o}:{o + n}]" + at_i
            return f"SC[{layout.index('sc', key)}]" + at_i
        return _KEY.sub(repl, line)

    init = [sub(ln) for ln in sec.init]
    static = [sub(ln) for ln in sec.static]
    tables = {name: f"{'LY' if name.endswith('_y') else 'LX'}[{o}:{o + n}]"
              for name, value in mc.constants.items()
              for o, n in [layout.table(name, len(value))]}
    tables.update(m.groups() for m in map(_TABLE.match, init + static) if m)
    step, on_grid = _hoist_time_lookups([sub(ln) for ln in sec.step], tables)
    update = [sub(ln) for ln in sec.update]
    code = "\n".join(init + static + step + update)
    for bad in ("_sum(", "_prod(", "_vmax(", "_vmin(", "_fb(", "_alloc(", "_bc(", "_np.take(",
                "_np.transpose("):
        if bad in code:
            raise UnsupportedConstructError(mc.info.path.name, bad.rstrip("("),
                                            "not in the compiled kernel")
    columns = [vid for vid, v in mc.info.vars.items() if v.kind != "lookup"]
    # every state a sample carries from one step to the next is a float slot: it can be
    # captured at a checkpoint and restored (sim.engine.checkpoints); a stage array or a
    # DELAY FIXED pipeline (hidden state) is not, and such a kernel never resumes
    resumable = all(st.kind in SCALAR_STATE for st in mc.statefuls.values())
    slots = list(sec.slots) if resumable else []
    b = ["@njit(error_model='numpy', nogil=True)",
         "def _sample(_s, grid, acc, end, counts, rate, cols, out, TL, " + RESUME + ", "
         + ARGS + "):"]
    b.append("    _pv = _np.empty(max(pidx.shape[0], 1))")
    b.append("    for _j in range(pidx.shape[0]):")
    b.append("        _pv[_j] = PS[pidx[_j], _s] if pidx[_j] >= 0 else P[_j]")
    for name, value in mc.constants.items():
        o, n = layout.table(name, len(value))
        b.append(f"    {name} = {'LY' if name.endswith('_y') else 'LX'}[{o}:{o + n}]")
    b.append(f"    t = SC[{layout.index('sc', 't0')}]")
    b.append("    _i = 0")
    b.extend("    " + ln for ln in init + static)
    b.append(f"    _v = _np.empty({max(len(columns), 1)})")
    b.extend(f"    _v[{j}] = v_{c}" for j, c in enumerate(columns) if c not in mc.dynamic)
    b.append("    _a = _np.zeros(cols.shape[0])")
    b.append("    if i0 > 0:  # resume: the state at step i0 of a run with the same inputs")
    b.extend(f"        {s} = R[{j}, _s]" for j, s in enumerate(slots))
    b.append(f"        _m = {len(slots)}")
    b.append("        for _k in range(cols.shape[0]):")
    b.append("            if rate[_k] and _m < R.shape[0]:")
    b.append("                _a[_k] = R[_m, _s]")
    b.append("                _m += 1")
    b.append("    _c = 0")
    b.append("    while _c < caps.shape[0] and caps[_c] < i0:")
    b.append("        _c += 1")
    # the steps run in segments between checkpoints, the capture outside the inner loop (a
    # branch inside the step loop that stores every slot slows every step of every run)
    b.append("    _lo = i0")
    b.append("    while _lo < grid.shape[0]:")
    b.append("        if _c < caps.shape[0] and caps[_c] == _lo:  # capture the state here")
    b.extend(f"            ST[_c, {j}, _s] = {s}" for j, s in enumerate(slots))
    b.append(f"            _m = {len(slots)}")
    b.append("            for _k in range(cols.shape[0]):")
    b.append("                if rate[_k] and _m < ST.shape[1]:")
    b.append("                    ST[_c, _m, _s] = _a[_k]")
    b.append("                    _m += 1")
    b.append("            _c += 1")
    b.append("        _hi = grid.shape[0]")
    b.append("        if _c < caps.shape[0] and caps[_c] < _hi:")
    b.append("            _hi = caps[_c]")
    b.append("        for _i in range(_lo, _hi):")
    body: list[str] = []
    body.append("t = grid[_i]")
    body.extend(step)
    body.extend(f"_v[{j}] = v_{c}" for j, c in enumerate(columns) if c in mc.dynamic)
    body.append("_e = end[_i]")
    body.append("if _e >= 0:")
    body.append("    for _k in range(cols.shape[0]):")
    body.append("        if rate[_k]:")
    body.append("            out[_k, _s, _e] = _a[_k] / counts[_e]")
    body.append("            _a[_k] = 0.0")
    body.append("        else:")
    body.append("            out[_k, _s, _e] = _v[cols[_k]]")
    body.append("if acc[_i] >= 0:")
    body.append("    for _k in range(cols.shape[0]):")
    body.append("        _a[_k] += _v[cols[_k]]")
    body.extend(update)
    body.extend(f"{s} = n_{s}" for s in sec.slots)
    b.extend("            " + ln for ln in body)
    b.append("        _lo = _hi")
    b.append("")
    b.append("")
    b.append("@njit(error_model='numpy', nogil=True)")
    b.append("def _on_grid(grid, LX, LY):")
    b.append(f"    TL = _np.empty((grid.shape[0], {max(len(on_grid), 1)}))")
    b.append("    for _i in range(grid.shape[0]):")
    b.append("        t = grid[_i]")
    b.extend(f"        TL[_i, {j}] = {call}" for j, call in enumerate(on_grid))
    b.append("    return TL")
    b.append("")
    b.append("")
    # the entry points: parallel over samples, and serial (the same loop without prange)
    for name, flags, loop, sample in (
            ("kernel", "parallel=True, ", "_j in prange(hi - lo)", "lo + _j"),
            ("serial", "", "_s in range(lo, hi)", "_s")):
        if name == "serial":
            b.extend(["", ""])
        b.append(f"@njit({flags}error_model='numpy', nogil=True)")
        b.append(f"def {name}(lo, hi, grid, acc, end, counts, rate, cols, out, {RESUME}, "
                 + ARGS + "):")
        b.append("    TL = _on_grid(grid, LX, LY)")
        b.append(f"    for {loop}:")
        b.append(f"        _sample({sample}, grid, acc, end, counts, rate, cols, out, TL, "
                 f"{RESUME}, " + ARGS + ")")
    head = ['"""Generated by sim.engine.kernel_codegen from the engine\'s step code: do not '
            'edit."""',
            "import numpy as _np",
            "from numba import njit, prange",
            "from sim.engine.kernel_helpers import " + ", ".join(HELPERS),
            "", ""]
    text = "\n".join(head + b) + "\n"
    digest = hashlib.sha256((text + _helpers_stamp()).encode()).hexdigest()
    return KernelSource(text, layout, frozenset(per_sample_tables),
                        any(h + "(" in code for h in UNIFORM_HELPERS), digest, mc.dynamic,
                        {c: j for j, c in enumerate(columns)}, dict(mc.constants), resumable,
                        len(slots))


_TIME_LOOKUP = re.compile(r"_lookup\((\w+|LX\[\d+:\d+\]), (\w+|LY\[\d+:\d+\]), t, '(\w+)'\)")
#: a table bound to a name once, before the time loop (shared by all samples: not ``LYS``)
_TABLE = re.compile(r"(v_\w+) = (L[XY]\[\d+:\d+\])$")


def _hoist_time_lookups(step: list[str], tables: dict[str, str]):
    """The step lines with each lookup of a shared table (``tables``: name -> its slice of
    ``LX``/``LY``; never one that varies by sample) at the current time ``t`` read from
    ``TL[_i, j]``, and those calls (``j`` in order, written with the slices): the same call on
    the same grid time gives the same number, computed once per kernel call instead of once
    per sample and step."""
    calls: dict[str, int] = {}

    def repl(m) -> str:
        x, y = (a if a.startswith("L") else tables.get(a) for a in m.group(1, 2))
        if x is None or y is None or not (x.startswith("LX") and y.startswith("LY")):
            return m.group(0)
        call = f"_lookup({x}, {y}, t, '{m.group(3)}')"
        return f"TL[_i, {calls.setdefault(call, len(calls))}]"

    return [_TIME_LOOKUP.sub(repl, ln) for ln in step], list(calls)


#: the kernel's input arrays (see :class:`Layout`)
ARGS = "SC, P, PS, pidx, TS, TSS, tidx, LX, LY, LYS"
#: checkpoints (sim.engine.checkpoints): start at grid step ``i0`` from the state ``R``
#: (n_state, n) (a full run: 0); capture the state at the steps ``caps`` into ``ST``
#: (n_caps, n_state, n); a state is the slots, then the running sums of the averaged columns
RESUME = "i0, R, caps, ST"
#: stateful kinds whose state is float slots only (see sim.engine.statefuls)
SCALAR_STATE = ("integ", "initial", "smooth", "delay")


class Layout:
    """Where each input key of a run lives in the kernel's arrays: ``sc`` keys (``t0``,
    ``ctl_*``) in ``SC``; ``p_*`` in ``P`` (one value) or row ``pidx[j]`` of ``PS`` (one per
    sample); ``ts_*`` in ``TS[j]`` (n_grid,) or ``TSS[tidx[j]]`` (n_grid, n); tables at
    fixed offsets of ``LX``/``LY`` (``LYS`` (n, width) for a per-sample table)."""

    def __init__(self):
        self.keys: dict[str, list[str]] = {"sc": [], "p": [], "ts": []}
        self.tables: dict[str, tuple[int, int]] = {}
        self.width = 0

    def index(self, kind: str, key: str) -> int:
        keys = self.keys[kind]
        if key not in keys:
            keys.append(key)
        return keys.index(key)

    def table(self, key: str, n: int) -> tuple[int, int]:
        base = key[3:] if key.startswith(("lx_", "ly_")) else key[:-2]
        slot = self.tables.get(base)
        if slot is None:
            slot = self.tables[base] = (self.width, n)
            self.width += n
        return slot


def _helpers_stamp() -> str:
    """The helpers' source and numba's version: a change to either is a new kernel."""
    import numba

    here = Path(__file__).with_name("kernel_helpers.py")
    return here.read_text(encoding="utf-8") + numba.__version__


__all__ = ["HELPERS", "KernelSource", "UNIFORM_HELPERS", "kernel_source"]
