"""The plan's outcomes of a run: targets met, scenarios side by side, what a scenario sets."""
