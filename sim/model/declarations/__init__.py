"""Reading the declarations: the YAML and CSV files of model/ (levers, targets, sectors, labels, caveats, loops, history, calibration, checks)."""
