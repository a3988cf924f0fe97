"""Sobol indices from a Saltelli design, vectorised over parameters and outputs.

The estimators are SALib's (``SALib.analyze.sobol``: first order and total order after
Saltelli et al. 2010, second order after Saltelli 2002, each normalised by the variance of the
A and B rows, bootstrap confidence half-widths ``Z * std`` over resamples of the N base rows),
computed with the same arithmetic in the same order, so the same seed gives the same numbers
(the tests compare with SALib to 1e-12). What differs is the cost: one array expression over
all parameters instead of a Python loop per parameter, and, for second order, one matrix product
per resample instead of a loop over the D(D-1)/2 pairs; :func:`total_order_points` gives the
total-order point estimates of many outputs at once (the per-year indices), with no bootstrap.

``y`` is the output over the design's rows in SALib's order: per base row, ``A``, ``AB_1`` ..
``AB_D``, (``BA_1`` .. ``BA_D`` in a second-order design), ``B``.
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(float).eps
#: parameters per block of the bootstrap (bounds the (N, resamples, block) temporaries)
BLOCK = 16


def split(y: np.ndarray, dim: int, second_order_design: bool) -> tuple[np.ndarray, ...]:
    """``y`` (K, n) normalised per row as SALib does -> ``A`` (K, N), ``B`` (K, N),
    ``AB`` (K, D, N), ``BA`` (K, D, N) or None; rows contiguous."""
    step = 2 * dim + 2 if second_order_design else dim + 2
    k, n = y.shape
    if n % step:
        raise ValueError(f"{n} outputs do not fill a Saltelli design of {dim} parameters "
                         f"(second order: {second_order_design})")
    mean = y.mean(axis=1, keepdims=True)
    std = y.std(axis=1, keepdims=True)
    y = ((y - mean) / std).reshape(k, n // step, step)
    a = np.ascontiguousarray(y[:, :, 0])
    b = np.ascontiguousarray(y[:, :, step - 1])
    ab = np.ascontiguousarray(y[:, :, 1:dim + 1].transpose(0, 2, 1))
    ba = (np.ascontiguousarray(y[:, :, dim + 1:2 * dim + 1].transpose(0, 2, 1))
          if second_order_design else None)
    return a, b, ab, ba


def _ratio(num: np.ndarray, var: np.ndarray) -> np.ndarray:
    return np.divide(num, var, out=np.zeros_like(num), where=var > EPS)


def total_order_points(y: np.ndarray, dim: int, *, second_order_design: bool) -> np.ndarray:
    """Total-order point estimates ``ST`` of each row of ``y`` (K, n): array (K, D)."""
    a, b, ab, _ = split(np.atleast_2d(np.asarray(y, dtype=float)), dim, second_order_design)
    ab_rows = np.concatenate([a, b], axis=1)
    var = ab_rows.var(axis=1)
    const = np.ptp(ab_rows, axis=1) <= EPS
    st = _ratio(0.5 * np.mean((a[:, None, :] - ab) ** 2, axis=2), var[:, None])
    st[const] = 0.0
    return st


def _rng(seed: int | None):
    # SALib: a seed of None or 0 means the global generator
    return np.random.default_rng(seed).integers if seed else np.random.randint


def analyse(y: np.ndarray, dim: int, *, second_order_design: bool, calc_second_order: bool,
            num_resamples: int = 100, conf_level: float = 0.95,
            seed: int | None = None) -> dict[str, np.ndarray]:
    """Sobol indices of one output ``y`` (n,): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (D,)
    and, with ``calc_second_order`` (a second-order design), ``S2`` and ``S2_conf`` (D, D),
    upper triangle set, the rest NaN, as SALib gives them."""
    from scipy.stats import norm

    if calc_second_order and not second_order_design:
        raise ValueError("second-order indices need a second-order Saltelli design")
    if not 0 < conf_level < 1:
        raise ValueError("conf_level must be between 0 and 1")
    a, b, ab, ba = (x[0] if x is not None else None
                    for x in split(np.asarray(y, dtype=float)[None, :], dim, second_order_design))
    n = a.shape[0]
    r = _rng(seed)(n, size=(n, num_resamples))
    z = norm.ppf(0.5 + conf_level / 2)
    out = {"S1": _first(a, ab, b), "ST": _total(a, ab, b)}
    ar, br = a[r], b[r]                                   # (N, R)
    ab_boot = np.concatenate([ar, br])
    var_r = np.var(ab_boot, axis=0)
    const_r = np.ptp(ab_boot) <= EPS
    s1_all = np.empty((dim, num_resamples))
    st_all = np.empty((dim, num_resamples))
    for lo in range(0, dim, BLOCK):
        hi = min(dim, lo + BLOCK)
        abr = ab[lo:hi].T[r]                              # (N, R, block)
        if const_r:
            s1_all[lo:hi] = st_all[lo:hi] = 0.0
            continue
        s1_all[lo:hi] = _ratio(np.mean(br[:, :, None] * (abr - ar[:, :, None]), axis=0),
                               var_r[:, None]).T
        st_all[lo:hi] = _ratio(0.5 * np.mean((ar[:, :, None] - abr) ** 2, axis=0),
                               var_r[:, None]).T
    zero = const_r  # SALib: no spread in the resampled A and B rows -> confidence 0
    out["S1_conf"] = np.zeros(dim) if zero else z * s1_all.std(axis=1, ddof=1)
    out["ST_conf"] = np.zeros(dim) if zero else z * st_all.std(axis=1, ddof=1)
    if calc_second_order:
        out["S2"], out["S2_conf"] = _second(a, b, ab, ba, out["S1"], s1_all, r, z, const_r)
    return out


def _first(a: np.ndarray, ab: np.ndarray, b: np.ndarray) -> np.ndarray:
    """First-order point estimates (D,) from ``a``, ``b`` (N,) and ``ab`` (D, N)."""
    y = np.concatenate([a, b])
    if np.ptp(y) <= EPS:
        return np.zeros(ab.shape[0])
    return _ratio(np.mean(b * (ab - a), axis=1), np.full(ab.shape[0], np.var(y)))


def _total(a: np.ndarray, ab: np.ndarray, b: np.ndarray) -> np.ndarray:
    y = np.concatenate([a, b])
    if np.ptp(y) <= EPS:
        return np.zeros(ab.shape[0])
    return _ratio(0.5 * np.mean((a - ab) ** 2, axis=1), np.full(ab.shape[0], np.var(y)))


def _second(a, b, ab, ba, s1, s1_all, r, z, const_r) -> tuple[np.ndarray, np.ndarray]:
    """S2 and its confidence half-width: ``mean(BA_j AB_k - A B) / var - S1_j - S1_k`` for
    every pair at once (a matrix product), on the design and on each resample."""
    dim, n = ab.shape
    full = np.full((dim, dim), np.nan)
    iu = np.triu_indices(dim, k=1)
    s2, s2_conf = full.copy(), full.copy()
    y = np.concatenate([a, b])
    if np.ptp(y) <= EPS:
        s2[iu] = 0.0
    else:
        v = (ba @ ab.T) / n - np.mean(a * b)
        s2[iu] = (_ratio(v, np.full_like(v, np.var(y))) - s1[:, None] - s1[None, :])[iu]
    boots = np.empty((r.shape[1], len(iu[0])))
    for k in range(r.shape[1]):
        rows = r[:, k]
        ak, bk = a[rows], b[rows]
        yk = np.concatenate([ak, bk])
        if const_r and np.ptp(yk) <= EPS:
            boots[k] = 0.0
            continue
        v = (ba[:, rows] @ ab[:, rows].T) / n - np.mean(ak * bk)
        sj = s1_all[:, k]
        boots[k] = (_ratio(v, np.full_like(v, np.var(yk))) - sj[:, None] - sj[None, :])[iu]
    s2_conf[iu] = z * boots.std(axis=0, ddof=1)
    return s2, s2_conf
