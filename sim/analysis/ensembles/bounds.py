"""The bounds of a request's counts (a sample count, a chunk size, a seed), declared once for
the command line's argument checks and the library's (the Python API gets the same refusal).
Imports nothing heavy: the command line's parser uses it."""

from __future__ import annotations

import numbers
from typing import Any

from sim.errors import UncertaintyError, excerpt

#: the seed of every command's default draw (the same seed gives the same numbers); here, not
#: in sampling (which imports NumPy), because the command line's parser shows it
DEFAULT_SEED = 20240101
#: largest count accepted for samples and chunk sizes, and largest seed
MAX_COUNT = 2**31 - 1
MAX_SEED = 2**32 - 1


def check_whole(value: Any, what: str, lo: int, hi: int) -> int:
    """``value`` if it is a whole number in ``[lo, hi]`` (the command line's bound for a sample
    count, a chunk size, a seed); else :class:`UncertaintyError`, one line."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UncertaintyError(f"{what} {excerpt(value)}: not a whole number; allowed: "
                               f"{lo} to {hi:,}")
    if not lo <= value <= hi:
        raise UncertaintyError(f"{what} {excerpt(value)}: out of range; allowed: {lo} to {hi:,}")
    return int(value)


def check_samples(samples: Any, seed: Any = None) -> int:
    """A sample count and a seed within the bounds, the count first; returns the samples.
    A seed of ``None`` is the declared default (the canonical ensemble's seed of
    scenarios/uncertainty.yaml, resolved by the caller) and passes."""
    count = check_whole(samples, "samples", 1, MAX_COUNT)
    if seed is not None:
        check_whole(seed, "seed", 0, MAX_SEED)
    return count
