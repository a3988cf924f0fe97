from sim.cli.main import entry

if __name__ == "__main__":   # not when a spawned worker process imports this module
    raise SystemExit(entry())
