"""Sample a posterior with emcee 3 (affine-invariant ensemble MCMC), every walker in one batch.

Why emcee: a maintained, pure-numpy library (Foreman-Mackey et al. 2013) whose ensemble moves
need no gradients (the batch engine has none) and evaluate a whole half-ensemble at once
(``vectorize=True``): each call of the log-probability is ONE batch-engine run of all the
walkers it moves over the history years, which the batch engine makes cheap (a hundred runs
over twelve years in about 20 ms). Differential-evolution moves (``DEMove`` 80%, with
``DESnookerMove`` 20%, ter Braak and Vrugt 2008) mix better than the default stretch move in
the tens of dimensions of this model. Convergence is read from emcee's integrated
autocorrelation time: burn-in is ``BURN_TAUS x`` the largest time, thinning half of it.

The parameters are sampled in an unbounded space: ``z = logit(u)``, ``u = F(x)`` the prior CDF
of each assumption (declared shape and range). A uniform prior on ``u`` is the declared prior
on ``x``; on ``z`` it is the logistic density, ``log u + log(1 - u)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.errors import CalibrationError

BURN_TAUS = 3.0      # burn-in = this x the largest integrated autocorrelation time
MIN_CHAIN_TAUS = 50  # emcee's rule: a chain of at least 50 tau gives a reliable estimate of tau


def logit(u: np.ndarray) -> np.ndarray:
    u = np.clip(u, 1e-12, 1 - 1e-12)
    return np.log(u) - np.log1p(-u)


def expit(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, float)))


def log_prior_z(z: np.ndarray) -> np.ndarray:
    """Log density of ``z`` when ``u = expit(z)`` is uniform (the declared prior), ``(W,)``."""
    z = np.atleast_2d(z)
    return -(np.logaddexp(0.0, z) + np.logaddexp(0.0, -z)).sum(axis=1)


@dataclass
class Chain:
    """The kept draws in the unit space ``u`` (n, D) and the sampler's diagnostics."""

    u: np.ndarray
    log_prob: np.ndarray       # (n,) log posterior of each kept draw
    tau: np.ndarray            # (D,) integrated autocorrelation time per parameter (steps)
    acceptance: float          # mean acceptance fraction of the walkers
    walkers: int
    steps: int
    burn: int
    thin: int
    converged: bool            # steps >= MIN_CHAIN_TAUS x max(tau)


def sample(log_likelihood: Callable[[np.ndarray], np.ndarray], dim: int, *, walkers: int,
           steps: int, draws: int, seed: int, init_pool: int = 20,
           say: Callable[[str], None] | None = None) -> Chain:
    """Sample ``u`` in ``(0, 1)^dim`` with a uniform prior and ``log_likelihood(U (W, dim)) ->
    (W,)`` (evaluated on whole blocks of walkers). The walkers start at the best ``walkers`` of
    ``init_pool x walkers`` prior draws (burn-in is discarded anyway). Deterministic for a seed.
    """
    import emcee

    say = say or (lambda _m: None)
    walkers = walkers or 2 * dim + 2
    if walkers < 2 * dim:
        raise CalibrationError(f"sampler.walkers: {walkers} is fewer than twice the "
                               f"{dim} estimated assumptions; allowed: >= {2 * dim} or 0 (auto)")
    rng = np.random.default_rng(seed)
    pool = rng.uniform(0.001, 0.999, size=(init_pool * walkers, dim))
    lp = np.concatenate([log_likelihood(block) for block in np.array_split(
        pool, max(1, len(pool) // 512))])
    finite = np.isfinite(lp)
    if finite.sum() < walkers:
        raise CalibrationError(f"estimation: only {int(finite.sum())} of {len(pool)} prior "
                               "draws have a finite likelihood; allowed: a wider "
                               "discrepancy_sd or data the model can reach")
    start = pool[np.argsort(-np.where(finite, lp, -np.inf))[:walkers]]

    def log_prob(z: np.ndarray) -> np.ndarray:
        out = log_prior_z(z) + log_likelihood(expit(z))
        return np.where(np.isfinite(out), out, -np.inf)

    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(walkers, dim, log_prob, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(seed % 2 ** 32).get_state()
    report = max(steps // 5, 1)
    for k, _ in enumerate(sampler.sample(logit(start), iterations=steps), 1):
        if k % report == 0:
            say(f"  step {k}/{steps}, acceptance {np.mean(sampler.acceptance_fraction):.2f}")
    tau = np.asarray(sampler.get_autocorr_time(tol=0), float)
    tmax = float(np.nanmax(tau)) if np.isfinite(tau).any() else float(steps)
    burn = min(int(np.ceil(BURN_TAUS * tmax)), steps // 2)
    thin = max(1, int(tmax // 2))
    z = sampler.get_chain(discard=burn, thin=thin, flat=True)
    lpk = sampler.get_log_prob(discard=burn, thin=thin, flat=True)
    if len(z) > draws:   # evenly spaced over the kept chain, so every part is represented
        idx = np.linspace(0, len(z) - 1, draws).round().astype(int)
        z, lpk = z[idx], lpk[idx]
    return Chain(expit(z), lpk, tau, float(np.mean(sampler.acceptance_fraction)), walkers,
                 steps, burn, thin, bool(steps >= MIN_CHAIN_TAUS * tmax))
