"""Output plumbing: atomic writing, folders plansim owns, the figure render pool."""
