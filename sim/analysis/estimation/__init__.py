"""Estimation from the history: likelihood, sampler, posterior, calibration and fit statistics."""
