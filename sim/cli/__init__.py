"""The ``plansim`` command line: one module per command, registered in :mod:`sim.cli.main`."""
