"""The helper functions of the generated code, compiled with numba for the fused kernel.

Each one is the scalar form of its :data:`sim.engine.runtime.VECTOR` counterpart, written to
give the same number for the same inputs (the kernel agrees with the numpy path to 1e-12):
``np.minimum``/``np.maximum`` propagate NaN, STEP and RAMP multiply by the condition as 0.0 or
1.0, a lookup over one table is numpy's ``interp`` (its slope formula and its NaN rules), a
per-sample table (``y`` of shape ``(1, n)``) the clipped linear formula of ``_v_lookup``.
The names are those of :data:`sim.engine.compiler._HELPER_NAMES` the scalar code calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

SMALL_VENSIM = 1e-6
#: numba's own file cache is off: :mod:`sim.engine.kernel_cache` gives these functions a signed
#: cache in the user's cache root (nothing is written inside the installed package)
_JIT = {"error_model": "numpy", "nogil": True}


@njit(**_JIT)
def _min(a, b):
    return np.minimum(a, b)


@njit(**_JIT)
def _max(a, b):
    return np.maximum(a, b)


@njit(**_JIT)
def _abs(x):
    return np.abs(x)


@njit(**_JIT)
def _exp(x):
    return np.exp(x)


@njit(**_JIT)
def _ln(x):
    return np.log(x)


@njit(**_JIT)
def _sqrt(x):
    return np.sqrt(x)


@njit(**_JIT)
def _sin(x):
    return np.sin(x)


@njit(**_JIT)
def _cos(x):
    return np.cos(x)


@njit(**_JIT)
def _tan(x):
    return np.tan(x)


@njit(**_JIT)
def _arcsin(x):
    return np.arcsin(x)


@njit(**_JIT)
def _arccos(x):
    return np.arccos(x)


@njit(**_JIT)
def _arctan(x):
    return np.arctan(x)


@njit(**_JIT)
def _sinh(x):
    return np.sinh(x)


@njit(**_JIT)
def _cosh(x):
    return np.cosh(x)


@njit(**_JIT)
def _tanh(x):
    return np.tanh(x)


@njit(**_JIT)
def _pow(a, b):
    return np.power(a, b)


@njit(**_JIT)
def _int(x):
    return np.trunc(x)


@njit(**_JIT)
def _mod(x, m):
    return x - x if m < SMALL_VENSIM else x - m * np.trunc(x / m)


@njit(**_JIT)
def _quantum(a, b):
    return a if b < SMALL_VENSIM else b * np.trunc(a / b)


@njit(**_JIT)
def _xidz(a, b, x):
    return x if np.abs(b) < SMALL_VENSIM else a / b


@njit(**_JIT)
def _zidz(a, b):
    return 0.0 if np.abs(b) < SMALL_VENSIM else a / b


@njit(**_JIT)
def _step(t, dt, value, tstep):
    return value * (1.0 if (t + dt / 2) > tstep else 0.0)


@njit(**_JIT)
def _ramp(t, slope, start, finish=None):
    final = t if finish is None else np.minimum(finish, t)
    return (1.0 if (t + SMALL_VENSIM) > start else 0.0) * slope * (final - start)


@njit(**_JIT)
def _pulse(t, dt, start, width=None, magnitude=None):
    w = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    return out if (start - SMALL_VENSIM <= t) and (t < start + w) else 0.0


@njit(**_JIT)
def _pulse_train(t, dt, start, repeat_time, width=None, end=None, magnitude=None):
    w = 0.5 * dt if width is None else width
    out = 1.0 if magnitude is None else magnitude / dt
    if repeat_time == 0:
        return out if (start - SMALL_VENSIM <= t) and (t < start + w) else 0.0
    started = start <= t
    if end is not None:
        started = started and t < end
    rep = np.mod(t - start + SMALL_VENSIM, repeat_time) < w
    return out if started and rep else 0.0


# ----------------------------------------------------------------------------- lookups
@njit(**_JIT)
def _search(x, a, right):
    """numpy's searchsorted of one value (NaN sorts last): 'left' or ('right' if ``right``)."""
    n = x.shape[0]
    if a != a:
        return n
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if x[mid] < a or (right and x[mid] == a):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(**_JIT)
def _interp(x, y, a):
    """numpy.interp of one value (numpy/_core/src/multiarray/compiled_base.c)."""
    n = x.shape[0]
    if a != a:
        return a
    if n == 1:
        return y[0]
    if a < x[0]:
        return y[0]
    if a > x[n - 1]:
        return y[n - 1]
    j = _search(x, a, True) - 1
    if j >= n - 1:
        return y[n - 1]
    if x[j] == a:
        return y[j]
    slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j])
    r = slope * (a - x[j]) + y[j]
    if r != r:
        r = slope * (a - x[j + 1]) + y[j + 1]
        if r != r and y[j] == y[j + 1]:
            r = y[j]
    return r


@njit(**_JIT)
def _linear(x, y, a, clip):
    n = x.shape[0]
    hi = min(max(_search(x, a, False), 1), n - 1)
    lo = hi - 1
    w = (a - x[lo]) / (x[hi] - x[lo])
    if clip:
        w = min(max(w, 0.0), 1.0) if w == w else w
    return y[lo] + w * (y[hi] - y[lo])


@njit(**_JIT)
def _hold(x, y, a):
    n = x.shape[0]
    return y[min(max(_search(x, a, True) - 1, 0), n - 1)]


def _lookup(x, y, arg, mode):
    """Table lookup (see the module docstring); compiled through the overload below."""
    raise NotImplementedError("_lookup runs inside the compiled kernel only")


@overload(_lookup, prefer_literal=True)
def _lookup_impl(x, y, arg, mode):
    if not isinstance(mode, types.StringLiteral):
        return None
    kind = mode.literal_value
    per_sample = isinstance(y, types.Array) and y.ndim == 2
    if kind == "hold_backward":
        if per_sample:
            return lambda x, y, arg, mode: _hold(x, y[0], arg)
        return lambda x, y, arg, mode: _hold(x, y, arg)
    if kind == "extrapolate":
        if per_sample:
            return lambda x, y, arg, mode: _linear(x, y[0], arg, False)
        return lambda x, y, arg, mode: _linear(x, y, arg, False)
    if per_sample:
        return lambda x, y, arg, mode: _linear(x, y[0], arg, True)
    return lambda x, y, arg, mode: _interp(x, y, arg)


# ----------------------------------------------------------------------------- delays
@njit(**_JIT)
def _stack(x, k):
    return np.full(k, x)


@njit(**_JIT)
def _shift_in(first, arr):
    out = np.empty_like(arr)
    out[0] = first
    out[1:] = arr[:-1]
    return out


@njit(**_JIT)
def _uniform(x, what, name):
    return x


@njit(**_JIT)
def _check_order(order, dt, delay_time, name):
    if order * dt > delay_time:
        raise ValueError("DELAY: delay time shorter than order*TIME STEP")


@njit(**_JIT)
def _delayn_order(order, dt, delay_time, name):
    k = int(order)
    while k * dt > delay_time:
        k -= 1
    return k


@njit(**_JIT)
def _fixed_order(delay_time, dt, name):
    return int(round(max(delay_time / dt, 1.0) + SMALL_VENSIM))
