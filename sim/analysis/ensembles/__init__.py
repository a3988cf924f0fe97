"""Ensembles: sampling the assumptions, the conditioned ensemble every command reports, running it, percentiles and probabilities."""
