"""Model layer: the model and its declarations, read.

Rooms: :mod:`.equations` (the .mdl through PySD, its graph, views and sketch),
:mod:`.declarations` (model/*.yaml and the history, one reader per file), :mod:`.cache` (the
per-user cache). See ARCHITECTURE.md.
"""
