"""Forecasts over time: rolling-origin backtest, stored vintages and their scores."""
