"""Scenario files: a named set of overrides of the baseline, validated on load."""

from sim.scenarios.loader import Scenario, list_scenarios, load_scenario, resolve_scenario_path

__all__ = ["Scenario", "list_scenarios", "load_scenario", "resolve_scenario_path"]
