"""Diagnostics of the model: behaviour checks, sample screening, units, the step check and feedback loops."""
