"""Reports: everything one command writes (run, uncertainty, sensitivity, backtest, calibration)."""
