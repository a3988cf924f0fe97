"""The per-user cache folder and its signed files."""
