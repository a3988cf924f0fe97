"""Helper functions the generated simulation code calls, in two flavours.

``VECTOR`` works on numpy arrays whose leading axis is the sample axis (shape ``(S, *dims)``,
or ``(1, *dims)`` / a Python float when a value is the same for every sample). ``SCALAR`` works
on Python floats and is used for the single-run fast path of unsubscripted models.

Every function follows the definition in ``pysd.py_backend.functions`` (PySD 3.14) so that the
batch engine reproduces PySD's numbers: STEP uses ``time + dt/2 > start``, RAMP and PULSE use
PySD's ``SMALL_VENSIM`` tolerance, MODULO is ``x - QUANTUM(x, m)``, INTEGER truncates toward
zero, XIDZ/ZIDZ test ``|denominator| < SMALL_VENSIM``.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.errors import UnsupportedConstructError

SMALL_VENSIM = 1e-6


# ----------------------------------------------------------------------------- vector flavour
def _v_if(cond, a, b):
    return np.where(cond, a, b)


def _v_int(x):
    return np.trunc(x)


# np.divide, not "/": with every operand a Python float (a value the same for all samples) "/"
# raises ZeroDivisionError where numpy gives inf, and np.where evaluates both branches
def _v_mod(x, m):
    return np.where(m < SMALL_VENSIM, x - x, x - m * np.trunc(np.divide(x, m)))


def _v_quantum(a, b):
    return np.where(b < SMALL_VENSIM, a, b * np.trunc(np.divide(a, b)))


def _v_xidz(a, b, x):
    return np.where(np.abs(b) < SMALL_VENSIM, x, np.divide(a, b))


def _v_zidz(a, b):
    return np.where(np.abs(b) < SMALL_VENSIM, 0.0, np.divide(a, b))


def _v_step(t, dt, value, tstep):
    return value * ((t + dt / 2) > tstep)


def _v_ramp(t, slope, start, finish=None):
    final = t if finish is None else np.minimum(finish, t)
    return ((t + SMALL_VENSIM) > start) * slope * (final - start)


def _v_pulse(t, dt, start, width=None, magnitude=None):
    width = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    return np.where((start - SMALL_VENSIM <= t) & (t < start + width), out, 0.0)


def _v_pulse_train(t, dt, start, repeat_time, width=None, end=None, magnitude=None):
    width = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    single = (start - SMALL_VENSIM <= t) & (t < start + width)
    started = start <= t
    if end is not None:
        started = started & (t < end)
    with np.errstate(all="ignore"):
        rep = np.mod(t - start + SMALL_VENSIM, repeat_time) < width
    return np.where(repeat_time == 0, np.where(single, out, 0.0),
                    np.where(started & rep, out, 0.0))


def _v_lookup(x, y, arg, mode="interpolate"):
    """Table lookup. ``x`` shape (n,); ``y`` shape (n,) or (S, n); ``arg`` float or (S|1, ...)."""
    y = np.asarray(y, dtype=float)
    arg = np.asarray(arg, dtype=float)
    if y.ndim == 1:
        if mode == "hold_backward":
            idx = np.clip(np.searchsorted(x, arg, side="right") - 1, 0, len(x) - 1)
            return y[idx]
        if mode == "extrapolate":
            return _extrapolate(x, y[None, :], arg.reshape(arg.shape or (1,))).reshape(arg.shape)
        return np.interp(arg, x, y)
    # per-sample table: y (S, n); arg (S|1, ...) -> (S, ...)
    s = max(y.shape[0], arg.shape[0] if arg.ndim else 1)
    a = np.broadcast_to(arg if arg.ndim else arg.reshape(1), (s,) + arg.shape[1:]) \
        if arg.ndim else np.full((s,), float(arg))
    flat = a.reshape(s, -1)
    yy = np.broadcast_to(y, (s, y.shape[1]))
    if mode == "extrapolate":
        return _extrapolate(x, yy, flat).reshape(a.shape)
    n = len(x)
    if mode == "hold_backward":
        idx = np.clip(np.searchsorted(x, flat, side="right") - 1, 0, n - 1)
        return np.take_along_axis(yy, idx, axis=1).reshape(a.shape)
    hi = np.clip(np.searchsorted(x, flat, side="left"), 1, n - 1)
    lo = hi - 1
    x0, x1 = x[lo], x[hi]
    w = np.clip((flat - x0) / (x1 - x0), 0.0, 1.0)
    y0 = np.take_along_axis(yy, lo, axis=1)
    y1 = np.take_along_axis(yy, hi, axis=1)
    out = y0 + w * (y1 - y0)
    return out.reshape(a.shape)


def _extrapolate(x, yy, flat):
    n = len(x)
    hi = np.clip(np.searchsorted(x, flat, side="left"), 1, n - 1)
    lo = hi - 1
    w = (flat - x[lo]) / (x[hi] - x[lo])
    y0 = np.take_along_axis(np.broadcast_to(yy, (flat.shape[0], yy.shape[1])), lo, axis=1)
    y1 = np.take_along_axis(np.broadcast_to(yy, (flat.shape[0], yy.shape[1])), hi, axis=1)
    return y0 + w * (y1 - y0)


VECTOR = {
    "_np": np,
    "_if": _v_if,
    "_min": np.minimum,
    "_max": np.maximum,
    "_abs": np.abs,
    "_exp": np.exp,
    "_ln": np.log,
    "_sqrt": np.sqrt,
    "_sin": np.sin,
    "_cos": np.cos,
    "_tan": np.tan,
    "_arcsin": np.arcsin,
    "_arccos": np.arccos,
    "_arctan": np.arctan,
    "_sinh": np.sinh,
    "_cosh": np.cosh,
    "_tanh": np.tanh,
    "_pow": np.power,
    "_int": _v_int,
    "_mod": _v_mod,
    "_quantum": _v_quantum,
    "_xidz": _v_xidz,
    "_zidz": _v_zidz,
    "_step": _v_step,
    "_ramp": _v_ramp,
    "_pulse": _v_pulse,
    "_pulse_train": _v_pulse_train,
    "_lookup": _v_lookup,
    "_and": np.logical_and,
    "_or": np.logical_or,
    "_not": np.logical_not,
    "_sum": np.sum,
    "_prod": np.prod,
    "_vmax": np.max,
    "_vmin": np.min,
}


# ----------------------------------------------------------------------------- scalar flavour
def _s_min(a, b):
    return a if a <= b or b != b else b


def _s_max(a, b):
    return a if a >= b or b != b else b


def _s_int(x):
    return float(math.trunc(x))


def _s_mod(x, m):
    return x - _s_quantum(x, m)


def _s_quantum(a, b):
    return a if b < SMALL_VENSIM else b * math.trunc(a / b)


def _s_xidz(a, b, x):
    return x if abs(b) < SMALL_VENSIM else a / b


def _s_zidz(a, b):
    return 0.0 if abs(b) < SMALL_VENSIM else a / b


def _s_step(t, dt, value, tstep):
    return value if (t + dt / 2) > tstep else 0.0


def _s_ramp(t, slope, start, finish=None):
    final = t if finish is None else min(finish, t)
    return slope * (final - start) if (t + SMALL_VENSIM) > start else 0.0


def _s_pulse(t, dt, start, width=None, magnitude=None):
    width = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    return out if start - SMALL_VENSIM <= t < start + width else 0.0


def _s_pulse_train(t, dt, start, repeat_time, width=None, end=None, magnitude=None):
    width = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    if repeat_time == 0:
        return out if start - SMALL_VENSIM <= t < start + width else 0.0
    if start <= t and (end is None or t < end):
        return out if (t - start + SMALL_VENSIM) % repeat_time < width else 0.0
    return 0.0


def _s_lookup(x, y, arg, mode="interpolate"):
    """Scalar table lookup; ``x`` and ``y`` are sequences of floats, ``arg`` a float."""
    n = len(x)
    if arg <= x[0]:
        if mode == "extrapolate" and arg < x[0]:
            return y[0] + (y[1] - y[0]) / (x[1] - x[0]) * (arg - x[0])
        return y[0]
    if arg >= x[-1]:
        if mode == "extrapolate" and arg > x[-1]:
            return y[-1] + (y[-1] - y[-2]) / (x[-1] - x[-2]) * (arg - x[-1])
        return y[-1]
    if mode == "hold_backward":
        return y[bisect.bisect_right(x, arg) - 1]
    hi = bisect.bisect_left(x, arg)
    if hi >= n:
        return y[-1]
    x0, x1 = x[hi - 1], x[hi]
    if x1 == arg:
        return y[hi]
    return y[hi - 1] + (arg - x0) / (x1 - x0) * (y[hi] - y[hi - 1])


def _s_exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _s_ln(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _s_sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


SCALAR = {
    "_np": np,
    "_if": None,  # inlined as a conditional expression in scalar code
    "_min": _s_min,
    "_max": _s_max,
    "_abs": abs,
    "_exp": _s_exp,
    "_ln": _s_ln,
    "_sqrt": _s_sqrt,
    "_sin": math.sin,
    "_cos": math.cos,
    "_tan": math.tan,
    "_arcsin": math.asin,
    "_arccos": math.acos,
    "_arctan": math.atan,
    "_sinh": math.sinh,
    "_cosh": math.cosh,
    "_tanh": math.tanh,
    "_pow": math.pow,
    "_int": _s_int,
    "_mod": _s_mod,
    "_quantum": _s_quantum,
    "_xidz": _s_xidz,
    "_zidz": _s_zidz,
    "_step": _s_step,
    "_ramp": _s_ramp,
    "_pulse": _s_pulse,
    "_pulse_train": _s_pulse_train,
    "_lookup": _s_lookup,
    "_and": lambda a, b: bool(a) and bool(b),
    "_or": lambda a, b: bool(a) or bool(b),
    "_not": lambda a: not a,
}


# ----------------------------------------------------------------------------- shape helpers
def _bc(x, k):
    """Append ``k`` unit axes to a per-sample array (floats pass through)."""
    if isinstance(x, np.ndarray) and x.ndim:
        return x.reshape(x.shape + (1,) * k)
    return x


def full_broadcast(x, sizes):
    """Broadcast ``x`` (float, (S|1,) or (S|1, ...)) to shape (S|1, *sizes)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        x = x.reshape(1)
    x = x.reshape(x.shape + (1,) * (len(sizes) + 1 - x.ndim))
    return np.broadcast_to(x, (x.shape[0],) + tuple(sizes))


