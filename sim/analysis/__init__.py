"""Analysis layer: what the runs mean.

Rooms: :mod:`.outcomes` (targets met, comparisons), :mod:`.estimation` (the posterior from the
history), :mod:`.forecasts` (backtest, vintages, scores), :mod:`.ensembles` (sampling, the
conditioned ensemble, uncertainty), :mod:`.sensitivity` (one module per method),
:mod:`.decisions` (what it takes, returns, discovery), :mod:`.diagnostics` (checks, units,
step, loops). See ARCHITECTURE.md.
"""