def _alloc(sizes, *parts):
    lead = 1
    for p in parts:
        if isinstance(p, np.ndarray) and p.ndim:
            lead = max(lead, p.shape[0])
    return np.full((lead,) + tuple(sizes), np.nan)


def _stack(x, k):
    x = np.asarray(x, dtype=float)
    return np.repeat(x[None], k, axis=0)


def _shift_in(first, arr):
    """Stage array shifted by one along axis 0 with ``first`` in front (PySD's roll)."""
    first = np.asarray(first, dtype=float)
    shape = np.broadcast_shapes(first.shape, arr.shape[1:])
    out = np.empty((arr.shape[0],) + shape)
    out[0] = first
    out[1:] = arr[:-1]
    return out


def _uniform(x, what, name):
    a = np.unique(np.asarray(x, dtype=float))
    if a.size != 1:
        raise UnsupportedConstructError(name, what, "must be the same for every sample")
    return float(a[0])


def _check_order(order, dt, delay_time, name):
    if order * dt > np.min(delay_time):
        raise UnsupportedConstructError(name, "DELAY", "delay time shorter than order*TIME STEP")


def _delayn_order(order, dt, delay_time, name):
    k = int(_uniform(order, "DELAY N order", name))
    while k * dt > np.min(delay_time):
        k -= 1
    return k


def _fixed_order(delay_time, dt, name):
    d = _uniform(delay_time, "DELAY FIXED delay time", name)
    return round(max(d / dt, 1) + SMALL_VENSIM)


for _flavour in (VECTOR, SCALAR):
    _flavour.update({"_bc": _bc, "_fb": full_broadcast, "_alloc": _alloc, "_stack": _stack,
                     "_shift_in": _shift_in, "_check_order": _check_order,
                     "_delayn_order": _delayn_order, "_fixed_order": _fixed_order,
                     "_uniform": _uniform})
for _name in ("_sum", "_prod", "_vmax", "_vmin"):
    SCALAR.setdefault(_name, None)
